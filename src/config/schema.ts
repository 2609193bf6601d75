/** The gateway's configuration file (YAML), as a zod schema: strict objects, so unknown keys are errors. */
import * as z from '../util/zod';
import { ACCOUNT_ID, AWS_PARTITIONS, clusterIdProblem, EXTERNAL_ID, logUriProblem, PRINCIPAL_ARN, REGION, ROLE_ARN } from '../identifiers';
import { JOB_STATUSES, TERMINAL_STATUSES } from '../jobs/model';
import { ACTIONS_ON_FAILURE, DEFAULT_ACTION_ON_FAILURE } from '../jobs/step-rules';
import { retryPolicySchema } from '../jobs/retry';
import { SECRETS_MANAGER_ARN, SNS_TOPIC_ARN, SSM_PARAMETER_NAME, webhookUrlProblem } from '../notifications/targets';
import { compilePattern, PARAMETER_TYPES } from '../triggers/parameters';

/** An EMR release label, emr-MAJOR.MINOR.PATCH (RunJobFlow's ReleaseLabel). */
export const RELEASE_LABEL = /^emr-\d+\.\d+\.\d+$/;
/** The local EMR's clusters unless configured otherwise: what `aws emr create-cluster --use-default-roles` makes with Spark and Hive. */
export const LOCAL_CLUSTER_DEFAULTS = { releaseLabel: 'emr-7.5.0', applications: ['Spark', 'Hive'], instanceProfile: 'EMR_EC2_DefaultRole', primaryNodes: 1 } as const;

const PARAMETER_NAME = /^[A-Za-z_][\w.-]*$/;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const nameOf = (what: string) => z.string().check(z.regex(NAME, `${what} names are 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit`));
const arnPattern = z.string().check(z.regex(/^arn:[^:]*:[^:]*:[^:]*:[^:]*:.+$/, 'must be an ARN or an ArnLike pattern (arn:partition:service:region:account:resource)'));
const matching = (pattern: RegExp, message: string) => z.string().check(z.regex(pattern, message));
const int = (min: number, max?: number) => z.number().check(z.int(), z.gte(min), ...(max === undefined ? [] : [z.lte(max)]));

/** How the gateway reaches a cluster of another account: the role it assumes there (and the ExternalId that role's trust asks for). */
const accessRoleSchema = z.strictObject({
  arn: matching(ROLE_ARN, 'must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)'),
  externalId: z.optional(matching(EXTERNAL_ID, 'must be 2-1224 characters of letters, digits and _+=,.@:/- (STS ExternalId)')),
});

