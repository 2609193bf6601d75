import type { Anchor, DigestSignature, SignedDigest } from './digest';

/**
 * What the audit trail needs from the outside world: a keyed MAC. In AWS it is a KMS HMAC key
 * (src/adapters/kms/), so sealing an event needs the gateway's kms:GenerateMac permission, not just write
 * access to the audit table; tests implement it in memory.
 */

export interface AuditSeal {
  /** The MAC, base64. */
  mac: string;
  /** The key that made it, as the MAC service names it (a KMS key ARN). */
  keyId: string;
}

export interface AuditSealer {
  /** A MAC of `message` with the gateway's audit key. Throws TransientError for what a retry can cure. */
  seal(message: Uint8Array): Promise<AuditSeal>;
  /**
   * True only if `mac` is the gateway's audit key's MAC of `message` and `keyId` names that key: a MAC made
   * with any other key, or a malformed one, is false. Throws TransientError for what a retry can cure, and
   * AuditKeyError when the audit key itself cannot be used (missing, disabled, not an HMAC key).
   */
  verify(message: Uint8Array, mac: string, keyId: string): Promise<boolean>;
}

/**
 * The digests' signature: an asymmetric KMS key (ECC_NIST_P256, ECDSA_SHA_256) that only the digester may
 * sign with; anyone with the public key can verify. Throws TransientError for what a retry can cure.
 */
export interface DigestSigner {
  sign(message: Uint8Array): Promise<DigestSignature>;
  /** True only if `signature` is the digest key's over `message` (another key id, algorithm or a malformed value: false). */
  verify(message: Uint8Array, signature: DigestSignature): Promise<boolean>;
}

/**
 * Where digests are kept, out of reach of the tables' writers: in AWS an S3 bucket with Object Lock
 * (nothing overwritten, nothing deleted). What it returns was stored by someone: parse it before use.
 */
export interface DigestStore {
  /**
   * The newest digest: the number its place in the store names (undefined if that place is not a digest's), and
   * a read of the object as stored (unparsed), only when asked (a reader that verified that number keeps it: the
   * listing alone is cheap); undefined when none was ever written. The number is the store's, not the object's:
   * an older digest copied to a higher number's place must not pass for the newest.
   */
  latest(): Promise<{ number: number | undefined; read(): Promise<unknown> } | undefined>;
  /** Digest `number`, as stored (unparsed). */
  get(number: number): Promise<unknown>;
  /** Writes digest N unless one exists; false (nothing written) if another writer wrote N first. */
  create(digest: SignedDigest): Promise<boolean>;
  /** Records that digest `number` anchors event `seq` of `chainId`; a no-op if it is recorded. */
  putAnchor(chainId: string, anchor: Anchor): Promise<void>;
  /** The anchor with the highest seq of a chain. */
  latestAnchor(chainId: string): Promise<Anchor | undefined>;
  /** Whether every anchor of digest `number` was written (a digester that crashed half-way did not get there). */
  isComplete(number: number): Promise<boolean>;
  markComplete(number: number): Promise<void>;
}
