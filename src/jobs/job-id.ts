/**
 * New job ids (their grammar is in identifiers.ts): `job-` + 26 Crockford base32 characters, valid as Step Functions execution names. Without an
 * idempotency key they start with the time (sortable); with one they are derived from (principal, key), and a
 * schedule's or trigger's run from (principal, trigger, invocation), so a retried submission lands on the same
 * job, the same audit chain and the same execution name.
 */
import { randomBytes } from 'node:crypto';
import { IntegrityError } from '../errors';
import { JOB_ID_ALPHABET as ALPHABET } from '../identifiers';
import { sha256 } from '../util/canonical';

function base32(bytes: Uint8Array, length: number): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  return out;
}

/** 10 characters of milliseconds (48 bits, as ULID), then 16 random ones, after `prefix`. */
function timeOrdered(prefix: string, now: Date): string {
  let time = '';
  for (let t = now.getTime(), i = 0; i < 10; i++, t = Math.floor(t / 32)) time = ALPHABET[t % 32]! + time;
  return `${prefix}${time}${base32(randomBytes(10), 16)}`;
}

export function newJobId(now: Date = new Date()): string {
  return timeOrdered('job-', now);
}

/** An interactive session's id (SESSION_ID): new for every POST /sessions, which has no idempotency key. */
export function newSessionId(now: Date = new Date()): string {
  return timeOrdered('ses-', now);
}

/**
 * An API submission's job id, from (principal, Idempotency-Key). The hashed input always begins with the
 * principal ARN, "arn:...", so it can never equal an invocation's input (below), which begins with NUL.
 */
export function jobIdForIdempotencyKey(principalArn: string, key: string): string {
  if (!principalArn.startsWith('arn:')) throw new IntegrityError(`not a principal ARN: ${principalArn}`);
  return derived(`${principalArn}\n${key}`);
}

/**
 * A rerun's job id, from (principal, the job it reruns, Idempotency-Key): a namespace of its own (NUL first), so a key
 * used for POST /jobs and for a rerun, or for reruns of two jobs, names different jobs.
 */
export function jobIdForRerun(principalArn: string, rerunOf: string, key: string): string {
  return derived(`\u0000rerun\n${principalArn}\n${rerunOf}\n${key}`);
}

/**
 * A schedule's or trigger's run (`trigger` as in Actor.trigger, `invocation` the scheduled time or event id).
 * Its own namespace: no Idempotency-Key, whatever its text, derives the same id, so an API caller acting as the
 * same principal cannot claim a run before it happens.
 */
export function jobIdForInvocation(principalArn: string, trigger: string, invocation: string): string {
  return derived(`\u0000invocation\n${principalArn}\n${trigger}\n${invocation}`);
}

function derived(input: string): string {
  return `job-${base32(Buffer.from(sha256(input), 'hex'), 26)}`;
}
