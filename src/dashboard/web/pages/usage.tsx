/** Usage: the jobs that ended in a range, by final state with their step-seconds, grouped. */
import type { UsageResponse } from '../../../client';
import { api } from '../api';
import { Choice, ErrorBox, Head, Loading, Section } from '../components';
import { usePoll } from '../hooks';
import { formatDuration } from '../../timeline';
import { go, type Place } from '../router';

const GROUPINGS = ['principal', 'role', 'cluster'] as const;

export function UsagePage({ place }: { place: Place }) {
  const groupBy = place.query.get('groupBy') ?? 'principal';
  const days = Number(place.query.get('days') ?? '7');
  const from = new Date(Date.now() - (Number.isFinite(days) && days > 0 ? Math.min(days, 92) : 7) * 86_400_000).toISOString();
  const usage = usePoll(() => api<UsageResponse>('GET', '/usage', { query: { groupBy, from: from.slice(0, 16) + ':00Z' } }), `${groupBy}/${days}`, 30_000);
  const states = [...new Set((usage.data?.groups ?? []).flatMap((g) => Object.keys(g.byStatus)))].sort();
  return (
    <>
      <h1>Usage</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <Choice label="Group by" value={groupBy} values={GROUPINGS} onChange={(v) => go('/usage', { groupBy: v, days: String(days) })} />
        <Choice label="Ended in the last" value={String(days)} values={['1', '7', '30', '92']} show={(d) => `${d} day${d === '1' ? '' : 's'}`} onChange={(v) => go('/usage', { groupBy, days: v })} />
      </form>
      <ErrorBox error={usage.error} what="Reading usage" />
      {!usage.data ? (
        <Loading what="usage" />
      ) : (
        <Section title={`${usage.data.total.jobs} jobs ended, ${formatDuration(usage.data.total.stepSeconds * 1000)} of steps`}>
          <table>
            <Head columns={[groupBy, 'Jobs', ...states, 'Step time']} />
            <tbody>
              {usage.data.groups.map((g) => (
                <tr key={g.key ?? '(none)'}>
                  <td>{g.key ?? '(none)'}</td>
                  <td>{g.jobs}</td>
                  {states.map((s) => (
                    <td key={s}>{g.byStatus[s] ?? 0}</td>
                  ))}
                  <td>{formatDuration(g.stepSeconds * 1000)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Section>
      )}
    </>
  );
}
