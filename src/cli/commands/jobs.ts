/** `status`, `list` and `cancel`: the caller's jobs, as the gateway reports them. */
import { parseArgs } from 'node:util';
import type { JobView } from '../../client';
import type { CliEnvironment } from '../../config/env';
import { CANCEL_MODES, type CancelMode } from '../../jobs/model';
import { connect, connectionOptions, withApiErrors } from '../connection';
import { renderJob } from '../job-output';
import { json, table, type Io } from '../output';
import { EXIT, jobIdArg, UsageError } from '../usage';
import { follow } from './submit';

const isCancelMode = (value: string): value is CancelMode => (CANCEL_MODES as readonly string[]).includes(value);

export async function status(args: string[], io: Io, env: CliEnvironment): Promise<number> {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: connectionOptions });
  const { client, output } = connect(values, env);
  const jobId = jobIdArg(positionals);
  return withApiErrors(io, async () => {
    const job = await client.getJob(jobId);
    io.out(output === 'json' ? json(job) : renderJob(job));
    return EXIT.ok;
  });
}

export async function cancel(args: string[], io: Io, env: CliEnvironment): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: { ...connectionOptions, mode: { type: 'string' }, wait: { type: 'boolean', default: false } },
  });
  const { client, output } = connect(values, env);
  const jobId = jobIdArg(positionals);
  const mode = values.mode;
  if (mode !== undefined && !isCancelMode(mode)) throw new UsageError(`--mode must be ${CANCEL_MODES.join(' or ')}`);
  return withApiErrors(io, async () => {
    const job = await client.cancel(jobId, mode);
    if (!values.wait) io.out(output === 'json' ? json(job) : `${job.jobId}  cancel requested (${job.cancelRequested?.mode ?? mode ?? 'SEND_INTERRUPT'}); status ${job.status}`);
    return values.wait ? follow(client, jobId, io, env.isTty, output) : EXIT.ok;
  });
}

export async function list(args: string[], io: Io, env: CliEnvironment): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      ...connectionOptions,
      status: { type: 'string' },
      cluster: { type: 'string' },
      caller: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      limit: { type: 'string' },
      'next-token': { type: 'string' },
      all: { type: 'boolean', default: false },
    },
  });
  const { client, output } = connect(values, env);
  const limit = values.limit === undefined ? undefined : limitArg(values.limit);
  const from = values.from === undefined ? undefined : instantArg('--from', values.from, 'start');
  const to = values.to === undefined ? undefined : instantArg('--to', values.to, 'end');
  return withApiErrors(io, async () => {
    const jobs: JobView[] = [];
    let nextToken = values['next-token'];
    do {
      const page = await client.listJobs({
        status: values.status,
        clusterId: values.cluster,
        caller: values.caller,
        from,
        to,
        ...(limit !== undefined ? { limit } : {}),
        nextToken,
      });
      jobs.push(...page.jobs);
      nextToken = page.nextToken;
    } while (values.all && nextToken);
    if (output === 'json') io.out(json({ jobs, ...(nextToken ? { nextToken } : {}) }));
    else {
      // An empty listing prints no table: the message is for people, on stderr (stdout stays empty for a pipe).
      if (jobs.length) io.out(table(['JOB', 'STATUS', 'NAME', 'CLUSTER', 'CALLER', 'CREATED'], jobs.map((j) => [j.jobId, j.status, j.name, j.clusterId, j.caller.sourceIdentity ?? j.caller.principalArn, j.createdAt])));
      else io.err('no jobs');
      if (nextToken) io.err(`more: --next-token ${nextToken} (or --all)`);
    }
    return EXIT.ok;
  });
}

/** --limit: what the API takes, checked here so the message names the flag. */
function limitArg(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 100) throw new UsageError(`--limit must be a whole number from 1 to 100, not ${JSON.stringify(value)}`);
  return n;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const ZONED_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/i;
const ZONELESS_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$/;

/**
 * --from/--to: an ISO 8601 time with its zone, or a day (UTC), from its start (--from) to its end (--to), so that
 * `--from D --to D` lists day D. Sent as toISOString writes it, which the API takes whatever the precision.
 */
export function instantArg(flag: string, value: string, edge: 'start' | 'end'): string {
  if (DAY.test(value)) {
    const start = new Date(`${value}T00:00:00.000Z`);
    // Date rolls 2026-02-30 over to March: a day that does not exist is refused.
    if (!Number.isNaN(start.getTime()) && start.toISOString().startsWith(value)) {
      return edge === 'start' ? start.toISOString() : new Date(start.getTime() + 86_400_000 - 1).toISOString();
    }
  } else if (ZONED_TIME.test(value)) {
    const time = new Date(value);
    if (!Number.isNaN(time.getTime())) return time.toISOString();
  } else if (ZONELESS_TIME.test(value)) {
    throw new UsageError(`${flag} ${value} has no time zone: add Z for UTC (${value}Z) or an offset (${value}+01:00)`);
  }
  throw new UsageError(`${flag} must be an ISO 8601 time with its zone (2026-12-01T09:30:00Z, 2026-12-01T10:30:00+01:00) or a day (2026-12-01, UTC), not ${JSON.stringify(value)}`);
}
