/**
 * Digests of the chain heads, in the manner of CloudTrail log file validation: every few minutes the digester
 * records the head (seq, hash) of every job whose head moved since the previous digest, signs the digest with
 * an asymmetric KMS key that only it may use, and chains it to the previous digest by that digest's signature.
 * Digests live outside the tables (an S3 bucket with Object Lock), so someone who can write the tables, even
 * with the audit key's MAC permission, cannot move a job's chain back to an older, validly sealed state: the
 * newest anchor of the job (the last digest that recorded its head) still names the event that was there.
 * This module is pure: the shapes, the bytes that are signed, and the checks.
 */
import { canonicalJson, sha256 } from '../util/canonical';

/** One chain's head as a digest recorded it. */
export interface DigestEntry {
  chainId: string;
  seq: number;
  hash: string;
}

export interface Digest {
  version: 1;
  /** 1, 2, 3, ...: each digest's number is one more than the previous one's. */
  number: number;
  /** The head changes this digest covers: updates in (from, to]. ISO times. */
  from: string;
  to: string;
  /** The previous digest, bound by its signature; null for the first. */
  previous: { number: number; signatureSha256: string } | null;
  /** Sorted by chainId; one entry per chain. */
  entries: DigestEntry[];
}

export interface DigestSignature {
  /** The signing key (a KMS key ARN). */
  keyId: string;
  /** e.g. ECDSA_SHA_256. */
  algorithm: string;
  /** base64. */
  value: string;
}

export interface SignedDigest {
  digest: Digest;
  signature: DigestSignature;
}

/** The anchor of one chain: the newest digest that recorded its head, and the head it recorded. */
export interface Anchor {
  number: number;
  seq: number;
}

/**
 * The bytes a digest's signature covers: a label and the SHA-256 of the digest's canonical JSON (KMS signs at
 * most 4096 bytes of RAW message; a digest of a busy quarter hour is larger).
 */
export function digestMessage(digest: Digest): Uint8Array {
  return new TextEncoder().encode(`emr-step-gateway:audit-digest:v1:${sha256(canonicalJson(digest))}`);
}

/** What the next digest links to: the previous one's number and the hash of its signature. */
export function linkTo(previous: SignedDigest): NonNullable<Digest['previous']> {
  return { number: previous.digest.number, signatureSha256: sha256(previous.signature.value) };
}

