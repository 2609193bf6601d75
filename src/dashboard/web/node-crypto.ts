/**
 * node:crypto's createHash('sha256'), for the shared audit-chain code (src/audit/chain.ts) in the browser: the
 * build maps `node:crypto` here. Synchronous, as the chain's checks are (Web Crypto's digest is not).
 */
import { Sha256 } from '@aws-crypto/sha256-js';

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

export function createHash(algorithm: string): { update(data: string | Uint8Array): { digest(encoding: 'hex'): string } } {
  if (algorithm !== 'sha256') throw new Error(`only sha256 is available in the browser, not ${algorithm}`);
  const hash = new Sha256();
  const hasher = {
    update(data: string | Uint8Array) {
      hash.update(typeof data === 'string' ? new TextEncoder().encode(data) : data);
      return hasher;
    },
    digest(encoding: 'hex') {
      if (encoding !== 'hex') throw new Error('only hex digests are available in the browser');
      return hex(hash.digestSync());
    },
  };
  return hasher;
}
