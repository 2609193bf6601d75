/**
 * The webhooks' secrets: Secrets Manager GetSecretValue (SecretString) or SSM GetParameter (WithDecryption), through
 * the SDK's clients, kept for 5 minutes (a rotated secret is picked up within that); locally, `local.secrets` of the
 * configuration. Errors name the reference and the service's error, never a value.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { SecretSource } from '../../notifications/ports';
import { errorName } from '../aws-errors';

type Ref = Parameters<SecretSource['get']>[0];
const TTL_MS = 300_000;
/** A secret read is on a delivery's path: it gets the attempt's own bound, not the SDK's default. */
const READ_TIMEOUT_MS = 5000;

export class AwsSecretSource implements SecretSource {
  private readonly cache = new Map<string, { value: string; until: number }>();

  constructor(
    private readonly secretsManager: SecretsManagerClient,
    private readonly ssm: SSMClient,
    private readonly now: () => number = Date.now,
  ) {}

  async get(ref: Ref): Promise<string> {
    const key = 'secretsManager' in ref ? `sm:${ref.secretsManager}` : `ssm:${ref.ssmParameter}`;
    const hit = this.cache.get(key);
    if (hit && hit.until > this.now()) return hit.value;
    const value = 'secretsManager' in ref ? await this.secret(ref.secretsManager) : await this.parameter(ref.ssmParameter);
    this.cache.set(key, { value, until: this.now() + TTL_MS });
    return value;
  }

  private async secret(arn: string): Promise<string> {
    const out = await read(`secret ${arn}`, () => this.secretsManager.send(new GetSecretValueCommand({ SecretId: arn }), { abortSignal: AbortSignal.timeout(READ_TIMEOUT_MS) }));
    if (typeof out.SecretString !== 'string' || !out.SecretString) throw new Error(`secret ${arn} has no SecretString`);
    return out.SecretString;
  }

  private async parameter(name: string): Promise<string> {
    const out = await read(`parameter ${name}`, () => this.ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }), { abortSignal: AbortSignal.timeout(READ_TIMEOUT_MS) }));
    const value = out.Parameter?.Value;
    if (typeof value !== 'string' || !value) throw new Error(`parameter ${name} has no value`);
    return value;
  }
}

/** The call, its failure named by the reference and the service's error name (an SDK error's message may quote input). */
async function read<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new Error(`cannot read the ${what}: ${errorName(error)}`, { cause: error });
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
