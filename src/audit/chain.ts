/**
 * The audit chain. Each event carries the hash of the one before (`prevHash`), its own (`hash`: SHA-256 over
 * the canonical JSON of the event without `hash`, `mac` and `keyId`) and a keyed MAC of that hash (`mac`, made
 * by the audit key `keyId`). The hashes alone prove nothing to someone who can write the table (anyone can
 * compute SHA-256); the MAC needs the gateway's key. The first event's prevHash binds the chain to its job.
 * `verifyChain` (pure) reports the first gap, edit, broken link or unsealed event, a bad MAC (given the MAC
 * checks, see verify.ts), and, against the job's recorded head, a cut tail or an append after it.
 */
import { hashOf, sha256 } from '../util/canonical';
import type { AuditSealer } from './ports';

export interface AuditEvent {
  jobId: string;
  seq: number;
  type: string;
  /** One event per key and job: a retried write finds its own event instead of appending a second one. */
  dedupeKey: string;
  at: string;
  actor?: Record<string, unknown>;
  subject?: Record<string, unknown>;
  decision?: Record<string, unknown>;
  emr?: Record<string, unknown>;
  detail?: Record<string, unknown>;
  prevHash: string;
  hash: string;
  /** The audit key's MAC of macMessage(hash), base64. The gateway always writes it; a table writer can remove it. */
  mac?: string;
  /** The key that made `mac` (a KMS key ARN). */
  keyId?: string;
}

export type AuditDraft = Omit<AuditEvent, 'jobId' | 'seq' | 'at' | 'prevHash' | 'hash' | 'mac' | 'keyId'>;

/** The position of a chain's last event, as a job records it. */
export interface ChainHead {
  seq: number;
  hash: string;
}

export const genesisHash = (jobId: string): string => sha256(`emr-step-gateway:audit:${jobId}`);

/** The hash covers everything but the hash and the seal over it. */
export function hashEvent(event: Omit<AuditEvent, 'hash' | 'mac' | 'keyId'> & { hash?: string; mac?: string; keyId?: string }): string {
  const { hash: _hash, mac: _mac, keyId: _keyId, ...rest } = event;
  return hashOf(rest);
}

/**
 * The bytes an event's MAC covers: its hash, which covers every other field. (KMS GenerateMac takes at most
 * 4096 bytes; an event's canonical JSON can be longer, with a policy's reasons or EMR's failure message.)
 */
export function macMessage(hash: string): Uint8Array {
  return new TextEncoder().encode(`emr-step-gateway:audit-event:v1:${hash}`);
}

/** The event at `seq` after `prevHash`: hashed, then sealed with the audit key. */
export async function sealEvent(sealer: AuditSealer, draft: AuditDraft, jobId: string, seq: number, prevHash: string, at: string): Promise<AuditEvent> {
  const event = { ...draft, jobId, seq, at, prevHash };
  const hash = hashEvent(event);
  const { mac, keyId } = await sealer.seal(macMessage(hash));
  return { ...event, hash, mac, keyId };
}

/**
 * How long an event beyond the job's head counts as a write in flight. Every change writes the event, then
 * moves the job's head; between the two, and after a crash there until the task's retry (the ASL retries for
 * up to a few minutes; a task may run 60 s), the trail is one event ahead. Older than this, it is an append.
 */
export const IN_FLIGHT_SECONDS = 300;

export interface VerifyOptions {
  /** The head the job records. Without it (a schedule's or trigger's chain), a cut tail cannot be seen. */
  head?: ChainHead;
  /** The type event 0 must have (a job's trail begins with its DECISION). */
  firstType?: string;
  /** Per event, whether the audit key verified its MAC (verify.ts asks the key). Without it, MACs are only required to be there. */
  macs?: readonly boolean[];
  /** For the in-flight rule; without it, no event beyond the head is tolerated. */
  now?: Date;
}

export type VerifyResult =
  | {
      ok: true;
      events: number;
      /** The hash of the last event (the genesis hash of an empty chain). */
      head: string;
      /** Whether the MACs were checked with the audit key here, or only found present. */
      macs: 'verified' | 'unchecked';
      /** The one event beyond the job's head that is tolerated as a write in flight. */
      inFlight?: { seq: number; at: string };
    }
  | { ok: false; events: number; seq: number; problem: string };

/** Checks order, contiguity from 0, each link, hash and seal, event 0's type, and the job's recorded head. Pure. */
export function verifyChain(jobId: string, events: readonly AuditEvent[], options: VerifyOptions = {}): VerifyResult {
  const count = events.length;
  const fail = (seq: number, problem: string): VerifyResult => ({ ok: false, events: count, seq, problem });
  let prev = genesisHash(jobId);
  for (let i = 0; i < count; i++) {
    const e = events[i]!;
    if (e.jobId !== jobId) return fail(e.seq, `event ${e.seq} belongs to ${e.jobId}`);
    if (e.seq !== i) return fail(e.seq, e.seq > i ? `events ${i}..${e.seq - 1} are missing` : `event ${e.seq} appears twice or out of order`);
    if (e.prevHash !== prev) return fail(i, `event ${i} does not link to event ${i - 1} (prevHash differs): an event was changed, removed or inserted`);
    if (hashEvent(e) !== e.hash) return fail(i, `event ${i} was modified after it was written (its hash does not match its content)`);
    if (typeof e.mac !== 'string' || !e.mac || typeof e.keyId !== 'string' || !e.keyId) {
      return fail(i, `event ${i} is not sealed (it has no MAC): the gateway did not write it as it is`);
    }
    if (i === 0 && options.firstType !== undefined && e.type !== options.firstType) {
      return fail(0, `event 0 is ${e.type}, not a ${options.firstType}: a job's trail begins with the decision on it`);
    }
    if (options.macs && options.macs[i] !== true) {
      return fail(i, `event ${i}'s MAC does not verify with the gateway's audit key: it was forged, or re-sealed without the key`);
    }
    prev = e.hash;
  }
  let inFlight: { seq: number; at: string } | undefined;
  const { head } = options;
  if (head) {
    if (count === 0) return fail(head.seq, `the job records event ${head.seq} as its head, but the trail is empty: events were removed`);
    if (head.seq >= count) return fail(head.seq, `the job records event ${head.seq} as its head, but the trail ends at event ${count - 1}: events were removed`);
    if (head.seq >= 0 && events[head.seq]!.hash !== head.hash) {
      return fail(head.seq, `event ${head.seq}'s hash differs from the head recorded on the job: the chain was rewritten, or the head moved`);
    }
    const beyond = count - 1 - head.seq;
    if (beyond > 1) return fail(head.seq + 1, `events ${head.seq + 1}..${count - 1} were appended after the job's recorded head (event ${head.seq})`);
    if (beyond === 1) {
      const last = events[count - 1]!;
      const age = options.now ? options.now.getTime() - Date.parse(last.at) : Number.NaN;
      if (!(age <= IN_FLIGHT_SECONDS * 1000)) {
        const when = options.now ? ` and is not a write in flight (written at ${last.at}, more than ${IN_FLIGHT_SECONDS} s before ${options.now.toISOString()})` : '';
        return fail(last.seq, `event ${last.seq} was appended after the job's recorded head (event ${head.seq})${when}`);
      }
      inFlight = { seq: last.seq, at: last.at };
    }
  } else if (count === 0 && options.firstType !== undefined) {
    return fail(0, `the trail is empty: a job's trail begins with its ${options.firstType}`);
  }
  return { ok: true, events: count, head: prev, macs: options.macs ? 'verified' : 'unchecked', ...(inFlight ? { inFlight } : {}) };
}
