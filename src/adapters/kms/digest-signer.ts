/**
 * The digests' signature over KMS: an asymmetric key (ECC_NIST_P256, SIGN_VERIFY) that only the digester's
 * role may Sign with. Verification needs no KMS call per digest: the public key is fetched once
 * (GetPublicKey) and checked here, as anyone holding it could check a digest offline.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { GetPublicKeyCommand, SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { DigestSignature } from '../../audit/digest';
import type { DigestSigner } from '../../audit/ports';
import { AuditKeyError, IntegrityError } from '../../errors';
import { errorName, isRetryable, translateAwsError } from '../aws-errors';

const ALGORITHM = 'ECDSA_SHA_256';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export class KmsDigestSigner implements DigestSigner {
  private publicKey?: Promise<KeyObject>;

  constructor(
    private readonly kms: KMSClient,
    /** The digest key's ARN (DIGEST_KEY_ID). */
    private readonly keyArn: string,
  ) {}

  async sign(message: Uint8Array): Promise<DigestSignature> {
    const out = await this.call('Sign', () => this.kms.send(new SignCommand({ KeyId: this.keyArn, Message: message, MessageType: 'RAW', SigningAlgorithm: ALGORITHM })));
    if (!out.Signature?.length || out.KeyId !== this.keyArn) throw new IntegrityError(`KMS Sign answered without a signature of ${this.keyArn}`);
    return { keyId: this.keyArn, algorithm: ALGORITHM, value: Buffer.from(out.Signature).toString('base64') };
  }

  async verify(message: Uint8Array, signature: DigestSignature): Promise<boolean> {
    if (signature.keyId !== this.keyArn || signature.algorithm !== ALGORITHM || !BASE64.test(signature.value)) return false;
    const key = await (this.publicKey ??= this.fetchPublicKey());
    try {
      return verify('sha256', message, key, Buffer.from(signature.value, 'base64'));
    } catch {
      return false; // not a DER signature at all
    }
  }

  private async fetchPublicKey(): Promise<KeyObject> {
    try {
      const out = await this.call('GetPublicKey', () => this.kms.send(new GetPublicKeyCommand({ KeyId: this.keyArn })));
      if (!out.PublicKey || out.KeyUsage !== 'SIGN_VERIFY' || !out.SigningAlgorithms?.includes(ALGORITHM)) throw new AuditKeyError(`the digest key ${this.keyArn} is not an ${ALGORITHM} signing key`);
      return createPublicKey({ key: Buffer.from(out.PublicKey), format: 'der', type: 'spki' });
    } catch (error) {
      this.publicKey = undefined; // a later call tries again
      throw error;
    }
  }

  private async call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (isRetryable(error)) throw translateAwsError(`KMS ${operation}`, error);
      const message = error instanceof Error ? error.message.slice(0, 500) : String(error);
      throw new AuditKeyError(`the digest key ${this.keyArn} cannot be used (KMS ${operation}: ${errorName(error)}: ${message})`, { cause: error });
    }
  }
}
