/**
 * A job's story for the dashboard, from its audit trail (each event's time is when the gateway recorded it): the
 * decision, queueing and admission, each attempt's step submitted, pending and running, a cancel asked for, the end.
 * Pure: the page and the tests build it alike.
 */
import type { AuditResponse, JobView } from '../client';

export interface TimelineEntry {
  /** e.g. "Accepted", "Running", "Completed". */
  label: string;
  at: string;
  /** Until the next entry, or until now for the last one of a job still active; none for the end. */
  durationMs?: number;
  /** Still going: the last entry of an active job. */
  ongoing?: boolean;
  /** Who, which attempt, which step, why. */
  detail?: string;
  /** The entry is the end, and how it went. */
  end?: 'ok' | 'bad';
}

type Event = AuditResponse['events'][number];

const TERMINAL: Record<string, 'ok' | 'bad'> = { COMPLETED: 'ok', FAILED: 'bad', CANCELLED: 'bad', INTERRUPTED: 'bad', TIMED_OUT: 'bad', REJECTED: 'bad' };
const titleCase = (word: string): string => word.charAt(0) + word.slice(1).toLowerCase().replace(/_/g, ' ');
const field = (record: Record<string, unknown> | undefined, key: string): string | undefined => (typeof record?.[key] === 'string' ? record[key] : undefined);
const attemptOf = (event: Event): number | undefined => (typeof event.emr?.attempt === 'number' ? event.emr.attempt : undefined);

function entryOf(event: Event): Omit<TimelineEntry, 'durationMs' | 'ongoing'> | undefined {
  const attempt = attemptOf(event);
  const ofAttempt = attempt !== undefined && attempt > 1 ? ` (attempt ${attempt})` : '';
  switch (event.type) {
    case 'DECISION': {
      const allowed = field(event.decision, 'result') === 'Allowed';
      return { label: allowed ? 'Accepted' : 'Rejected', at: event.at, detail: field(event.decision, 'reason') ?? '', ...(allowed ? {} : { end: 'bad' as const }) };
    }
    case 'QUEUED':
      return { label: 'Queued', at: event.at, detail: `group ${field(event.detail, 'group') ?? '?'}, priority ${typeof event.detail?.priority === 'number' ? event.detail.priority : '?'}` };
    case 'ADMITTED':
      return { label: 'Admitted', at: event.at };
    case 'SUBMITTED':
      return { label: `Submitted${ofAttempt}`, at: event.at, detail: field(event.emr, 'stepId') ? `step ${field(event.emr, 'stepId')}` : '' };
    case 'STATE_CHANGED': {
      const state = field(event.emr, 'state') ?? 'changed';
      return { label: `${titleCase(state)}${ofAttempt}`, at: event.at };
    }
    case 'ATTEMPT_ENDED':
      return { label: `Attempt ${attempt ?? ''} ended`.replace('  ', ' '), at: event.at, detail: field(event.detail, 'reason') ?? field(event.emr, 'state') ?? '' };
    case 'ATTEMPT_STARTED':
      return { label: `Attempt ${attempt ?? ''} started`.replace('  ', ' '), at: event.at };
    case 'CANCEL_REQUESTED':
      return { label: 'Cancel requested', at: event.at, detail: field(event.actor, 'principalArn') ?? '' };
    case 'RERUN':
      return undefined; // on the job it reran, not a phase of this one
    default: {
      const end = TERMINAL[event.type];
      if (end) return { label: titleCase(event.type), at: event.at, end, detail: field(event.detail, 'reason') ?? '' };
      return undefined; // bookkeeping (RECONCILED, TIMEOUT, a denied read): in the trail, not the story
    }
  }
}

export function timeline(job: Pick<JobView, 'status'>, events: readonly Event[], now: Date): TimelineEntry[] {
  const entries = events.map(entryOf).filter((e): e is NonNullable<typeof e> => e !== undefined);
  const active = !TERMINAL[job.status];
  return entries.map((entry, i) => {
    const next = entries[i + 1];
    const detail = entry.detail ? { detail: entry.detail } : {};
    const base = { label: entry.label, at: entry.at, ...detail, ...(entry.end ? { end: entry.end } : {}) };
    if (next) return { ...base, durationMs: Math.max(0, Date.parse(next.at) - Date.parse(entry.at)) };
    if (active && !entry.end) return { ...base, durationMs: Math.max(0, now.getTime() - Date.parse(entry.at)), ongoing: true };
    return base;
  });
}

/** 850 ms, 12 s, 3 min 4 s, 2 h 5 min, 3 d 4 h: for people. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h${m % 60 ? ` ${m % 60} min` : ''}`;
  const d = Math.floor(h / 24);
  return `${d} d${h % 24 ? ` ${h % 24} h` : ''}`;
}
