/**
 * The grammar of every identifier the gateway handles, in one place, imported by config, HTTP, authz, the CLI,
 * packaging and the local stack: partitions, regions, accounts, EMR cluster ids and ARNs, IAM role and
 * principal ARNs, Step Functions ARNs, DynamoDB table names, the gateway's job ids, and STS's rule for a
 * SourceIdentity. Patterns say what is valid; the *Problem functions only explain why a value is not.
 */
import { lengthOf, quote } from './util/validation';

/** EMR's and IAM's limits on identifiers (API reference). Lengths count Unicode code points, as zod does. */
export const ID_LIMITS = {
  /** After `j-`. */
  clusterIdMaxSuffixLength: 254,
  /** AddJobFlowSteps ExecutionRoleArn. */
  roleArnMinLength: 20,
  roleArnMaxLength: 2048,
  /** IAM role path (`/` or `/a/b/`) and role name. */
  rolePathMaxLength: 512,
  roleNameMaxLength: 64,
} as const;

export const AWS_PARTITIONS = ['aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b', 'aws-iso-e', 'aws-iso-f', 'aws-eusc'] as const;
export type AwsPartition = (typeof AWS_PARTITIONS)[number];

export const EXAMPLE_CLUSTER_ID = 'j-2AXXXXXXGAPLF';
export const EXAMPLE_ROLE_ARN = 'arn:aws:iam::123456789012:role/NAME';

/** A whole-string pattern from a fragment (fragments are shared: the role ARN embeds the path and name). */
const whole = (fragment: string, flags?: string): RegExp => new RegExp(`^${fragment}$`, flags);
const PARTITION_FRAGMENT = `(?:${AWS_PARTITIONS.join('|')})`;