const clusterSchema = z.strictObject({
  id: z.string().check(
    z.superRefine((id, ctx) => {
      const problem = clusterIdProblem(id);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  ),
  name: z.string().check(z.minLength(1), z.maxLength(256)),
  // Cross-account clusters (validate.ts: accessRole is required exactly when the account is not the gateway's).
  account: z.described(z.optional(matching(ACCOUNT_ID, 'must be a 12-digit AWS account id (quote it in YAML)')), "the cluster's account; the gateway's if not given"),
  accessRole: z.described(z.optional(accessRoleSchema), 'the role the gateway assumes in the cluster\'s account for every EMR call on it'),
  runtimeRoles: z.described(z.boolean(), 'the security configuration enables runtime roles (EnableApplicationScopedIAMRole)'),
  propagateSourceIdentity: z._default(z.boolean(), false),
  stepConcurrencyLevel: z.described(z._default(int(1, 256), 1), 'used by the local EMR'),
  // Where EMR archives the steps' logs (the cluster's LogUri, as DescribeCluster shows it): GET /jobs/{id}/logs reads
  // them there, and the gateway's IAM grant (s3:GetObject) is made for exactly this prefix, so it is configured here.
  logUri: z.described(
    z.optional(
      z.string().check(
        z.superRefine((uri, ctx) => {
          const problem = logUriProblem(uri);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }),
      ),
    ),
    "the cluster's LogUri (s3://BUCKET/PREFIX/): where GET /jobs/{id}/logs reads the steps' logs; without it, they cannot be read through the gateway",
  ),
  // CONTINUE only unless the cluster's owners opt in: on a shared cluster, any other action lets one tenant's
  // failing step cancel everyone's pending steps (or end the cluster).
  allowedActionsOnFailure: z.described(
    z._default(
      z
        .array(z.enum(ACTIONS_ON_FAILURE, { error: (iss) => `must be one of ${ACTIONS_ON_FAILURE.join(', ')} (got ${JSON.stringify(iss.input)})` }))
        .check(z.minLength(1)),
      [DEFAULT_ACTION_ON_FAILURE],
    ),
    'the actionOnFailure values requests may ask for on this cluster',
  ),
  // Applied to a request (or a template's) that has no `retry` of its own, before the decision, so a policy's
  // emr-gateway:RetryMaxAttempts sees it; `retry: {maxAttempts: 1, ...}` in a request opts out.
  defaultRetry: z.described(
    z.optional(retryPolicySchema()),
    "the retry policy of a job submitted without one ({maxAttempts, intervalSeconds, backoff?, on?}); not applied to a step whose actionOnFailure terminates the cluster",
  ),
  // Admission (jobs/queue.ts): below EMR's own limit of 256 pending and running steps per cluster, so the gateway's
  // jobs wait in its fair queue, not in EMR's submission-order one; the queue is one DynamoDB item (400 KB at most).
  maxActiveJobs: z.described(z.optional(int(1, 256)), 'jobs of this gateway active on the cluster at once (ACCEPTED to the end of the step); default 200; more wait QUEUED'),
  maxQueuedJobs: z.described(z.optional(int(0, 2000)), 'jobs that may wait QUEUED for the cluster; default 1000; beyond them a submission is refused with 429'),
  // How the local EMR makes the cluster (in AWS the cluster is what it is: `emr-gateway doctor` checks it).
  local: z.described(
    z._default(
      z.strictObject({
        releaseLabel: z._default(matching(RELEASE_LABEL, 'must be an EMR release label such as emr-7.5.0'), LOCAL_CLUSTER_DEFAULTS.releaseLabel),
        applications: z._default(z.array(matching(/^[A-Za-z][\w-]{0,63}$/, 'must be an application name such as Spark')), [...LOCAL_CLUSTER_DEFAULTS.applications]),
        instanceProfile: z._default(matching(/^[\w+=,.@-]{1,128}$/, 'must be an IAM instance profile name'), LOCAL_CLUSTER_DEFAULTS.instanceProfile),
        primaryNodes: z._default(z.union([z.literal(1), z.literal(3)], { error: 'must be 1, or 3 for a multi-primary (high-availability) cluster' }), 1),
      }),
      { ...LOCAL_CLUSTER_DEFAULTS, applications: [...LOCAL_CLUSTER_DEFAULTS.applications] },
    ),
    'how the local EMR describes the cluster; unused in AWS',
  ),
});

const principalSchema = z.strictObject({
  match: z.described(arnPattern, 'ArnLike pattern on the caller (an assumed-role session matches as its role ARN)'),
  policies: z._default(z.array(z.string().check(z.minLength(1))), []),
  tags: z._default(z.record(z.string().check(z.minLength(1), z.maxLength(128)), z.string().check(z.maxLength(256))), {}),
  sessionNames: z.described(
    z._default(
      z.enum(['verified', 'caller-chosen'], { error: 'must be verified (AWS sets the session names, as for IAM Identity Center roles) or caller-chosen' }),
      'caller-chosen',
    ),
    'whether an assumed-role session name is a person (aws:SourceIdentity, the owner) or what the caller chose',
  ),
});

const policyRefSchema = z.strictObject({ file: z.string().check(z.minLength(1)) });
/** Inline policy documents are checked by the policy compiler, which knows IAM's grammar and reports paths. */
const policySchema = z.union([policyRefSchema, z.record(z.string(), z.unknown())]);

const parameterSchema = z.strictObject({
  type: z._default(z.enum(PARAMETER_TYPES), 'string'),
  pattern: z.described(
    z.optional(
      z.string().check(
        z.minLength(1),
        z.superRefine((pattern, ctx) => {
          const re = compilePattern(pattern);
          if (typeof re === 'string') ctx.addIssue({ code: 'custom', message: `is not a regular expression: ${re}` });
        }),
      ),
    ),
    'a JavaScript regular expression (Unicode) the whole value must match',
  ),
  maxLength: z.optional(int(0)),
  description: z.optional(z.string().check(z.maxLength(1024))),
});

/** A POST /jobs body with `${param}` placeholders, and the declarations of its parameters (not part of the body). */
const templateSchema = z.catchall(
  z.object({
    parameters: z.optional(z.record(matching(PARAMETER_NAME, 'parameter names are a letter or _, then letters, digits, _, . or -'), parameterSchema)),
  }),
  z.unknown(),
);

const scheduleSchema = z.strictObject({
  name: nameOf('schedule'),
  schedule: matching(/^(cron|rate)\(.+\)$/, 'must be cron(...) or rate(...) (EventBridge syntax)'),
  template: z.string().check(z.minLength(1)),
  params: z._default(z.record(z.string(), z.string()), {}),
  principal: arnPattern,
});

const triggerSchema = z.strictObject({
  name: nameOf('trigger'),
  eventPattern: z.record(z.string(), z.unknown()),
  template: z.string().check(z.minLength(1)),
  params: z._default(z.record(z.string(), z.string()), {}),
  principal: arnPattern,
});

/** Where a webhook's signing secret is kept: Secrets Manager or SSM Parameter Store, read by the notifier's role alone. */
const secretRefSchema = z.union(
  [
    z.strictObject({ secretsManager: matching(SECRETS_MANAGER_ARN, "must be the secret's full ARN, with the 6 characters Secrets Manager adds to its name (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-xxxxxx, as `aws secretsmanager describe-secret` shows it): IAM grants GetSecretValue on exactly that ARN") }),
    z.strictObject({ ssmParameter: matching(SSM_PARAMETER_NAME, 'must be an SSM parameter name starting with / (a SecureString, e.g. /emr-gateway/webhook-secret)') }),
  ],
  { error: 'must be { secretsManager: SECRET_ARN } or { ssmParameter: /NAME } (locally the value comes from local.secrets)' },
);

const notificationSchema = z.strictObject({
  name: nameOf('notification'),
  states: z.described(
    z._default(z.array(z.enum(JOB_STATUSES, { error: (iss) => `must be a job status: ${JOB_STATUSES.join(', ')} (got ${JSON.stringify(iss.input)})` })).check(z.minLength(1)), [...TERMINAL_STATUSES]),
    'the job states that send it; default every terminal state',
  ),
  // Which jobs get it without asking (all criteria must hold; values of one are alternatives). Without `jobs`, only
  // the jobs whose request names it in `notify` (as the policy allows) get it.
  jobs: z.described(
    z.optional(
      z.strictObject({
        principals: z.optional(z.array(arnPattern).check(z.minLength(1))),
        clusters: z.optional(z.array(z.string().check(z.minLength(1))).check(z.minLength(1))),
        tags: z.optional(z.record(z.string().check(z.minLength(1), z.maxLength(128)), z.string().check(z.maxLength(256)))),
      }),
    ),
    'the jobs it applies to by itself: by owner principal (ArnLike), cluster id, tags (all of them)',
  ),
  webhook: z.optional(
    z.strictObject({
      url: z.string().check(
        z.superRefine((url, ctx) => {
          const problem = webhookUrlProblem(url);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }),
      ),
      secret: z.described(secretRefSchema, 'the HMAC-SHA256 key the body is signed with (X-Emr-Gateway-Signature)'),
    }),
  ),
  sns: z.optional(z.strictObject({ topicArn: matching(SNS_TOPIC_ARN, 'must be an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)') })),
  retry: z.described(
    z._default(
      z.strictObject({
        attempts: z._default(int(1, 10), 5),
        timeoutSeconds: z._default(int(1, 30), 5),
        backoffSeconds: z._default(int(1, 60), 2),
      }),
      { attempts: 5, timeoutSeconds: 5, backoffSeconds: 2 },
    ),
    'delivery attempts (each recorded on the job\'s audit trail), each one\'s timeout, and the first wait between them (doubled after each, at most 5 minutes)',
  ),
});

/** A principal group's share of each cluster (jobs/queue.ts): the first quota whose `match` holds for the job's owner. */
const quotaSchema = z.strictObject({
  name: nameOf('quota'),
  match: z.described(z.union([arnPattern, z.array(arnPattern).check(z.minLength(1))]), "ArnLike pattern(s) on the job's owner principal (aws:PrincipalArn)"),
  maxActiveJobs: z.described(z.optional(int(1, 256)), "the group's jobs active on one cluster at once"),
  maxQueuedJobs: z.described(z.optional(int(0, 2000)), "the group's jobs waiting on one cluster"),
});

const localCredentialSchema = z.strictObject({
  accessKeyId: matching(/^[A-Z0-9]{16,128}$/, 'must be 16-128 upper-case letters and digits, like an AWS access key id'),
  secretAccessKey: z.string().check(z.minLength(8)),
  principal: matching(PRINCIPAL_ARN, 'must be an IAM or STS principal ARN'),
});

export const configSchema = z.strictObject({
  account: matching(ACCOUNT_ID, 'must be a 12-digit AWS account id (quote it in YAML)'),
  region: matching(REGION, 'must be an AWS region such as us-east-1'),
  partition: z.optional(z.enum(AWS_PARTITIONS)),
  clusters: z.array(clusterSchema).check(z.minLength(1, 'at least one cluster is needed')),
  runtimeRoles: z._default(z.array(z.string()), []),
  principals: z._default(z.array(principalSchema), []),
  policies: z._default(z.record(nameOf('policy'), policySchema), {}),
  templates: z._default(z.record(nameOf('template'), templateSchema), {}),
  schedules: z._default(z.array(scheduleSchema), []),
  triggers: z._default(z.array(triggerSchema), []),
  notifications: z._default(z.array(notificationSchema), []),
  quotas: z.described(z._default(z.array(quotaSchema), []), 'principal groups and their limits on each cluster; callers no quota matches are the group `default`, with only the cluster\'s limits'),
  local: z._default(
    z.strictObject({
      credentials: z._default(z.array(localCredentialSchema), []),
      // The local stack has no Secrets Manager or Parameter Store: the webhooks' secrets by their ARN or parameter name.
      secrets: z._default(z.record(z.string().check(z.minLength(1)), z.string().check(z.minLength(16, 'a webhook secret needs at least 16 characters'))), {}),
    }),
    { credentials: [], secrets: {} },
  ),
});

export type RawConfig = z.output<typeof configSchema>;
export type ClusterConfig = RawConfig['clusters'][number];
export type LocalCredential = RawConfig['local']['credentials'][number];
export type NotificationConfig = RawConfig['notifications'][number];
export type QuotaConfig = RawConfig['quotas'][number];
export type SecretRef = NotificationConfig extends { webhook?: infer W } ? NonNullable<W> extends { secret: infer S } ? S : never : never;
