/** `submit` (and `--wait`), `rerun` and `wait`: start a job through the gateway, and follow one to its end. */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { GatewayApiError, type GatewayClient } from '../../client';
import type { CliEnvironment } from '../../config/env';
import { isTerminal } from '../../jobs/model';
import { ACTIONS_ON_FAILURE } from '../../jobs/request';
import type { RetryOn } from '../../jobs/retry';
import { connect, connectionOptions, reportApiError, withApiErrors } from '../connection';
import { elapsed, exitCodeForJob, followState, renderJob } from '../job-output';
import { json, type Io, type OutputFormat } from '../output';
import { EXIT, jobIdArg, required, UsageError } from '../usage';

/**
 * Follows a job to its end: on a terminal, one line rewritten in place (state, elapsed time); otherwise a
 * line per change of state. Polls every second at first, backing off to 5 s.
 */
export async function follow(client: GatewayClient, jobId: string, io: Io, tty: boolean, output: OutputFormat): Promise<number> {
  let last = '';
  let delay = 1000;
  const spinner = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  for (let tick = 0; ; tick++) {
    const job = await client.getJob(jobId);
    const state = followState(job);
    if (isTerminal(job.status)) {
      if (tty && output === 'table') io.progress?.('');
      io.out(output === 'json' ? json(job) : `${renderJob(job)}`);
      return exitCodeForJob(job);
    }
    if (output === 'table') {
      if (tty) io.progress?.(`${spinner[tick % spinner.length]} ${jobId}  ${state}  ${elapsed(job.createdAt)}`);
      else if (state !== last) io.err(`${new Date().toISOString()}  ${jobId}  ${state}`);
    }
    last = state;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(5000, Math.round(delay * 1.5));
  }
}

export async function submit(args: string[], io: Io, env: CliEnvironment): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      ...connectionOptions,
      cluster: { type: 'string' },
      role: { type: 'string' },
      name: { type: 'string' },
      spark: { type: 'boolean', default: false },
      hive: { type: 'string' },
      jar: { type: 'string' },
      'main-class': { type: 'string' },
      'action-on-failure': { type: 'string' },
      timeout: { type: 'string' },
      priority: { type: 'string' },
      retry: { type: 'string' },
      'retry-interval': { type: 'string' },
      'retry-backoff': { type: 'string' },
      'retry-on': { type: 'string' },
      tag: { type: 'string', multiple: true, default: [] },
      notify: { type: 'string', multiple: true, default: [] },
      'idempotency-key': { type: 'string' },
      wait: { type: 'boolean', default: false },
    },
  });
  const { client, output } = connect(values, env);
  const kinds = [values.spark && 'spark', values.hive !== undefined && 'hive', values.jar !== undefined && 'jar'].filter(Boolean);
  if (kinds.length > 1) throw new UsageError(`choose one step type: --spark, --hive or --jar (got ${kinds.join(', ')})`);
  if (values['main-class'] !== undefined && values.jar === undefined) throw new UsageError('--main-class goes with --jar');
  const step =
    values.spark ? { type: 'spark' as const, args: positionals }
    : values.hive !== undefined ? { type: 'hive' as const, script: values.hive, ...(positionals.length ? { args: positionals } : {}) }
    : values.jar !== undefined ? { type: 'jar' as const, jar: values.jar, ...(values['main-class'] ? { mainClass: values['main-class'] } : {}), ...(positionals.length ? { args: positionals } : {}) }
    : { type: 'command' as const, args: positionals };
  if ((step.type === 'spark' || step.type === 'command') && !positionals.length) {
    throw new UsageError(step.type === 'spark' ? 'give the spark-submit arguments after --: --spark -- s3://bucket/app.py ARGS' : 'give the step: --spark, --hive SCRIPT, --jar JAR, or a command after --');
  }
  const tags = keyValues(values.tag, '--tag');
  let timeoutSeconds: number | undefined;
  if (values.timeout !== undefined) {
    timeoutSeconds = Number(values.timeout);
    if (!Number.isInteger(timeoutSeconds)) throw new UsageError(`--timeout takes whole seconds, not "${values.timeout}"`);
  }
  let priority: number | undefined;
  if (values.priority !== undefined) {
    priority = Number(values.priority);
    if (!/^\d$/.test(values.priority)) throw new UsageError(`--priority takes a whole number from 0 to 9 (higher starts first in the cluster's queue), not "${values.priority}"`);
  }
  const retry = retryArg(values);
  const aof = values['action-on-failure'];
  if (aof !== undefined && !(ACTIONS_ON_FAILURE as readonly string[]).includes(aof)) throw new UsageError(`--action-on-failure must be one of ${ACTIONS_ON_FAILURE.join(', ')}`);
  const body = {
    clusterId: required(values.cluster, '--cluster'),
    executionRoleArn: required(values.role, '--role'),
    name: required(values.name, '--name'),
    step,
    ...(aof ? { actionOnFailure: aof as (typeof ACTIONS_ON_FAILURE)[number] } : {}),
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
    ...(priority !== undefined ? { priority } : {}),
    ...(retry ? { retry } : {}),
    ...(values.tag.length ? { tags } : {}),
    ...(values.notify.length ? { notify: values.notify } : {}),
  };
  // A key is always sent, so running the same command again after a lost answer cannot start a second job.
  const idempotencyKey = values['idempotency-key'] ?? randomUUID();
  return withApiErrors(io, async () => {
    let submitted;
    try {
      submitted = await client.submit(body, { idempotencyKey });
    } catch (error) {
      const rejected = rejectedJob(error);
      if (!rejected) throw error;
      // A denial is recorded: a REJECTED job with its DECISION event. Its id is the answer, as an accepted job's is.
      io.out(output === 'json' ? json({ jobId: rejected, status: 'REJECTED', decision: (error as GatewayApiError).details?.decision, idempotencyKey }) : `${rejected}  REJECTED`);
      const code = reportApiError(io, error as GatewayApiError);
      if (output === 'table') io.err(`The denial is recorded: emr-gateway status ${rejected}; emr-gateway audit ${rejected}`);
      return code;
    }
    if (output === 'json' && !values.wait) io.out(json({ ...submitted, idempotencyKey }));
    else if (output === 'table') {
      io.out(`${submitted.jobId}  ${submitted.status}${submitted.replayed ? '  (already submitted with this Idempotency-Key)' : ''}`);
      io.err(`Idempotency-Key: ${idempotencyKey}  (repeat with --idempotency-key ${idempotencyKey} to retry safely)`);
    }
    return values.wait ? follow(client, submitted.jobId, io, env.isTty, output) : EXIT.ok;
  });
}

