/**
 * What a notification may be sent to: an SNS topic, or an HTTPS webhook signed with a secret kept in Secrets
 * Manager or SSM Parameter Store. The grammar of each, for the configuration's validation and for packaging's
 * IAM grants (sns:Publish, secretsmanager:GetSecretValue, ssm:GetParameter on exactly these resources).
 */

export const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}(?:\.fifo)?$/;
/** A secret's full ARN, with the 6 characters Secrets Manager adds to its name: IAM grants GetSecretValue on exactly that. */
export const SECRETS_MANAGER_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}-[A-Za-z0-9]{6}$/;
/** A fully qualified parameter name (the notifier's grant is on `parameter/NAME`). */
export const SSM_PARAMETER_NAME = /^(?:\/[A-Za-z0-9_.-]+){1,15}$/;

/** Loopback hosts, the only ones a plain-http webhook may name (the local stack, tests). */
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export const isLoopbackUrl = (url: URL): boolean => LOOPBACK.has(url.hostname);

/**
 * Why a webhook URL is refused: it must be https://, with a host, no user:password (a secret in the
 * configuration and the audit trail), no fragment; http:// only to loopback (the local stack; packaging refuses it).
 */
export function webhookUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute https:// URL';
  }
  if (value.length > 2048) return 'must be at most 2048 characters';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackUrl(url))) return 'must be an https:// URL (http:// only to 127.0.0.1, localhost or [::1], for the local stack)';
  if (url.username || url.password) return 'must not carry a user name or password: sign with `secret` instead';
  if (url.hash) return 'must not have a #fragment';
  return undefined;
}

/** What the audit trail and the logs say of a webhook: its origin only, since a path or query may itself be a credential (Slack's are). */
export const webhookOrigin = (value: string): string => {
  try {
    return new URL(value).origin;
  } catch {
    return '(invalid URL)';
  }
};