/** The next digest after `previous`: the heads (one per chain, the highest seq) changed in (from, to]. */
export function nextDigest(previous: SignedDigest | undefined, window: { from: Date; to: Date }, heads: readonly DigestEntry[]): Digest {
  const newest = new Map<string, DigestEntry>();
  for (const head of heads) {
    const seen = newest.get(head.chainId);
    if (!seen || head.seq > seen.seq) newest.set(head.chainId, { chainId: head.chainId, seq: head.seq, hash: head.hash });
  }
  return {
    version: 1,
    number: previous ? previous.digest.number + 1 : 1,
    from: window.from.toISOString(),
    to: window.to.toISOString(),
    previous: previous ? linkTo(previous) : null,
    entries: [...newest.values()].sort((a, b) => (a.chainId < b.chainId ? -1 : a.chainId > b.chainId ? 1 : 0)),
  };
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const HEX64 = /^[0-9a-f]{64}$/;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;

/** The chain ids a digest records: job ids (and other chains' ids): one key segment in the digest store, no `/`. */
const CHAIN_ID = /^[A-Za-z0-9._:@=+-]{1,512}$/;
/** The highest seq a digest records (the store's keys hold it in 12 digits; no chain gets anywhere near it). */
export const MAX_DIGEST_SEQ = 10 ** 12 - 1;

/**
 * Whether a head is one a digest can record: a chain id, a seq from 0 to MAX_DIGEST_SEQ, a SHA-256. The heads come
 * from the jobs table, which a table writer can fill with anything; a digest holding one that is not a head would
 * be refused by parseSignedDigest, so signing it would stop every later digest and break every trail's check for
 * as long as the bucket keeps it.
 */
export function isDigestEntry(e: unknown): e is DigestEntry {
  return isRecord(e) && typeof e.chainId === 'string' && CHAIN_ID.test(e.chainId) && isCount(e.seq, 0) && e.seq <= MAX_DIGEST_SEQ && typeof e.hash === 'string' && HEX64.test(e.hash);
}

/**
 * A stored digest as the store returned it, checked for shape (a stored object is untrusted: anyone with write
 * access to the bucket could have put it there); the problem, if it is not a digest. Only the shape: the
 * signature is the signer's to check.
 */
export function parseSignedDigest(value: unknown): { ok: true; value: SignedDigest } | { ok: false; problem: string } {
  const bad = (problem: string) => ({ ok: false as const, problem });
  if (!isRecord(value) || !isRecord(value.digest) || !isRecord(value.signature)) return bad('it is not a signed digest ({digest, signature})');
  const { digest: d, signature: s } = value;
  if (d.version !== 1) return bad(`version ${JSON.stringify(d.version)} is not 1`);
  if (!isCount(d.number, 1)) return bad('its number is not a positive integer');
  if (typeof d.from !== 'string' || !ISO.test(d.from) || typeof d.to !== 'string' || !ISO.test(d.to) || d.from > d.to) return bad('its window is not two ISO times in order');
  if (d.previous !== null && !(isRecord(d.previous) && isCount(d.previous.number, 1) && d.previous.number === d.number - 1 && typeof d.previous.signatureSha256 === 'string' && HEX64.test(d.previous.signatureSha256))) {
    return bad('its link to the previous digest is malformed');
  }
  if (d.previous === null && d.number !== 1) return bad(`digest ${d.number} has no previous digest`);
  if (!Array.isArray(d.entries)) return bad('its entries are not a list');
  for (const e of d.entries as unknown[]) {
    if (!isDigestEntry(e)) return bad('an entry is not {chainId, seq, hash}');
  }
  if (typeof s.keyId !== 'string' || typeof s.algorithm !== 'string' || typeof s.value !== 'string' || !s.value) return bad('its signature is not {keyId, algorithm, value}');
  return { ok: true, value: value as unknown as SignedDigest };
}

/** The events of a trail as the anchor check needs them. */
export interface AnchoredTrail {
  chainId: string;
  events: readonly { seq: number; hash: string; at: string }[];
  /** The head the job records (chain.ts ChainHead). */
  head: { seq: number; hash: string };
}

export type AnchorCheck =
  /** The chain still holds the event the newest anchor recorded. */
  | { status: 'anchored'; digest: { number: number; to: string }; seq: number; hash: string }
  /** No digest records this chain yet, and none had to: it is younger than the newest digest's window. */
  | { status: 'pending'; reason: string }
  | { status: 'broken'; seq: number; problem: string };

/**
 * The rollback check: the chain against its newest anchor (already found in a digest whose signature
 * verified) and the newest digest. Pure.
 * - anchored at (seq, hash): the trail must still have that event, and the job's head must not be behind it;
 *   a head that moved past it before the newest digest's window (less `lagSeconds`) should have been recorded
 *   by a digest: if none did, the job was kept out of the digests (its place in the head-changes index
 *   rewritten), and that is reported while the newer events are still there to show it;
 * - no anchor: fine while no digest yet covers the trail's last change (`lagSeconds` allows for the digest of
 *   a change still being written); otherwise the digests missed a chain that exists, which is reported.
 */
export function checkAnchor(trail: AnchoredTrail, anchor: { digest: SignedDigest; entry: DigestEntry } | undefined, latest: SignedDigest | undefined, lagSeconds: number): AnchorCheck {
  const coveredUntil = latest ? Date.parse(latest.digest.to) - lagSeconds * 1000 : NaN;
  if (anchor) {
    const { entry, digest } = anchor;
    const event = trail.events[entry.seq];
    const where = `digest ${digest.digest.number} (${digest.digest.to}) recorded event ${entry.seq} as this chain's head`;
    if (!event) return { status: 'broken', seq: entry.seq, problem: `${where}, but the trail now ends at event ${trail.events.length - 1}: the chain was rolled back` };
    if (event.hash !== entry.hash) return { status: 'broken', seq: entry.seq, problem: `${where} with another hash: the chain was rewritten and sealed again` };
    if (trail.head.seq < entry.seq) return { status: 'broken', seq: trail.head.seq, problem: `${where}, but the job's head is at event ${trail.head.seq}: the head was moved back` };
    const head = trail.head.seq > entry.seq ? trail.events[trail.head.seq] : undefined;
    if (latest && head && Date.parse(head.at) <= coveredUntil) {
      return { status: 'broken', seq: trail.head.seq, problem: `${where}; the job's head has since moved to event ${trail.head.seq} (${head.at}), which digest ${latest.digest.number} (changes up to ${latest.digest.to}) covers, yet no digest recorded it: the job was kept out of the digests` };
    }
    return { status: 'anchored', digest: { number: digest.digest.number, to: digest.digest.to }, seq: entry.seq, hash: entry.hash };
  }
  if (!latest) return { status: 'pending', reason: 'no digest has been written yet' };
  const last = trail.events.at(-1);
  const lastChange = last ? Date.parse(last.at) : NaN;
  if (!Number.isFinite(lastChange) || lastChange > coveredUntil) return { status: 'pending', reason: `no digest covers this chain's last change yet (the newest, ${latest.digest.number}, covers changes up to ${latest.digest.to})` };
  return { status: 'broken', seq: trail.events.length - 1, problem: `no digest anchors this chain, though digest ${latest.digest.number} covers changes up to ${latest.digest.to}, after its last event (${last?.at ?? '?'})` };
}
