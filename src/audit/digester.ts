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
import { checkAnchor, digestMessage, nextDigest, parseSignedDigest, wellFormedHeads, type AnchorCheck, type AnchoredTrail, type DigestEntry, type SignedDigest } from './digest';
import type { DigestSigner, DigestStore } from './ports';

/** What the digester needs of the job table: the heads of jobs updated in (from, to]; without `from`, of every job (whenever updated). */
export interface HeadSource {
  /** As stored: the digester checks each head's shape before recording it. */
  changedHeads(window: { from?: Date; to: Date }): Promise<DigestEntry[]>;
}

export interface DigestTiming {
  /** A digest covers updates up to this long before it runs, so that updates in flight have landed. */
  settleSeconds: number;
  /** Each window reaches this far back into the previous one: an update that landed late is still recorded. */
  overlapSeconds: number;
}
export const DIGEST_TIMING: DigestTiming = { settleSeconds: 2, overlapSeconds: 60 };

/** Few enough concurrent anchor writes to stay far from S3's per-prefix request rates. */
const ANCHOR_CONCURRENCY = 16;

export type DigestRun =
  /** `skipped`: heads in the table that are not well-formed (a planted or torn job item), left out. */
  | { written: true; number: number; entries: number; skipped: number; from: string; to: string }
  | { written: false; reason: string };

async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Stored digest `number`, parsed and its signature verified; IntegrityError naming the problem otherwise. */
async function trusted(signer: DigestSigner, stored: unknown, what: string, number: number): Promise<SignedDigest> {
  if (stored === undefined) throw new IntegrityError(`${what} (number ${number}) does not exist`);
  const parsed = parseSignedDigest(stored);
  if (!parsed.ok) throw new IntegrityError(`${what} is not a digest: ${parsed.problem}`);
  if (!(await signer.verify(digestMessage(parsed.value.digest), parsed.value.signature))) {
    throw new IntegrityError(`${what} (number ${parsed.value.digest.number}) does not carry the digest key's signature`);
  }
  if (parsed.value.digest.number !== number) throw new IntegrityError(`the object of digest ${number} holds digest ${parsed.value.digest.number}`);
  return parsed.value;
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
    const newest = await store.latestNumber();
    // Never chain to a digest that is not ours: a planted "newest digest" would otherwise be signed into the chain.
    const previous = newest === undefined ? undefined : await trusted(signer, await store.get(newest), 'the newest digest', newest);
    if (previous && !(await store.isComplete(previous.digest.number))) await this.anchor(previous);
    const to = new Date(now.getTime() - timing.settleSeconds * 1000);
    if (previous && to.getTime() <= Date.parse(previous.digest.to)) return { written: false, reason: `digest ${previous.digest.number} already covers changes up to ${previous.digest.to}` };
    const from = previous ? new Date(Date.parse(previous.digest.to) - timing.overlapSeconds * 1000) : undefined;
    const { entries, skipped } = wellFormedHeads(await heads.changedHeads({ ...(from ? { from } : {}), to }));
    const digest = nextDigest(previous, { from: from ?? new Date(0), to }, entries);
    const signed: SignedDigest = { digest, signature: await signer.sign(digestMessage(digest)) };
    if (!(await store.create(signed))) return { written: false, reason: `another run wrote digest ${digest.number} first` };
    await this.anchor(signed);
    return { written: true, number: digest.number, entries: digest.entries.length, skipped, from: digest.from, to: digest.to };
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
    /** How long a change may wait for its digest before its absence is reported (settle + overlap, and a margin). */
    private readonly lagSeconds: number = DIGEST_TIMING.settleSeconds + DIGEST_TIMING.overlapSeconds + 60,
  ) {}

  /** The trail against its newest anchor and the newest digest. A digest that is not ours is reported as the break it is. */
  async check(trail: AnchoredTrail): Promise<AnchorReport> {
    const [anchor, newest] = await Promise.all([this.store.latestAnchor(trail.chainId), this.store.latestNumber()]);
    let latest: SignedDigest | undefined;
    let anchored: { digest: SignedDigest; entry: DigestEntry } | undefined;
    try {
      latest = newest === undefined ? undefined : await this.digest(newest, 'the newest digest');
      if (anchor) {
        const digest = await this.digest(anchor.number, `digest ${anchor.number}, named by an anchor,`);
        const entry = digest.digest.entries.find((e) => e.chainId === trail.chainId && e.seq === anchor.seq);
        if (!entry) return { status: 'broken', seq: anchor.seq, problem: `the anchor of event ${anchor.seq} names digest ${anchor.number}, which does not record it: the anchor was forged` };
        anchored = { digest, entry };
      }
    } catch (error) {
      if (error instanceof IntegrityError) return { status: 'broken', seq: anchor?.seq ?? 0, problem: error.message };
      throw error;
    }
    const check = checkAnchor(trail, anchored, latest, this.lagSeconds);
    return { ...check, ...(latest ? { latestDigest: { number: latest.digest.number, to: latest.digest.to } } : {}) };
  }

  private async digest(number: number, what: string): Promise<SignedDigest> {
    const cached = this.verified.get(number);
    if (cached) return cached;
    const digest = await trusted(this.signer, await this.store.get(number), what, number);
    if (this.verified.size >= CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(number, digest);
    return digest;
  }
}
