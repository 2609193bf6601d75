/**
 * One job: what it is, its story as a timeline, why it failed, its step's log (tail, follow), the Spark UI link,
 * cancel and rerun (each confirmed), and its audit trail with the chain verified here in the browser.
 */
import { useEffect, useState } from 'preact/hooks';
import type { AppUiResponse, AuditResponse, JobView, RerunResponse, StepLogsResponse } from '../../../client';
import { isTerminal } from '../../../jobs/statuses';
import { formatDuration, timeline } from '../../timeline';
import { checkTrail } from '../../trail';
import { api, ApiError } from '../api';
import { Arn, Choice, ConfirmDialog, ErrorBox, Head, Loading, Section, StatusBadge, Time } from '../components';
import { useNow, usePoll } from '../hooks';
import { externalUrl } from '../links';
import { go } from '../router';

const STREAMS = ['stdout', 'stderr', 'controller', 'syslog'] as const;
/** Lines kept on the page while following: the oldest go first. */
const MAX_LOG_LINES = 5000;

export function JobPage({ jobId }: { jobId: string }) {
  // The id comes from the page's address, decoded: encoded again, it stays one path segment (no ../, ?, # of its own).
  const id = encodeURIComponent(jobId);
  const job = usePoll(() => api<JobView>('GET', `/jobs/${id}`), jobId, 2000);
  const ended = job.data ? isTerminal(job.data.status) : false;
  // The trail grows with the job: read again whenever the job changed, and every 30 s (it is checked at each read).
  const audit = usePoll(() => api<AuditResponse>('GET', `/jobs/${id}/audit`), `${jobId}@${job.data?.updatedAt ?? ''}`, 30_000);
  const now = useNow();

  if (job.error && !job.data) return <ErrorBox error={job.error} what={`Job ${jobId}`} />;
  if (!job.data) return <Loading what={`job ${jobId}`} />;
  const j = job.data;
  const story = audit.data ? timeline(j, audit.data.events, now) : [];
  const runFor = j.finishedAt ? Date.parse(j.finishedAt) - Date.parse(j.createdAt) : now.getTime() - Date.parse(j.createdAt);

  return (
    <>
      <div class="job-head">
        <h1>
          {j.name} <StatusBadge status={j.status} />
        </h1>
        <Controls job={j} onChanged={job.refresh} />
      </div>
      <ErrorBox error={job.error} what="Refreshing the job" />
      <dl class="facts">
        <dt>Job</dt>
        <dd class="id">{j.jobId}</dd>
        <dt>Cluster</dt>
        <dd>{j.clusterId}</dd>
        <dt>Runtime role</dt>
        <dd>
          <Arn arn={j.executionRoleArn} />
        </dd>
        <dt>Step</dt>
        <dd>
          {j.stepType}
          {j.step.id ? ` ${j.step.id}` : ''}
          {j.step.state ? ` (${j.step.state})` : ''}
          {j.attempt !== undefined ? `, attempt ${j.attempt} of ${j.retry?.maxAttempts ?? '?'}` : ''}
        </dd>
        <dt>Caller</dt>
        <dd>
          <Arn arn={j.caller.principalArn} />
          {j.caller.sourceIdentity ? ` (${j.caller.sourceIdentity})` : ''}
        </dd>
        <dt>Created</dt>
        <dd>
          <Time at={j.createdAt} />
        </dd>
        <dt>{j.finishedAt ? 'Took' : 'Running for'}</dt>
        <dd>{formatDuration(runFor)}</dd>
        {j.admission ? (
          <>
            <dt>Admission</dt>
            <dd>
              group {j.admission.group}, priority {j.admission.priority}
            </dd>
          </>
        ) : null}
        {j.rerunOf ? (
          <>
            <dt>Rerun of</dt>
            <dd>
              <a href={`#/jobs/${j.rerunOf}`}>{j.rerunOf}</a>
            </dd>
          </>
        ) : null}
      </dl>
      {j.failureDetails || (j.stateChangeReason && j.status !== 'COMPLETED') ? (
        <Section title="Why it failed">
          <div class="failure" role="note">
            {j.failureDetails?.reason ? <p>{j.failureDetails.reason}</p> : null}
            {j.failureDetails?.message ? <pre>{j.failureDetails.message}</pre> : null}
            {j.failureDetails?.logFile ? <p class="muted">Log file: {j.failureDetails.logFile}</p> : null}
            {j.stateChangeReason?.message ? (
              <p>
                {j.stateChangeReason.code ? `${j.stateChangeReason.code}: ` : ''}
                {j.stateChangeReason.message}
              </p>
            ) : null}
          </div>
        </Section>
      ) : null}
      <Section title="Timeline">
        <ErrorBox error={audit.error} what="Reading the trail" />
        {!audit.data ? (
          <Loading what="the timeline" />
        ) : (
          <ol class="timeline" aria-label="What happened, in order">
            {story.map((entry, i) => (
              <li key={`${entry.label}-${i}`} class={entry.end ? `end-${entry.end}` : entry.ongoing ? 'ongoing' : ''}>
                <span class="what">{entry.label}</span> <Time at={entry.at} />
                {entry.durationMs !== undefined ? <span class="for"> {entry.ongoing ? 'for' : 'then'} {formatDuration(entry.durationMs)}{entry.ongoing ? ' so far' : ''}</span> : null}
                {entry.detail ? <div class="muted">{entry.detail}</div> : null}
              </li>
            ))}
          </ol>
        )}
      </Section>
      {j.links.logs ? <StepLog job={j} ended={ended} /> : null}
      <Trail audit={audit.data} now={now} onCheckAgain={audit.refresh} />
    </>
  );
}

