/**
 * The process environment, read and validated in one place at start (fail fast, with every problem named).
 * Nothing else in src/ reads process.env.
 */
import * as z from '../util/zod';
import { ConfigError } from '../errors';
import { DYNAMODB_TABLE_NAME, KMS_KEY_ARN, REGION, ROLE_ARN, S3_BUCKET_NAME, STATE_MACHINE_ARN } from '../identifiers';
import { DEFAULT_POLLING, POLLING_LIMITS, type PollingPolicy } from '../jobs/workflow-input';

const seconds = (fallback: number, max: number) => z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(max)), fallback);
const matching = (pattern: RegExp, message: string) => z.string().check(z.regex(pattern, message));

const envSchema = z.object({
  AWS_REGION: z._default(matching(REGION, 'must be an AWS region'), 'us-east-1'),
  /** The gateway's configuration, as the JSON that packaging writes and ships with the functions. */
  EMR_GATEWAY_CONFIG: z._default(z.string().check(z.minLength(1)), 'config/gateway.json'),
  JOBS_TABLE: matching(DYNAMODB_TABLE_NAME, 'must be a DynamoDB table name'),
  AUDIT_TABLE: matching(DYNAMODB_TABLE_NAME, 'must be a DynamoDB table name'),
  /** The KMS HMAC key that seals every audit event, by ARN: events record the ARN and are checked against it. */
  AUDIT_KEY_ID: matching(KMS_KEY_ARN, 'must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY_ID), not an alias'),
  /** The S3 bucket (with Object Lock) of the signed digests of the audit chains' heads. */
  DIGEST_BUCKET: matching(S3_BUCKET_NAME, 'must be an S3 bucket name'),
  /** The KMS signing key (ECC_NIST_P256) of the digests, by ARN. */
  DIGEST_KEY_ID: matching(KMS_KEY_ARN, 'must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY_ID), not an alias'),
  STATE_MACHINE_ARN: z.optional(matching(STATE_MACHINE_ARN, 'must be a Step Functions state machine ARN')),
  /** The role the submit task assumes with SourceIdentity, for clusters that propagate it. */
  SUBMITTER_ROLE_ARN: z.optional(matching(ROLE_ARN, 'must be an IAM role ARN')),
  /** The API's OpenAPI document, as the JSON file packaging writes from the route schemas (the api function only). */
  OPENAPI_DOCUMENT: z.optional(z.string().check(z.minLength(1))),
  /** The role the API assumes with SourceIdentity to ask EMR for an interactive session's credentials (POST /sessions). */
  SESSION_ROLE_ARN: z.optional(matching(ROLE_ARN, 'must be an IAM role ARN')),
  /** The API's base URL (the stage's invoke URL), for the links of the notifications' messages. */
  API_URL: z.optional(z.url()),
  /** Only for the local stack: every SDK client goes there. */
  AWS_ENDPOINT_URL: z.optional(z.url()),
  POLL_INITIAL_SECONDS: seconds(DEFAULT_POLLING.initialSeconds, POLLING_LIMITS.maxInitialSeconds),
  POLL_FACTOR: z._default(z.coerce.number().check(z.gte(POLLING_LIMITS.minFactor), z.lte(POLLING_LIMITS.maxFactor)), DEFAULT_POLLING.factor),
  POLL_MAX_SECONDS: seconds(DEFAULT_POLLING.maxSeconds, POLLING_LIMITS.maxSeconds),
  /** How long a wait for a step's end lasts without the reconciler's heartbeat before the execution polls by itself. */
  POLL_HEARTBEAT_SECONDS: seconds(DEFAULT_POLLING.heartbeatSeconds, POLLING_LIMITS.maxHeartbeatSeconds),
});

export interface GatewayEnv {
  region: string;
  configFile: string;
  jobsTable: string;
  auditTable: string;
  /** The audit key's ARN. */
  auditKeyId: string;
  digestBucket: string;
  /** The digest signing key's ARN. */
  digestKeyId: string;
  stateMachineArn?: string;
  submitterRoleArn?: string;
  /** The OpenAPI document's file (OPENAPI_DOCUMENT). */
  openapiDocument?: string;
  sessionRoleArn?: string;
  /** API_URL: the links in notifications. */
  apiUrl?: string;
  endpoint?: string;
  polling: Required<PollingPolicy>;
}

