/** Jobs: a live table with the list's filters, counts by state, and a chart of the ended ones over time. */
import { useState } from 'preact/hooks';
import type { JobList, JobView, RolesResponse } from '../../../client';
import { ACTIVE_STATUSES, JOB_STATUSES } from '../../../jobs/statuses';
import { api } from '../api';
import { EndedChart } from '../chart';
import { Arn, Choice, Duration, ErrorBox, Head, Loading, Section, StatusBadge } from '../components';
import { usePoll, useNow } from '../hooks';
import { go, href, type Place } from '../router';

/** The newest this many jobs are shown, counted and charted (the API's pages of 100). */
const PAGES = 3;

interface Filters {
  clusterId?: string;
  status?: string;
  caller?: string;
  /** ISO times: created at or after, at or before. */
  from?: string;
  to?: string;
}

const FILTERS = ['clusterId', 'status', 'caller', 'from', 'to'] as const;

/** A datetime-local input's value (the reader's local time) as an ISO time, and back. */
const toIso = (local: string): string | undefined => (local ? new Date(local).toISOString() : undefined);
const toLocal = (iso: string | undefined): string => {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};

async function loadJobs(filters: Filters): Promise<{ jobs: JobView[]; more: boolean }> {
  const jobs: JobView[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < PAGES; page++) {
    const answer = await api<JobList>('GET', '/jobs', { query: { ...filters, limit: 100, nextToken } });
    jobs.push(...answer.jobs);
    nextToken = answer.nextToken;
    if (!nextToken) break;
  }
  return { jobs, more: nextToken !== undefined };
}

const endOf = (job: JobView, now: Date): number | undefined => {
  const start = job.submittedAt ?? job.createdAt;
  if (job.finishedAt) return Date.parse(job.finishedAt) - Date.parse(start);
  return (ACTIVE_STATUSES as readonly string[]).includes(job.status) ? now.getTime() - Date.parse(start) : undefined;
};

export function JobsPage({ place, clusters }: { place: Place; clusters: RolesResponse['clusters'] | undefined }) {
  const filters: Filters = Object.fromEntries(FILTERS.flatMap((name) => (place.query.get(name) ? [[name, place.query.get(name)!]] : [])));
  const [typed, setTyped] = useState({ caller: filters.caller ?? '', from: toLocal(filters.from), to: toLocal(filters.to) });
  const key = JSON.stringify(filters);
  const list = usePoll(() => loadJobs(filters), key, 3000);
  const now = useNow();
  const set = (change: Filters) => go('/jobs', { ...filters, ...change });
  const jobs = list.data?.jobs ?? [];
  const counts = JOB_STATUSES.map((s) => [s, jobs.filter((j) => j.status === s).length] as const).filter(([, n]) => n);
  const scope = Object.keys(filters).length ? 'the jobs you may list that match' : 'your own jobs (choose a cluster or a status to see others you may list)';

  return (
    <>
      <Section title="Jobs">
        <form
          class="filters"
          onSubmit={(e) => {
            e.preventDefault();
            set({ caller: typed.caller.trim() || undefined, from: toIso(typed.from), to: toIso(typed.to) });
          }}
        >
          <Choice label="Cluster" none="any" value={filters.clusterId ?? ''} values={(clusters ?? []).map((c) => c.clusterId)} onChange={(v) => set({ clusterId: v || undefined })} />
          <Choice label="Status" none="any" value={filters.status ?? ''} values={JOB_STATUSES} onChange={(v) => set({ status: v || undefined })} />
          <label>
            Caller
            <input type="text" value={typed.caller} placeholder="arn:aws:iam::123456789012:role/..." size={40} onInput={(e) => setTyped((t) => ({ ...t, caller: (e.target as HTMLInputElement).value }))} />
          </label>
          <label>
            Created from
            <input type="datetime-local" value={typed.from} onInput={(e) => setTyped((t) => ({ ...t, from: (e.target as HTMLInputElement).value }))} />
          </label>
          <label>
            to
            <input type="datetime-local" value={typed.to} onInput={(e) => setTyped((t) => ({ ...t, to: (e.target as HTMLInputElement).value }))} />
          </label>
          <button type="submit">Filter</button>
          {Object.keys(filters).length ? (
            <a class="button" href={href('/jobs')}>
              Clear
            </a>
          ) : null}
        </form>
        <p class="muted">
          Showing {scope}, newest first{list.data?.more ? ` (the newest ${jobs.length})` : ''}; updated every 3 s.
        </p>
        <ErrorBox error={list.error} what="Listing the jobs" />
        <ul class="counts" aria-label="Jobs by state">
          {counts.map(([s, n]) => (
            <li key={s}>
              <a href={href('/jobs', { ...filters, status: s })}>
                <StatusBadge status={s} /> <span class="count">{n}</span>
              </a>
            </li>
          ))}
        </ul>
      </Section>
      <Section title="Ended over time">
        <EndedChart jobs={jobs} />
      </Section>
      <Section title={`${jobs.length} job${jobs.length === 1 ? '' : 's'}`}>
        {list.loading && !list.data ? (
          <Loading what="the jobs" />
        ) : !jobs.length ? (
          <p class="muted">No jobs.</p>
        ) : (
          <table class="jobs">
            <Head columns={['Status', 'Name', 'Cluster', 'Role', 'Caller', 'Age', 'Duration']} />
            <tbody>
              {jobs.map((job) => (
                <tr key={job.jobId} data-job-id={job.jobId}>
                  <td>
                    <StatusBadge status={job.status} />
                  </td>
                  <td>
                    <a href={href(`/jobs/${job.jobId}`)}>{job.name}</a>
                    <div class="id">{job.jobId}</div>
                  </td>
                  <td>{job.clusterId}</td>
                  <td>
                    <Arn arn={job.executionRoleArn} />
                  </td>
                  <td>
                    <Arn arn={job.caller.principalArn} />
                    {job.caller.sourceIdentity ? <div class="id">{job.caller.sourceIdentity}</div> : null}
                  </td>
                  <td>
                    <Duration ms={now.getTime() - Date.parse(job.createdAt)} />
                  </td>
                  <td>
                    <Duration ms={endOf(job, now)} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </>
  );
}