/**
 * `rerun JOB [--param NAME=VALUE]... [--wait]`: POST /jobs/{id}/rerun. Like submit, always with an Idempotency-Key, so
 * running the same command again after a lost answer answers the same rerun.
 */
export async function rerun(args: string[], io: Io, env: CliEnvironment): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: { ...connectionOptions, param: { type: 'string', multiple: true, default: [] }, 'idempotency-key': { type: 'string' }, wait: { type: 'boolean', default: false } },
  });
  const { client, output } = connect(values, env);
  const jobId = jobIdArg(positionals);
  const parameters = keyValues(values.param, '--param');
  const idempotencyKey = values['idempotency-key'] ?? randomUUID();
  return withApiErrors(io, async () => {
    let rerunning;
    try {
      rerunning = await client.rerun(jobId, { idempotencyKey, ...(values.param.length ? { parameters } : {}) });
    } catch (error) {
      const rejected = rejectedJob(error);
      if (!rejected) throw error;
      io.out(output === 'json' ? json({ jobId: rejected, status: 'REJECTED', rerunOf: jobId, decision: (error as GatewayApiError).details?.decision, idempotencyKey }) : `${rejected}  REJECTED  (rerun of ${jobId})`);
      const code = reportApiError(io, error as GatewayApiError);
      if (output === 'table') io.err(`The denial is recorded: emr-gateway status ${rejected}; emr-gateway audit ${rejected}`);
      return code;
    }
    if (output === 'json' && !values.wait) io.out(json({ ...rerunning, idempotencyKey }));
    else if (output === 'table') {
      io.out(`${rerunning.jobId}  ${rerunning.status}  (rerun of ${jobId})${rerunning.replayed ? '  (already rerun with this Idempotency-Key)' : ''}`);
      io.err(`Idempotency-Key: ${idempotencyKey}  (repeat with --idempotency-key ${idempotencyKey} to retry safely)`);
    }
    return values.wait ? follow(client, rerunning.jobId, io, env.isTty, output) : EXIT.ok;
  });
}

/** `KEY=VALUE` options as a record (the first `=` splits; the value may hold more). */
function keyValues(items: string[], option: string): Record<string, string> {
  return Object.fromEntries(
    items.map((t) => {
      const eq = t.indexOf('=');
      if (eq <= 0) throw new UsageError(`${option} takes KEY=VALUE, not "${t}"`);
      return [t.slice(0, eq), t.slice(eq + 1)];
    }),
  );
}

/** The job a 403 on submit recorded as REJECTED (the gateway names it in the error's details). */
function rejectedJob(error: unknown): string | undefined {
  if (!(error instanceof GatewayApiError) || error.status !== 403) return undefined;
  const jobId = error.details?.jobId;
  return typeof jobId === 'string' ? jobId : undefined;
}

export async function wait(args: string[], io: Io, env: CliEnvironment): Promise<number> {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: connectionOptions });
  const { client, output } = connect(values, env);
  const jobId = jobIdArg(positionals);
  return withApiErrors(io, () => follow(client, jobId, io, env.isTty, output));
}

/**
 * --retry N (attempts in all) with --retry-interval SECONDS (default 60), --retry-backoff X, --retry-on STATES: the
 * request's retry policy; the gateway checks its limits and names the field if one is broken.
 */
function retryArg(values: { retry?: string; 'retry-interval'?: string; 'retry-backoff'?: string; 'retry-on'?: string }) {
  const { retry, 'retry-interval': interval, 'retry-backoff': backoff, 'retry-on': on } = values;
  if (retry === undefined) {
    const stray = [interval !== undefined && '--retry-interval', backoff !== undefined && '--retry-backoff', on !== undefined && '--retry-on'].filter(Boolean);
    if (stray.length) throw new UsageError(`${stray.join(', ')} go${stray.length === 1 ? 'es' : ''} with --retry N (the attempts in all)`);
    return undefined;
  }
  const number = (flag: string, value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${flag} takes a number, not "${value}"`);
    return n;
  };
  return {
    maxAttempts: number('--retry', retry),
    intervalSeconds: interval === undefined ? DEFAULT_RETRY_INTERVAL_SECONDS : number('--retry-interval', interval),
    ...(backoff !== undefined ? { backoff: number('--retry-backoff', backoff) } : {}),
    ...(on !== undefined ? { on: on.split(',').map((s) => s.trim().toUpperCase()) as RetryOn[] } : {}),
  };
}

/** The CLI's interval when --retry comes without --retry-interval (the API requires intervalSeconds). */
const DEFAULT_RETRY_INTERVAL_SECONDS = 60;