function Controls({ job, onChanged }: { job: JobView; onChanged: () => void }) {
  const [asking, setAsking] = useState<'cancel' | 'rerun' | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const [busy, setBusy] = useState(false);
  // A rerun of a template's job may override its parameters; one Idempotency-Key per opening of the dialog.
  const templated = Object.entries(job.template?.parameters ?? {}).map(([name, value]) => [name, String(value)] as const);
  const [parameters, setParameters] = useState<Record<string, string>>({});
  const [rerunKey, setRerunKey] = useState('');
  const askRerun = () => {
    setParameters(Object.fromEntries(templated));
    setRerunKey(crypto.randomUUID());
    setAsking('rerun');
  };
  const cancellable = !isTerminal(job.status) && job.status !== 'CANCEL_PENDING';
  const act = async (what: 'cancel' | 'rerun') => {
    setAsking(undefined);
    setBusy(true);
    setError(undefined);
    try {
      if (what === 'cancel') {
        await api<JobView>('DELETE', `/jobs/${encodeURIComponent(job.jobId)}`);
        onChanged();
      } else {
        const changed = Object.fromEntries(templated.filter(([name, value]) => parameters[name] !== undefined && parameters[name] !== value).map(([name]) => [name, parameters[name]!]));
        const body = Object.keys(changed).length ? { parameters: changed } : {};
        const rerun = await api<RerunResponse>('POST', `/jobs/${encodeURIComponent(job.jobId)}/rerun`, { body, idempotencyKey: rerunKey });
        go(`/jobs/${rerun.jobId}`);
      }
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };
  const openUi = async () => {
    setError(undefined);
    try {
      const link = await api<AppUiResponse>('GET', `/jobs/${encodeURIComponent(job.jobId)}/ui`);
      if (!link.ready || link.url === undefined) throw new Error('EMR is preparing the Spark UI: try again in a few seconds');
      const url = externalUrl(link.url);
      if (!url) throw new Error(`the gateway's Spark UI link is not an http(s) address: ${String(link.url).slice(0, 80)}`);
      window.open(url, '_blank', 'noopener,noreferrer');
    } catch (e) {
      setError(e as Error);
    }
  };
  return (
    <div class="controls">
      {job.links.ui ? (
        <button type="button" onClick={() => void openUi()}>
          Spark UI
        </button>
      ) : null}
      {cancellable ? (
        <button type="button" class="danger" disabled={busy} onClick={() => setAsking('cancel')}>
          Cancel job
        </button>
      ) : null}
      {isTerminal(job.status) ? (
        <button type="button" disabled={busy} onClick={askRerun}>
          Rerun
        </button>
      ) : null}
      <ErrorBox error={error} />
      <ConfirmDialog
        open={asking === 'cancel'}
        title="Cancel this job?"
        confirm="Cancel the job"
        dismiss="Keep it running"
        danger
        onConfirm={() => void act('cancel')}
        onCancel={() => setAsking(undefined)}
      >
        <p>
          {job.name} ({job.jobId}) is {job.status}. Its step is interrupted (SIGTERM, then SIGKILL) and the job ends CANCELLED. The gateway decides whether you may.
        </p>
      </ConfirmDialog>
      <ConfirmDialog open={asking === 'rerun'} title="Rerun this job?" confirm="Rerun" dismiss="Back" onConfirm={() => void act('rerun')} onCancel={() => setAsking(undefined)}>
        <p>A new job from {job.name}'s request, decided again as you, on {job.clusterId}.</p>
        {templated.length ? (
          <fieldset class="parameters">
            <legend>Parameters of template {job.template?.name}</legend>
            {templated.map(([name]) => (
              <label key={name}>
                {name}
                <input type="text" value={parameters[name] ?? ''} onInput={(e) => setParameters((p) => ({ ...p, [name]: (e.target as HTMLInputElement).value }))} />
              </label>
            ))}
          </fieldset>
        ) : null}
      </ConfirmDialog>
    </div>
  );
}

function StepLog({ job, ended }: { job: JobView; ended: boolean }) {
  const [stream, setStream] = useState<(typeof STREAMS)[number]>('stdout');
  // A job with retries: which attempt's step (default: the current one's, as the API does).
  const [attempt, setAttempt] = useState<number | undefined>();
  const [follow, setFollow] = useState(!ended);
  const [lines, setLines] = useState<string[]>([]);
  const [partial, setPartial] = useState<string | undefined>();
  const [note, setNote] = useState<string | undefined>();
  useEffect(() => {
    // Each stream (and each follow) reads on its own: a read still in flight for the one before is dropped.
    let gone = false;
    let busy = false;
    let offset: number | undefined;
    setLines([]);
    setPartial(undefined);
    setNote(undefined);
    const read = async () => {
      if (busy) return;
      busy = true;
      try {
        const query = { stream, attempt, ...(offset === undefined ? { tail: 200 } : { offset }) };
        const answer = await api<StepLogsResponse>('GET', `/jobs/${encodeURIComponent(job.jobId)}/logs`, { query });
        if (gone) return;
        offset = answer.nextOffset;
        setLines((old) => (old.length + answer.lines.length > MAX_LOG_LINES ? [...old, ...answer.lines].slice(-MAX_LOG_LINES) : [...old, ...answer.lines]));
        setPartial(answer.partial);
        setNote(undefined);
      } catch (e) {
        if (!gone) setNote(e instanceof ApiError && (e.status === 404 || e.status === 409) ? e.message : `Reading the log: ${(e as Error).message}`);
      } finally {
        busy = false;
      }
    };
    void read();
    const timer = follow ? setInterval(() => void read(), 2000) : undefined;
    return () => {
      gone = true;
      if (timer) clearInterval(timer);
    };
  }, [job.jobId, stream, follow, attempt, job.step.id]);

  return (
    <Section
      title="Step log"
      actions={
        <div class="inline">
          <Choice label="Stream" value={stream} values={STREAMS} onChange={(v) => setStream(v as (typeof STREAMS)[number])} />
          {job.attempts && job.attempts.length > 1 ? (
            <label>
              Attempt
              <select value={attempt === undefined ? '' : String(attempt)} onChange={(e) => setAttempt((e.target as HTMLSelectElement).value ? Number((e.target as HTMLSelectElement).value) : undefined)}>
                <option value="">current</option>
                {job.attempts.map((a) => (
                  <option key={a.attempt} value={String(a.attempt)}>
                    {a.attempt} ({a.state ?? 'no state yet'})
                  </option>
                ))}
              </select>
            </label>
          ) : null}
          <label>
            <input type="checkbox" checked={follow} onChange={(e) => setFollow((e.target as HTMLInputElement).checked)} /> Follow
          </label>
        </div>
      }
    >
      {note ? <p class="muted">{note}</p> : null}
      <pre class="log" tabIndex={0} aria-label={`The step's ${stream}`} aria-live={follow ? 'polite' : 'off'}>
        {lines.join('\n')}
        {partial !== undefined ? `${lines.length ? '\n' : ''}${partial}` : ''}
      </pre>
      <p class="muted">
        {lines.length} line{lines.length === 1 ? '' : 's'} of {stream}
        {follow ? ', following' : ''}. EMR uploads a running step's log every few minutes.
      </p>
    </Section>
  );
}

function Trail({ audit, now, onCheckAgain }: { audit: AuditResponse | undefined; now: Date; onCheckAgain: () => void }) {
  if (!audit) return null;
  const check = checkTrail(audit, now);
  return (
    <Section
      title="Audit trail"
      actions={
        <button type="button" onClick={onCheckAgain}>
          Check again
        </button>
      }
    >
      <div class={`integrity ${check.verdict}`} role="status" aria-label={`Audit chain ${check.verdict}`}>
        <span class={`badge ${check.verdict === 'intact' ? 'tone-ok' : 'tone-bad'}`}>{check.verdict === 'intact' ? 'Intact' : 'Broken'}</span>{' '}
        {check.verdict === 'intact'
          ? `${check.events} events: every link and hash checked in this browser against the head the job records${
              check.anchor.status === 'anchored' ? ` and digest ${check.anchor.digest?.number ?? ''}` : check.anchor.status === 'pending' ? ' (no digest has recorded it yet)' : ''
            }; the gateway checked each event's seal (${check.gateway.macs === 'verified' ? 'MACs verified with the audit key' : 'MACs present'}).`
          : 'The trail does not verify:'}
        {check.problems.length ? (
          <ul>
            {check.problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        ) : null}
      </div>
      <table class="trail">
        <Head columns={['#', 'Event', 'At', 'By', 'What', 'Hash']} />
        <tbody>
          {audit.events.map((e) => (
            <tr key={e.seq} class={e.seq === check.brokenAt ? 'broken-row' : undefined}>
              <td>
                {e.seq}
                {e.seq === check.brokenAt ? <span class="visually-hidden"> (the break shows here)</span> : null}
              </td>
              <td>{e.type}</td>
              <td>
                <Time at={e.at} />
              </td>
              <td>
                <Arn arn={typeof e.actor?.principalArn === 'string' ? e.actor.principalArn : undefined} />
              </td>
              <td class="what">{summary(e)}</td>
              <td class="id" title={e.hash}>
                {e.hash.slice(0, 12)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}

function summary(e: AuditResponse['events'][number]): string {
  const parts: string[] = [];
  if (typeof e.decision?.reason === 'string') parts.push(e.decision.reason);
  if (typeof e.emr?.state === 'string') parts.push(`EMR ${e.emr.state}`);
  if (typeof e.emr?.stepId === 'string') parts.push(`step ${e.emr.stepId}`);
  if (typeof e.detail?.reason === 'string') parts.push(e.detail.reason);
  return parts.join('; ');
}
