/** `submit` (and `--wait`) and `wait`: start a job through the gateway, and follow one to its end. */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { GatewayApiError, type GatewayClient } from '../../client';
import type { CliEnvironment } from '../../config/env';
import { isTerminal } from '../../jobs/model';
import { ACTIONS_ON_FAILURE } from '../../jobs/request';
import { connect, connectionOptions, reportApiError, withApiErrors } from '../connection';
import { elapsed, exitCodeForJob, renderJob } from '../job-output';
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
    const state = `${job.status}${job.step.state && job.step.state !== job.status ? ` (EMR ${job.step.state})` : ''}`;
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
  const tags = Object.fromEntries(
    values.tag.map((t) => {
      const eq = t.indexOf('=');
      if (eq <= 0) throw new UsageError(`--tag takes KEY=VALUE, not "${t}"`);
      return [t.slice(0, eq), t.slice(eq + 1)];
    }),
  );
  let timeoutSeconds: number | undefined;
  if (values.timeout !== undefined) {
    timeoutSeconds = Number(values.timeout);
    if (!Number.isInteger(timeoutSeconds)) throw new UsageError(`--timeout takes whole seconds, not "${values.timeout}"`);
  }
  const aof = values['action-on-failure'];
  if (aof !== undefined && !(ACTIONS_ON_FAILURE as readonly string[]).includes(aof)) throw new UsageError(`--action-on-failure must be one of ${ACTIONS_ON_FAILURE.join(', ')}`);
  const body = {
    clusterId: required(values.cluster, '--cluster'),
    executionRoleArn: required(values.role, '--role'),
    name: required(values.name, '--name'),
    step,
    ...(aof ? { actionOnFailure: aof as (typeof ACTIONS_ON_FAILURE)[number] } : {}),
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
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
