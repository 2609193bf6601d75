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
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  return withApiErrors(io, async () => {
    const jobs: JobView[] = [];
    let nextToken = values['next-token'];
    do {
      const page = await client.listJobs({
        status: values.status,
        clusterId: values.cluster,
        caller: values.caller,
        from: values.from,
        to: values.to,
        ...(limit !== undefined ? { limit } : {}),
        nextToken,
      });
      jobs.push(...page.jobs);
      nextToken = page.nextToken;
    } while (values.all && nextToken);
    if (output === 'json') io.out(json({ jobs, ...(nextToken ? { nextToken } : {}) }));
    else {
      io.out(jobs.length ? table(['JOB', 'STATUS', 'NAME', 'CLUSTER', 'CALLER', 'CREATED'], jobs.map((j) => [j.jobId, j.status, j.name, j.clusterId, j.caller.sourceIdentity ?? j.caller.principalArn, j.createdAt])) : 'no jobs');
      if (nextToken) io.err(`more: --next-token ${nextToken} (or --all)`);
    }
    return EXIT.ok;
  });
}
