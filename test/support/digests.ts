/**
 * The digests' outside world in memory, for tests that do not reach S3 or KMS: a store with S3's conditional
 * create (If-None-Match: *) and Object Lock (nothing overwritten), and an ECDSA P-256 signer with a key of its
 * own. The adapters themselves are tested against the local S3 and KMS (integration/digests.test.ts).
 */
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import type { Anchor, DigestSignature, SignedDigest } from '../../src/audit/digest';
import type { DigestSigner, DigestStore } from '../../src/audit/ports';

export const TEST_DIGEST_KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/0d0d0d0d-1e1e-4f2f-8a3a-4b4b4b4b4b4b';

export class TestDigestSigner implements DigestSigner {
  readonly calls = { sign: 0, verify: 0 };
  private readonly keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

  constructor(readonly keyId: string = TEST_DIGEST_KEY_ARN) {}

  /** A signature as the digest key makes it, synchronously (to forge digests in tests as its holder could). */
  signatureOf(message: Uint8Array): DigestSignature {
    return { keyId: this.keyId, algorithm: 'ECDSA_SHA_256', value: sign('sha256', message, this.keys.privateKey).toString('base64') };
  }

  sign(message: Uint8Array): Promise<DigestSignature> {
    this.calls.sign++;
    return Promise.resolve(this.signatureOf(message));
  }

  verify(message: Uint8Array, signature: DigestSignature): Promise<boolean> {
    this.calls.verify++;
    if (signature.keyId !== this.keyId || signature.algorithm !== 'ECDSA_SHA_256') return Promise.resolve(false);
    try {
      return Promise.resolve(verify('sha256', message, this.keys.publicKey, Buffer.from(signature.value, 'base64')));
    } catch {
      return Promise.resolve(false);
    }
  }
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class InMemoryDigestStore implements DigestStore {
  /** number → the stored object (as JSON text, as S3 would hold it). */
  readonly digests = new Map<number, string>();
  /** chainId → anchors. */
  readonly anchors = new Map<string, Anchor[]>();
  readonly complete = new Set<number>();
  /** Runs before each anchor write; throwing fails it (a digester that crashes half-way). */
  beforeAnchor?: (chainId: string, anchor: Anchor) => void;

  async latest(): Promise<{ number: number; read(): Promise<unknown> } | undefined> {
    await turn();
    const newest = Math.max(0, ...this.digests.keys());
    return newest ? { number: newest, read: () => this.get(newest) } : undefined;
  }

  async get(number: number): Promise<unknown> {
    await turn();
    const text = this.digests.get(number);
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }

  async create(digest: SignedDigest): Promise<boolean> {
    await turn();
    if (this.digests.has(digest.digest.number)) return false;
    this.digests.set(digest.digest.number, JSON.stringify(digest));
    return true;
  }

  async putAnchor(chainId: string, anchor: Anchor): Promise<void> {
    await turn();
    this.beforeAnchor?.(chainId, anchor);
    const list = this.anchors.get(chainId) ?? [];
    if (!list.some((a) => a.seq === anchor.seq)) list.push(anchor);
    this.anchors.set(chainId, list);
  }

  async latestAnchor(chainId: string): Promise<Anchor | undefined> {
    await turn();
    return [...(this.anchors.get(chainId) ?? [])].sort((a, b) => b.seq - a.seq)[0];
  }

  async isComplete(number: number): Promise<boolean> {
    await turn();
    return this.complete.has(number);
  }

  async markComplete(number: number): Promise<void> {
    await turn();
    this.complete.add(number);
  }
}
