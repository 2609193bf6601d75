/**
 * Writing and reading the digests of the chain heads (digest.ts has the shapes and the pure checks).
 * - AuditDigester.run (a scheduled function; on the local stack every minute, at start and at stop): the next
 *   digest, holding the head of every job updated since the previous digest (the first digest: of every job),
 *   signed, chained to the previous one, written only if no other run wrote that number, then one anchor per
 *   entry so a chain's newest anchor is one lookup away. A run that crashed before all anchors were written
 *   is finished by the next one.
 * - DigestVerifier.check (GET /jobs/{id}/audit): the chain against its newest anchor and the newest digest.
 */
import { IntegrityError } from '../errors';
import { eachLimited } from '../util/concurrency';
import { IN_FLIGHT_SECONDS } from './chain';
import { checkAnchor, digestMessage, isDigestEntry, nextDigest, parseSignedDigest, type Anchor, type AnchorCheck, type AnchoredTrail, type DigestEntry, type SignedDigest } from './digest';
import type { DigestSigner, DigestStore } from './ports';

/** What the digester needs of the job table: the heads of jobs updated in (from, to]; without `from`, of every job (whenever updated). */
export interface HeadSource {
  changedHeads(window: { from?: Date; to: Date }): Promise<DigestEntry[]>;
}

export interface DigestTiming {
  /** A digest covers updates up to this long before it runs, so that updates in flight have landed. */
  settleSeconds: number;
  /** Each window reaches this far back into the previous one: an update that landed late is still recorded. */
  overlapSeconds: number;
  /**
   * The longest window one run covers: after an outage the digests catch up over several runs, each a bounded
   * number of index Queries (8 per hour), instead of one run that reads the whole outage and never finishes.
   */
  maxWindowSeconds: number;
}
export const DIGEST_TIMING: DigestTiming = { settleSeconds: 2, overlapSeconds: 60, maxWindowSeconds: 7 * 86_400 };

/** Few enough concurrent anchor writes to stay far from S3's per-prefix request rates. */
const ANCHOR_CONCURRENCY = 16;

export type DigestRun =
  | {
      written: true;
      number: number;
      entries: number;
      from: string;
      to: string;
      /** The digest covers changes up to `to`, short of now: it is catching up after an outage (the next run goes on). */
      catchingUp?: true;
      /** Heads in the jobs table that are not heads (planted there: a malformed id, seq or hash), left out. */
      skipped?: { count: number; chainIds: string[] };
    }
  | { written: false; reason: string };

/** A stored digest, parsed and its signature verified; IntegrityError naming the problem otherwise. */
async function trusted(signer: DigestSigner, stored: unknown, what: string): Promise<SignedDigest> {
  const parsed = parseSignedDigest(stored);
  if (!parsed.ok) throw new IntegrityError(`${what} is not a digest: ${parsed.problem}`);
  if (!(await signer.verify(digestMessage(parsed.value.digest), parsed.value.signature))) {
    throw new IntegrityError(`${what} (number ${parsed.value.digest.number}) does not carry the digest key's signature`);
  }
  return parsed.value;
}

/**
 * The newest digest, verified, and stored where its own number says: a genuine older digest copied to a higher
 * number's place (anyone who may put objects in the bucket can) would otherwise pass for the newest, and the
 * digester would answer "another run wrote it first" for ever while every new job read pending.
 */
async function trustedLatest(signer: DigestSigner, newest: { number: number | undefined; read(): Promise<unknown> }): Promise<SignedDigest> {
  const digest = await trusted(signer, await newest.read(), 'the newest digest');
  if (newest.number !== digest.digest.number) {
    throw new IntegrityError(`the newest object in the digest store ${newest.number === undefined ? 'is not named as a digest' : `is in the place of digest ${newest.number}`} but holds digest ${digest.digest.number}: it was copied there`);
  }
  return digest;
}

export class AuditDigester {
  constructor(
    private readonly deps: { heads: HeadSource; store: DigestStore; signer: DigestSigner; now?: () => Date; timing?: DigestTiming },
  ) {}

  /** `quiesced`: nothing is writing any more (a stopping local stack), so the digest may cover changes up to now. */
  async run(options: { quiesced?: boolean } = {}): Promise<DigestRun> {
    const { heads, store, signer } = this.deps;
    const timing = { ...(this.deps.timing ?? DIGEST_TIMING), ...(options.quiesced ? { settleSeconds: 0 } : {}) };
    const now = (this.deps.now ?? (() => new Date()))();
    const stored = await store.latest();
    // Never chain to a digest that is not ours: a planted "newest digest" would otherwise be signed into the chain.
    const previous = stored === undefined ? undefined : await trustedLatest(signer, stored);
    if (previous && !(await store.isComplete(previous.digest.number))) await this.anchor(previous);
    const settled = now.getTime() - timing.settleSeconds * 1000;
    const to = new Date(previous ? Math.min(settled, Date.parse(previous.digest.to) + timing.maxWindowSeconds * 1000) : settled);
    if (previous && to.getTime() <= Date.parse(previous.digest.to)) return { written: false, reason: `digest ${previous.digest.number} already covers changes up to ${previous.digest.to}` };
    const from = previous ? new Date(Date.parse(previous.digest.to) - timing.overlapSeconds * 1000) : undefined;
    const changed = await heads.changedHeads({ ...(from ? { from } : {}), to });
    // What the table holds is not trusted: a "head" a digest cannot hold is left out (and said), never signed.
    const recordable: DigestEntry[] = [];
    const rejected: DigestEntry[] = [];
    for (const head of changed) (isDigestEntry(head) ? recordable : rejected).push(head);
    const digest = nextDigest(previous, { from: from ?? new Date(0), to }, recordable);
    const signed: SignedDigest = { digest, signature: await signer.sign(digestMessage(digest)) };
    if (!(await store.create(signed))) return { written: false, reason: `another run wrote digest ${digest.number} first` };
    await this.anchor(signed);
    return {
      written: true,
      number: digest.number,
      entries: digest.entries.length,
      from: digest.from,
      to: digest.to,
      ...(to.getTime() < settled ? { catchingUp: true as const } : {}),
      ...(rejected.length ? { skipped: { count: rejected.length, chainIds: rejected.slice(0, 10).map((e) => JSON.stringify(String(e.chainId).slice(0, 100))) } } : {}),
    };
  }