export function loadEnv(env: NodeJS.ProcessEnv = process.env): GatewayEnv {
  const parsed = z.safeParse(envSchema, env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => ({ file: 'environment', path: i.path.join('.'), message: i.message })));
  }
  const e = parsed.data;
  return {
    region: e.AWS_REGION,
    configFile: e.EMR_GATEWAY_CONFIG,
    jobsTable: e.JOBS_TABLE,
    auditTable: e.AUDIT_TABLE,
    auditKeyId: e.AUDIT_KEY_ID,
    digestBucket: e.DIGEST_BUCKET,
    digestKeyId: e.DIGEST_KEY_ID,
    ...(e.STATE_MACHINE_ARN ? { stateMachineArn: e.STATE_MACHINE_ARN } : {}),
    ...(e.SUBMITTER_ROLE_ARN ? { submitterRoleArn: e.SUBMITTER_ROLE_ARN } : {}),
    ...(e.OPENAPI_DOCUMENT ? { openapiDocument: e.OPENAPI_DOCUMENT } : {}),
    ...(e.SESSION_ROLE_ARN ? { sessionRoleArn: e.SESSION_ROLE_ARN } : {}),
    ...(e.API_URL ? { apiUrl: e.API_URL } : {}),
    ...(e.AWS_ENDPOINT_URL ? { endpoint: e.AWS_ENDPOINT_URL } : {}),
    polling: { initialSeconds: e.POLL_INITIAL_SECONDS, factor: e.POLL_FACTOR, maxSeconds: e.POLL_MAX_SECONDS, heartbeatSeconds: e.POLL_HEARTBEAT_SECONDS },
  };
}

/** What the CLI reads from its environment (besides the AWS SDK's own credential chain variables). */
export interface CliEnvironment {
  endpoint?: string;
  /** The local stack's AWS endpoint (for `logs`). */
  awsEndpoint?: string;
  /** AWS_ENDPOINT_URL, the SDKs' own variable for one endpoint of every service (`doctor` against the local stack). */
  awsEndpointUrl?: string;
  region?: string;
  profile?: string;
  /** How long the client retries a gateway that does not answer (EMR_GATEWAY_RETRY_SECONDS), as given. */
  retrySeconds?: string;
  isTty: boolean;
  /** `emr-gateway local`: its flags' environment variables. */
  local: { config?: string; port?: string; awsPort?: string; dataDir?: string; faults?: string };
  /** The environment the local stack's step processes start from. */
  processEnv: NodeJS.ProcessEnv;
}

export function cliEnvironment(env: NodeJS.ProcessEnv = process.env, stdout: { isTTY?: boolean } = process.stdout): CliEnvironment {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  return {
    ...(env.EMR_GATEWAY_ENDPOINT ? { endpoint: env.EMR_GATEWAY_ENDPOINT } : {}),
    ...(env.EMR_GATEWAY_AWS_ENDPOINT ? { awsEndpoint: env.EMR_GATEWAY_AWS_ENDPOINT } : {}),
    ...(env.AWS_ENDPOINT_URL ? { awsEndpointUrl: env.AWS_ENDPOINT_URL } : {}),
    ...(region ? { region } : {}),
    ...(env.AWS_PROFILE ? { profile: env.AWS_PROFILE } : {}),
    ...(env.EMR_GATEWAY_RETRY_SECONDS ? { retrySeconds: env.EMR_GATEWAY_RETRY_SECONDS } : {}),
    isTty: stdout.isTTY === true && env.TERM !== 'dumb',
    local: {
      ...(env.EMR_GATEWAY_LOCAL_CONFIG ? { config: env.EMR_GATEWAY_LOCAL_CONFIG } : {}),
      ...(env.EMR_GATEWAY_PORT ? { port: env.EMR_GATEWAY_PORT } : {}),
      ...(env.EMR_GATEWAY_AWS_PORT ? { awsPort: env.EMR_GATEWAY_AWS_PORT } : {}),
      ...(env.EMR_GATEWAY_DATA_DIR ? { dataDir: env.EMR_GATEWAY_DATA_DIR } : {}),
      ...(env.EMR_GATEWAY_FAULTS ? { faults: env.EMR_GATEWAY_FAULTS } : {}),
    },
    processEnv: env,
  };
}
