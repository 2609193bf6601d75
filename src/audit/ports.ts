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
