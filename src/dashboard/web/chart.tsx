/** Jobs over time by final state: stacked bars of the jobs that ended in each interval (SVG, no library). */
import type { JobView } from '../../client';

const FINAL = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'INTERRUPTED', 'REJECTED'] as const;
const STEPS_MS = [60_000, 5 * 60_000, 15 * 60_000, 3_600_000, 6 * 3_600_000, 86_400_000, 7 * 86_400_000];
const BARS = 24;

export interface Bucket {
  start: number;
  counts: Record<string, number>;
  total: number;
}

/** The ended jobs in at most 24 buckets of a round size (1 min ... 1 week) ending with the newest. */
export function buckets(jobs: readonly JobView[]): { size: number; buckets: Bucket[] } {
  const ended = jobs.filter((j) => j.finishedAt && (FINAL as readonly string[]).includes(j.status)).map((j) => ({ at: Date.parse(j.finishedAt!), status: j.status }));
  if (!ended.length) return { size: STEPS_MS[0]!, buckets: [] };
  const first = Math.min(...ended.map((e) => e.at));
  const last = Math.max(...ended.map((e) => e.at));
  const size = STEPS_MS.find((s) => (last - first) / s < BARS) ?? STEPS_MS[STEPS_MS.length - 1]!;
  const end = Math.floor(last / size) * size;
  const count = Math.min(BARS, Math.floor((end - Math.floor(first / size) * size) / size) + 1);
  const out: Bucket[] = Array.from({ length: count }, (_, i) => ({ start: end - (count - 1 - i) * size, counts: {}, total: 0 }));
  for (const e of ended) {
    const index = count - 1 - Math.floor((end - Math.floor(e.at / size) * size) / size);
    const bucket = out[index];
    if (!bucket) continue;
    bucket.counts[e.status] = (bucket.counts[e.status] ?? 0) + 1;
    bucket.total++;
  }
  return { size, buckets: out };
}

const label = (start: number, size: number): string =>
  new Date(start).toLocaleString(undefined, size >= 86_400_000 ? { month: 'short', day: 'numeric' } : { hour: '2-digit', minute: '2-digit' });

export function EndedChart({ jobs }: { jobs: readonly JobView[] }) {
  const { size, buckets: bars } = buckets(jobs);
  if (!bars.length) return <p class="muted">No job of these has ended yet.</p>;
  const width = 640;
  const height = 140;
  const top = Math.max(...bars.map((b) => b.total));
  const barWidth = Math.min(48, width / bars.length); // one bar of one minute is no wall
  const totals = FINAL.map((s) => [s, bars.reduce((n, b) => n + (b.counts[s] ?? 0), 0)] as const).filter(([, n]) => n);
  const summary = `Jobs ended per ${size >= 3_600_000 ? `${size / 3_600_000} h` : `${size / 60_000} min`}: ${totals.map(([s, n]) => `${n} ${s}`).join(', ')}`;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height + 18}`} role="img" aria-label={summary}>
        {bars.map((b, i) => {
          let y = height;
          return (
            <g key={b.start}>
              <title>{`${label(b.start, size)}: ${FINAL.filter((s) => b.counts[s]).map((s) => `${b.counts[s]} ${s}`).join(', ') || 'none'}`}</title>
              {FINAL.filter((s) => b.counts[s]).map((s) => {
                const h = (b.counts[s]! / top) * (height - 4);
                y -= h;
                return <rect key={s} class={`bar-${s}`} x={i * barWidth + 2} y={y} width={Math.max(1, barWidth - 4)} height={h} />;
              })}
              {i % Math.ceil(bars.length / 6) === 0 ? (
                <text x={i * barWidth + 2} y={height + 14} class="axis">
                  {label(b.start, size)}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <figcaption>
        {summary}
        <span class="legend">
          {totals.map(([s]) => (
            <span key={s}>
              <i class={`swatch bar-${s}`} aria-hidden="true" /> {s}
            </span>
          ))}
        </span>
      </figcaption>
    </figure>
  );
}
