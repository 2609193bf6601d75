/** Canonical JSON (keys sorted, no whitespace, undefined dropped) and SHA-256: the basis of hashes that must be stable. */
import { createHash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('canonical JSON has no NaN or Infinity');
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** Hex SHA-256 of a string (as UTF-8) or of raw bytes (a request body, for SigV4). */
export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export const hashOf = (value: unknown): string => sha256(canonicalJson(value));
