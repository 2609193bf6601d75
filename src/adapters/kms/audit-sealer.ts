/**
 * The audit trail's MAC over KMS: an HMAC key (KeySpec HMAC_256, KeyUsage GENERATE_VERIFY_MAC), GenerateMac
 * to seal an event and VerifyMac to check one, always HMAC_SHA_256. The key is named by its ARN, which is also
 * what KMS answers with and what each event records: a MAC recorded with any other key id is not the
 * gateway's, and is refused without asking KMS. SDK errors leave as domain errors: retryable → TransientError,
 * an unusable key → AuditKeyError, an invalid MAC → false.
 */
import { GenerateMacCommand, VerifyMacCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { AuditSeal, AuditSealer } from '../../audit/ports';
import { AuditKeyError, IntegrityError } from '../../errors';
import { errorName, isRetryable, translateAwsError } from '../aws-errors';

const MAC_ALGORITHM = 'HMAC_SHA_256';
/** HMAC-SHA-256 is 32 bytes: anything else cannot be one of the key's MACs. */
const MAC_BYTES = 32;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export class KmsAuditSealer implements AuditSealer {
  constructor(
    private readonly kms: KMSClient,
    /** The audit key's ARN (AUDIT_KEY_ID). */
    private readonly keyArn: string,
  ) {}

  async seal(message: Uint8Array): Promise<AuditSeal> {
    const out = await this.call('GenerateMac', () => this.kms.send(new GenerateMacCommand({ KeyId: this.keyArn, Message: message, MacAlgorithm: MAC_ALGORITHM })));
    if (!out.Mac?.length || out.KeyId !== this.keyArn) throw new IntegrityError(`KMS GenerateMac answered without a MAC of ${this.keyArn}`);
    return { mac: Buffer.from(out.Mac).toString('base64'), keyId: out.KeyId };
  }

  async verify(message: Uint8Array, mac: string, keyId: string): Promise<boolean> {
    if (keyId !== this.keyArn || !BASE64.test(mac)) return false;
    const bytes = Buffer.from(mac, 'base64');
    if (bytes.length !== MAC_BYTES) return false;
    try {
      const out = await this.kms.send(new VerifyMacCommand({ KeyId: this.keyArn, Message: message, Mac: bytes, MacAlgorithm: MAC_ALGORITHM }));
      return out.MacValid === true && out.KeyId === this.keyArn;
    } catch (error) {
      // KMS answers a MAC that does not verify with an error, not with MacValid: false.
      if (errorName(error) === 'KMSInvalidMacException') return false;
      throw this.translate('VerifyMac', error);
    }
  }

  private async call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw this.translate(operation, error);
    }
  }

  private translate(operation: string, error: unknown): unknown {
    if (isRetryable(error)) return translateAwsError(`KMS ${operation}`, error);
    const message = error instanceof Error ? error.message.slice(0, 500) : String(error);
    return new AuditKeyError(`the audit key ${this.keyArn} cannot be used (KMS ${operation}: ${errorName(error)}: ${message})`, { cause: error });
  }
}