export const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
export const ACCOUNT_ID = /^\d{12}$/;
export const CLUSTER_ID = whole(`j-[0-9A-Z]{1,${ID_LIMITS.clusterIdMaxSuffixLength}}`);
// IAM's own grammar: path `/` or `/` printable ASCII `/` (512 at most), name of [\w+=,.@-] (64 at most).
const ROLE_PATH_FRAGMENT = `(?:/|/[\\x21-\\x7E]{1,${ID_LIMITS.rolePathMaxLength - 2}}/)`;
const ROLE_NAME_FRAGMENT = `[\\w+=,.@-]{1,${ID_LIMITS.roleNameMaxLength}}`;
const ROLE_PATH = whole(ROLE_PATH_FRAGMENT);
const ROLE_NAME = whole(ROLE_NAME_FRAGMENT);
export const ROLE_ARN = whole(`arn:${PARTITION_FRAGMENT}:iam::\\d{12}:role${ROLE_PATH_FRAGMENT}${ROLE_NAME_FRAGMENT}`);
/** Who can call: an IAM role or user, an STS session (assumed-role, federated-user), an account root. */
export const PRINCIPAL_ARN = whole(`arn:${PARTITION_FRAGMENT}:(?:iam|sts)::\\d{12}:.+`);
/** A state machine, or one of its versions or aliases (`...:stateMachine:NAME:QUALIFIER`), as StartExecution takes them. */
const SFN_NAME_FRAGMENT = '[^\\s<>{}\\[\\]?*"#%\\\\^|~`$&,;:/\\x00-\\x1F\\x7F-\\x9F]{1,80}';
export const STATE_MACHINE_ARN = whole(`arn:${PARTITION_FRAGMENT}:states:[a-z0-9-]+:\\d{12}:stateMachine:${SFN_NAME_FRAGMENT}(?::${SFN_NAME_FRAGMENT})?`);
/** STS AssumeRole's ExternalId: 2-1224 characters of [\w+=,.@:/-]. */
export const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
export const DYNAMODB_TABLE_NAME = /^[\w.-]{3,255}$/;
/** S3 general purpose bucket names: 3-63 of a-z 0-9 . -, starting and ending with a letter or digit, no "..". */
export const S3_BUCKET_NAME = /^(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/**
 * An EMR cluster's LogUri as the configuration gives it: `s3://BUCKET/PREFIX/` (EMR also writes `s3n://`), the prefix
 * of safe characters only (letters, digits, `! - _ . ' ( )`, segments between slashes), so that it can stand in an
 * IAM resource ARN as it is: no `*` or `?` (IAM wildcards), no `$` (osls variables), no empty or dot segments.
 */
const LOG_URI = /^s3n?:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(\/[A-Za-z0-9!_.'()/-]*)?$/;
export const EXAMPLE_LOG_URI = 's3://aws-logs-123456789012-us-east-1/elasticmapreduce/';

/** A LogUri as bucket and key prefix: the prefix empty or ending with `/` (EMR writes under it as a folder). */
export interface LogUriParts {
  bucket: string;
  prefix: string;
}

/** Why `uri` is not a LogUri the gateway can read (and grant), or undefined if it is one. */
export function logUriProblem(uri: string): string | undefined {
  const example = `an S3 URI such as ${EXAMPLE_LOG_URI}`;
  const scheme = /^([a-z0-9]+):\/\//i.exec(uri)?.[1];
  if (scheme === undefined) return `must be ${example}, got ${quote(uri)}`;
  if (scheme !== 's3' && scheme !== 's3n') return `must start with s3:// (or s3n://), not ${quote(`${scheme}://`)} (${example})`;
  const rest = uri.slice(scheme.length + 3);
  const bucket = rest.split('/')[0] ?? '';
  if (!S3_BUCKET_NAME.test(bucket)) return `${quote(bucket)} is not an S3 bucket name (3-63 of a-z 0-9 . -, starting and ending with a letter or digit)`;
  const prefix = rest.slice(bucket.length + 1);
  if (prefix.split('/').some((segment, i, all) => segment === '' && i < all.length - 1)) return `the key prefix ${quote(prefix)} has an empty segment (//)`;
  if (prefix.split('/').some((segment) => segment === '.' || segment === '..')) return `the key prefix ${quote(prefix)} has a . or .. segment`;
  const bad = /[^A-Za-z0-9!_.'()/-]/.exec(prefix);
  if (bad) return `the key prefix may hold only letters, digits, / and ! - _ . ' ( ) (found ${quote(bad[0])}): it is part of the gateway's IAM grant`;
  return LOG_URI.test(uri) ? undefined : `must be ${example}, got ${quote(uri)}`;
}

/** A valid LogUri (logUriProblem says nothing) as its bucket and prefix. */
export function parseLogUri(uri: string): LogUriParts {
  const m = LOG_URI.exec(uri);
  if (!m) throw new Error(`not a LogUri: ${uri}`);
  const path = (m[2] ?? '').slice(1);
  return { bucket: m[1]!, prefix: path === '' || path.endsWith('/') ? path : `${path}/` };
}

/** A KMS key by ARN (not an alias or a bare id: the audit trail records the ARN KMS answers with, and compares it). */
export const KMS_KEY_ARN = whole(`arn:${PARTITION_FRAGMENT}:kms:[a-z0-9-]+:\\d{12}:key/(?:mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})`);

/** The gateway's job ids: `job-` + 26 Crockford base32 characters (valid Step Functions execution names). */
export const JOB_ID_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
export const JOB_ID = /^job-[0-9a-hjkmnp-tv-z]{26}$/;
export const EXAMPLE_JOB_ID = 'job-0123456789abcdefghjkmnpqrs';
/** The gateway's interactive-session ids (POST /sessions): `ses-` + 26 characters of the same alphabet. */
export const SESSION_ID = /^ses-[0-9a-hjkmnp-tv-z]{26}$/;
export const EXAMPLE_SESSION_ID = 'ses-0123456789abcdefghjkmnpqrs';

/**
 * The audit chains, by id: a job's trail is named by its job id, an interactive session's by its session id; a
 * schedule's or trigger's lost runs are `schedule:NAME` / `trigger:NAME` (triggers/service.ts); a principal's denied
 * reads and cancels are `denials:PRINCIPAL_ARN`. No other chain id can be a job or session id (JOB_ID and SESSION_ID
 * have no `:`, and their prefixes differ), and the API reads only chains named by a job id (GET /jobs/{jobId}/audit)
 * or a session id (GET /sessions/{sessionId}/audit), so none of the others is readable through it.
 */
export const DENIALS_CHAIN_PREFIX = 'denials:';

/** The chain of every denied read and cancel by a principal (the role ARN, not the session: one chain per role). */
export function denialsChain(principalArn: string): string {
  return `${DENIALS_CHAIN_PREFIX}${principalArn}`;
}

/** The ARN of an EMR cluster, the resource of every gateway action. */
export function clusterArn(partition: string, region: string, account: string, clusterId: string): string {
  return `arn:${partition}:elasticmapreduce:${region}:${account}:cluster/${clusterId}`;
}

/** The account a configured cluster lives in: its own `account`, else the gateway's. */
export function clusterAccount(config: { account: string; clusters: readonly { id: string; account?: string | undefined }[] }, clusterId: string): string {
  return config.clusters.find((c) => c.id === clusterId)?.account ?? config.account;
}

/** A configured cluster's ARN, in its own account (policies, audit records and views see the cluster's real ARN). */
export function configuredClusterArn(config: { partition: string; region: string; account: string; clusters: readonly { id: string; account?: string | undefined }[] }, clusterId: string): string {
  return clusterArn(config.partition, config.region, clusterAccount(config, clusterId), clusterId);
}

/** STS's rule for SourceIdentity: 2-64 characters of [\w+=,.@-]. Others become '-'. */
export function sanitizeSourceIdentity(value: string): string {
  const cleaned = value.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
  return cleaned.length >= 2 ? cleaned : cleaned.padEnd(2, '-');
}

/** Why `id` is not a cluster id, or undefined if it is one. */
export function clusterIdProblem(id: string): string | undefined {
  const example = `an EMR cluster id such as ${EXAMPLE_CLUSTER_ID}`;
  if (!id.startsWith('j-')) {
    return id.startsWith('J-') ? `must start with lower-case "j-" (${example})` : `must start with "j-" (${example}), got ${quote(id)}`;
  }
  const suffix = id.slice(2);
  const max = ID_LIMITS.clusterIdMaxSuffixLength;
  if (suffix.length === 0) return `must have 1 to ${max} characters after "j-" (${example})`;
  if (lengthOf(suffix) > max) return `must have at most ${max} characters after "j-" (got ${lengthOf(suffix)})`;
  if (/^[0-9A-Za-z]+$/.test(suffix) && /[a-z]/.test(suffix)) {
    return `must be upper case after "j-": did you mean ${quote(`j-${suffix.toUpperCase()}`)}?`;
  }
  const bad = /[^0-9A-Z]/.exec(suffix);
  if (bad) return `may contain only 0-9 and A-Z after "j-" (found ${quote(bad[0])} at offset ${bad.index + 2})`;
  return undefined;
}

/** Why `arn` is not an IAM role ARN EMR accepts as ExecutionRoleArn, or undefined if it is one. */
export function roleArnProblem(arn: string): string | undefined {
  const length = lengthOf(arn);
  if (length > ID_LIMITS.roleArnMaxLength) return `must be at most ${ID_LIMITS.roleArnMaxLength} characters (got ${length})`;
  const parts = arn.split(':');
  const [prefix, partition = '', service = '', region = '', account = ''] = parts;
  const resource = parts.slice(5).join(':');
  if (prefix !== 'arn' || parts.length < 6) return `not an ARN: expected an IAM role ARN such as ${EXAMPLE_ROLE_ARN}`;
  if (!(AWS_PARTITIONS as readonly string[]).includes(partition)) {
    return `unknown partition ${quote(partition)}: expected one of ${AWS_PARTITIONS.join(', ')}`;
  }
  const roleArn = (role: string) => `arn:${partition}:iam::${account}:role/${role}`;
  const session = /^assumed-role\/([^/]+)\//.exec(resource);
  if (service === 'sts' && session) {
    return `not a role: this is an STS session ARN; use the role ARN ${roleArn(session[1] ?? 'NAME')}, not the session ARN`;
  }
  if (service !== 'iam') return `not an IAM role ARN: the service is ${quote(service)}; expected ${roleArn('NAME')}`;
  if (region !== '') return `IAM ARNs have no region (got ${quote(region)}); expected ${roleArn('NAME')}`;
  if (!/^\d{12}$/.test(account)) return `the account must be 12 digits (got ${quote(account)})`;
  if (resource === 'role') return 'the role name is missing after "role/"';
  if (!resource.startsWith('role/')) {
    const kind = resource.split('/')[0] ?? '';
    return `not a role: this ARN names ${kind ? `an IAM ${quote(kind)}` : 'no resource'}; expected ${roleArn('NAME')}`;
  }
  const pathAndName = resource.slice('role'.length);
  const cut = pathAndName.lastIndexOf('/');
  const path = pathAndName.slice(0, cut + 1);
  const name = pathAndName.slice(cut + 1);
  if (!ROLE_PATH.test(path)) {
    return `invalid role path ${quote(path)}: at most ${ID_LIMITS.rolePathMaxLength} printable ASCII characters without spaces, between slashes`;
  }
  if (name === '') return 'the role name is missing after "role/"';
  if (!ROLE_NAME.test(name)) {
    return `invalid role name ${quote(name)}: 1 to ${ID_LIMITS.roleNameMaxLength} characters of A-Z a-z 0-9 + = , . @ _ -`;
  }
  return undefined;
}
