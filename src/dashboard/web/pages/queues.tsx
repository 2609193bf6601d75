/** A cluster's admission: its capacity, the active and queued jobs per group, and the queue in expected start order. */
import type { QueueResponse, RolesResponse } from '../../../client';
import { api } from '../api';
import { Choice, ErrorBox, Head, Loading, Section, Time } from '../components';
import { usePoll } from '../hooks';
import { go, href, type Place } from '../router';

export function QueuesPage({ place, clusters }: { place: Place; clusters: RolesResponse['clusters'] | undefined }) {
  const clusterId = place.query.get('clusterId') ?? clusters?.[0]?.clusterId;
  const view = usePoll(() => (clusterId ? api<QueueResponse>('GET', '/queues', { query: { clusterId } }) : Promise.resolve(undefined)), clusterId ?? '', 3000);
  const q = view.data;
  return (
    <>
      <h1>Queues</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <Choice label="Cluster" value={clusterId ?? ''} values={(clusters ?? []).map((c) => c.clusterId)} onChange={(v) => go('/queues', { clusterId: v })} />
      </form>
      <ErrorBox error={view.error} what="Reading the queue" />
      {!q ? (
        <Loading what="the queue" />
      ) : (
        <>
          <Section title="Capacity">
            <p>
              <strong>{q.active}</strong> of {q.maxActiveJobs} active, <strong>{q.queued}</strong> of {q.maxQueuedJobs} queued
            </p>
            <meter min={0} max={q.maxActiveJobs} value={q.active} aria-label="Active jobs of the cluster's capacity" />
          </Section>
          <Section title="Groups">
            {!q.groups.length ? (
              <p class="muted">No group has jobs here.</p>
            ) : (
              <table>
                <Head columns={['Group', 'Active', 'Max active', 'Queued', 'Max queued']} />
                <tbody>
                  {q.groups.map((g) => (
                    <tr key={g.name}>
                      <td>{g.name}</td>
                      <td>{g.active}</td>
                      <td>{g.maxActiveJobs ?? '-'}</td>
                      <td>{g.queued}</td>
                      <td>{g.maxQueuedJobs ?? '-'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Section>
          <Section title="Waiting, in expected start order">
            {!q.entries.length ? (
              <p class="muted">Nobody waits.</p>
            ) : (
              <table>
                <Head columns={['Position', 'Group', 'Priority', 'Queued at', 'Job (yours only)']} />
                <tbody>
                  {q.entries.map((e) => (
                    <tr key={e.position}>
                      <td>{e.position}</td>
                      <td>{e.group}</td>
                      <td>{e.priority}</td>
                      <td>
                        <Time at={e.queuedAt} />
                      </td>
                      <td>{e.jobId ? <a href={href(`/jobs/${e.jobId}`)}>{e.jobId}</a> : '-'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Section>
        </>
      )}
    </>
  );
}
