/**
 * The webhooks' secrets: Secrets Manager GetSecretValue (SecretString) or SSM GetParameter (WithDecryption), kept
 * for 5 minutes (a rotated secret is picked up within that); locally, `local.secrets` of the configuration.
 * Errors name the reference, never a value.
 */
import type { SecretSource } from '../../notifications/ports';
import type { SignedRequests } from './signed-request';

type Ref = Parameters<SecretSource['get']>[0];
const TTL_MS = 300_000;

export class AwsSecretSource implements SecretSource {
  private readonly cache = new Map<string, { value: string; until: number }>();

  constructor(private readonly requests: SignedRequests, private readonly now: () => number = Date.now) {}

  async get(ref: Ref): Promise<string> {
    const key = 'secretsManager' in ref ? `sm:${ref.secretsManager}` : `ssm:${ref.ssmParameter}`;
    const hit = this.cache.get(key);
    if (hit && hit.until > this.now()) return hit.value;
    const value = 'secretsManager' in ref ? await this.secret(ref.secretsManager) : await this.parameter(ref.ssmParameter);
    this.cache.set(key, { value, until: this.now() + TTL_MS });
    return value;
  }

  private async secret(arn: string): Promise<string> {
    const out = await this.call('secretsmanager', 'secretsmanager.GetSecretValue', { SecretId: arn }, `secret ${arn}`);
    if (typeof out.SecretString !== 'string' || !out.SecretString) throw new Error(`secret ${arn} has no SecretString`);
    return out.SecretString;
  }

  private async parameter(name: string): Promise<string> {
    const out = await this.call('ssm', 'AmazonSSM.GetParameter', { Name: name, WithDecryption: true }, `parameter ${name}`);
    const value = (out.Parameter as { Value?: unknown } | undefined)?.Value;
    if (typeof value !== 'string' || !value) throw new Error(`parameter ${name} has no value`);
    return value;
  }

  private async call(service: string, target: string, input: Record<string, unknown>, what: string): Promise<Record<string, unknown>> {
    const response = await this.requests.post(service, { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target }, JSON.stringify(input), 5000);
    let out: Record<string, unknown> = {};
    try {
      out = JSON.parse(response.body) as Record<string, unknown>;
    } catch {
      // not JSON: reported below by its status
    }
    const type = typeof out.__type === 'string' ? out.__type.split('#').pop() : `HTTP ${response.status}`;
    if (response.status !== 200) throw new Error(`cannot read the ${what}: ${type}`);
    return out;
  }
}

/** The local stack's: the configuration's `local.secrets`, by the ARN or parameter name the secret has in AWS. */
export class LocalSecretSource implements SecretSource {
  constructor(private readonly secrets: Readonly<Record<string, string>>) {}

  get(ref: Ref): Promise<string> {
    const name = 'secretsManager' in ref ? ref.secretsManager : ref.ssmParameter;
    const value = this.secrets[name];
    return value === undefined ? Promise.reject(new Error(`local.secrets has no value for ${name}`)) : Promise.resolve(value);
  }
}
