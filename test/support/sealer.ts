/**
 * The audit key in memory, for tests that do not reach KMS: HMAC-SHA-256 with a key of its own, under a KMS-like
 * key ARN, keeping the port's contract (a MAC of another key id is false). No SDK here, so unit tests can use it.
 * The KMS adapter itself is tested against the local KMS and a mocked client (unit/kms.audit-sealer.test.ts).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuditSeal, AuditSealer } from '../../src/audit/ports';

export const TEST_AUDIT_KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/0a0a0a0a-1b1b-4c2c-8d3d-4e4e4e4e4e4e';

export class TestSealer implements AuditSealer {
  /** Calls made, for tests that count KMS requests. */
  readonly calls = { seal: 0, verify: 0 };
  private readonly key = randomBytes(32);

  constructor(readonly keyId: string = TEST_AUDIT_KEY_ARN) {}

  /** The MAC as the audit key makes it, synchronously (to forge events in tests as someone holding the key would). */
  macOf(message: Uint8Array): string {
    return createHmac('sha256', this.key).update(message).digest('base64');
  }

  seal(message: Uint8Array): Promise<AuditSeal> {
    this.calls.seal++;
    return Promise.resolve({ mac: this.macOf(message), keyId: this.keyId });
  }

  verify(message: Uint8Array, mac: string, keyId: string): Promise<boolean> {
    this.calls.verify++;
    const expected = Buffer.from(this.macOf(message), 'base64');
    const given = Buffer.from(mac, 'base64');
    return Promise.resolve(keyId === this.keyId && given.length === expected.length && timingSafeEqual(given, expected));
  }
}