  private async anchor(signed: SignedDigest): Promise<void> {
    const { store } = this.deps;
    const { number, entries } = signed.digest;
    await eachLimited(entries, ANCHOR_CONCURRENCY, (e) => store.putAnchor(e.chainId, { number, seq: e.seq }));
    await store.markComplete(number);
  }
}

/** What GET /jobs/{id}/audit reports of the digests. */
export type AnchorReport = AnchorCheck & { latestDigest?: { number: number; to: string } };

/** Digests are immutable: a verified one stays verified. A few hundred cover the anchors of the jobs being read. */
const CACHE_SIZE = 256;

export class DigestVerifier {
  private readonly verified = new Map<number, SignedDigest>();

  constructor(
    private readonly store: DigestStore,
    private readonly signer: DigestSigner,
    /**
     * How long a change may wait for its digest before its absence is reported: an event's job record may follow
     * it by up to IN_FLIGHT_SECONDS (a task's retry), then settle + overlap, and a margin.
     */
    private readonly lagSeconds: number = IN_FLIGHT_SECONDS + DIGEST_TIMING.settleSeconds + DIGEST_TIMING.overlapSeconds + 60,
  ) {}

  /** The trail against its newest anchor and the newest digest. A digest or anchor that is not ours is reported as the break it is. */
  async check(trail: AnchoredTrail): Promise<AnchorReport> {
    let anchor: Anchor | undefined;
    let latest: SignedDigest | undefined;
    let anchored: { digest: SignedDigest; entry: DigestEntry } | undefined;
    try {
      const [found, newest] = await Promise.all([this.store.latestAnchor(trail.chainId), this.store.latest()]);
      anchor = found;
      // The newest digest is read (and verified) once per number: the listing that names it is all a read costs.
      const known = newest?.number !== undefined ? this.verified.get(newest.number) : undefined;
      latest = newest === undefined ? undefined : (known ?? this.keep(await trustedLatest(this.signer, newest)));
      if (found) {
        const digest = await this.digest(found.number);
        const entry = digest.digest.entries.find((e) => e.chainId === trail.chainId && e.seq === found.seq);
        if (!entry) return { status: 'broken', seq: found.seq, problem: `the anchor of event ${found.seq} names digest ${found.number}, which does not record it: the anchor was forged` };
        anchored = { digest, entry };
      }
    } catch (error) {
      if (error instanceof IntegrityError) return { status: 'broken', seq: anchor?.seq ?? 0, problem: error.message };
      throw error;
    }
    let check = checkAnchor(trail, anchored, latest, this.lagSeconds);
    // "No digest recorded this head" holds only of digests whose anchors are all written: between a digest and
    // its anchors (a run in progress, or one that died there, until the next run finishes them) the newest
    // digest may hold the head without an anchor naming it. Then the one before it bounds what is reported.
    const unrecorded = check.status === 'broken' && (!anchored || check.seq > anchored.entry.seq);
    if (unrecorded && latest && !(await this.store.isComplete(latest.digest.number))) {
      const before = latest.digest.number > 1 ? await this.trustedOrBroken(latest.digest.number - 1) : undefined;
      if (before && 'status' in before) return before;
      check = checkAnchor(trail, anchored, before, this.lagSeconds);
      if (check.status === 'pending' && !before) check = { status: 'pending', reason: `the anchors of digest ${latest.digest.number}, the first, are still being written` };
    }
    return { ...check, ...(latest ? { latestDigest: { number: latest.digest.number, to: latest.digest.to } } : {}) };
  }

  /** A digest, verified; or the broken report that it is not one (as for the digests read above). */
  private async trustedOrBroken(number: number): Promise<SignedDigest | AnchorReport> {
    try {
      return await this.digest(number);
    } catch (error) {
      if (error instanceof IntegrityError) return { status: 'broken', seq: 0, problem: error.message };
      throw error;
    }
  }

  private async digest(number: number): Promise<SignedDigest> {
    const cached = this.verified.get(number);
    if (cached) return cached;
    const stored = await this.store.get(number);
    if (stored === undefined) throw new IntegrityError(`digest ${number}, named by an anchor, does not exist`);
    const digest = await trusted(this.signer, stored, `digest ${number}`);
    if (digest.digest.number !== number) throw new IntegrityError(`the object of digest ${number} holds digest ${digest.digest.number}`);
    return this.keep(digest);
  }

  /** A digest verified in its own number's place, kept (digests are immutable). */
  private keep(digest: SignedDigest): SignedDigest {
    if (this.verified.size >= CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(digest.digest.number, digest);
    return digest;
  }
}
