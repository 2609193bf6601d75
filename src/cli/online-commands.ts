/** The commands that talk to a gateway: submit, status, wait, cancel, list, audit, roles (online). */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { verifyChain } from '../audit/chain';
import { GatewayApiError, GatewayClient, type JobView } from '../client';
import { cliEnvironment } from '../config/env';
import { ACTIONS_ON_FAILURE } from '../jobs/request';
import { fields, json, table, type Io, type OutputFormat } from './output';
import { EXIT, required, UsageError } from './usage';

const connection = {
  endpoint: { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
  output: { type: 'string', default: 'table' },
} as const;

interface Connection {
  client: GatewayClient;
  output: OutputFormat;
}

function connect(values: { endpoint?: string; region?: string; profile?: string; output?: string }): Connection {
  const env = cliEnvironment();
  const endpoint = values.endpoint ?? env.endpoint;
  if (!endpoint) throw new UsageError('give the gateway with --endpoint URL or EMR_GATEWAY_ENDPOINT (the local stack: http://127.0.0.1:3000)');
  const output = values.output;
  if (output !== 'json' && output !== 'table') throw new UsageError(`--output must be json or table, not "${output}"`);
  const region = values.region ?? env.region;
  const profile = values.profile ?? env.profile;
  try {
    return {
      client: new GatewayClient({ endpoint, ...(region ? { region } : {}), credentials: fromNodeProviderChain(profile ? { profile } : {}) }),
      output,
    };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Exit codes for API errors: 2 bad usage, 3 denied/unauthenticated, 4 not found, 1 anything else. */
export function exitCodeFor(error: GatewayApiError): number {
  if (error.status === 400) return EXIT.usage;
  if (error.status === 401 || error.status === 403) return EXIT.denied;
  if (error.status === 404) return EXIT.notFound;
  return EXIT.failed;
}

/** Exit code of a finished job: 0 completed, 3 denied by policy, 1 anything else. */
export function exitCodeForJob(job: JobView): number {
  if (job.status === 'COMPLETED') return EXIT.ok;
  if (job.status === 'REJECTED' && job.decision.result !== 'Allowed') return EXIT.denied;
  return EXIT.failed;
}

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'INTERRUPTED', 'TIMED_OUT', 'REJECTED']);

function elapsed(from: string, to: Date = new Date()): string {
  const s = Math.max(0, Math.round((to.getTime() - Date.parse(from)) / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

function renderJob(job: JobView): string {
  const pairs: [string, string][] = [
    ['Job', job.jobId],
    ['Status', job.status],
    ['Name', job.name],
    ['Cluster', job.clusterId],
    ['Runtime role', job.executionRoleArn],
    ['Step', job.step.id ? `${job.step.id} (${job.step.state ?? 'not yet seen'}, ${job.stepType})` : `not submitted yet (${job.stepType})`],
    ['Caller', `${job.caller.callerArn}${job.caller.sourceIdentity ? ` (source identity ${job.caller.sourceIdentity})` : ''}`],
    ['Decision', `${job.decision.result}: ${job.decision.reason}`],
    ['Created', job.createdAt],
  ];
  if (job.submittedAt) pairs.push(['Submitted', job.submittedAt]);
  if (job.finishedAt) pairs.push(['Finished', `${job.finishedAt} (after ${elapsed(job.createdAt, new Date(job.finishedAt))})`]);
  if (job.timeoutSeconds) pairs.push(['Timeout', `${job.timeoutSeconds}s`]);
  if (job.cancelRequested) pairs.push(['Cancel', `${job.cancelRequested.mode} requested by ${job.cancelRequested.by} at ${job.cancelRequested.at}`]);
  const f = job.failureDetails;
  if (f) pairs.push(['Failure', [f.reason, f.message, f.logFile && `log: ${f.logFile}`].filter(Boolean).join(' — ')]);
  return fields(pairs);
}

/**
 * Follows a job to its end: on a terminal, one line rewritten in place (state, elapsed time); otherwise a
 * line per change of state. Polls every second at first, backing off to 5 s.
 */
async function follow(client: GatewayClient, jobId: string, io: Io, tty: boolean, output: OutputFormat): Promise<number> {
  let last = '';
  let delay = 1000;
  const spinner = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  for (let tick = 0; ; tick++) {
    const job = await client.getJob(jobId);
    const state = `${job.status}${job.step.state && job.step.state !== job.status ? ` (EMR ${job.step.state})` : ''}`;
    if (TERMINAL.has(job.status)) {
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

async function withApiErrors(io: Io, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof GatewayApiError)) throw error;
    io.err(`emr-gateway: ${error.status ? `${error.status} ${error.code}: ` : ''}${error.message}`);
    const issues = (error.details?.issues as { field: string; message: string }[] | undefined) ?? [];
    for (const issue of issues) io.err(`  ${issue.field}: ${issue.message}`);
    return exitCodeFor(error);
  }
}

export async function submit(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      ...connection,
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
      'idempotency-key': { type: 'string' },
      wait: { type: 'boolean', default: false },
    },
  });
  const { client, output } = connect(values);
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
  };
  // A key is always sent, so running the same command again after a lost answer cannot start a second job.
  const idempotencyKey = values['idempotency-key'] ?? randomUUID();
  return withApiErrors(io, async () => {
    const submitted = await client.submit(body, { idempotencyKey });
    if (output === 'json' && !values.wait) io.out(json({ ...submitted, idempotencyKey }));
    else if (output === 'table') {
      io.out(`${submitted.jobId}  ${submitted.status}${submitted.replayed ? '  (already submitted with this Idempotency-Key)' : ''}`);
      io.err(`Idempotency-Key: ${idempotencyKey}  (repeat with --idempotency-key ${idempotencyKey} to retry safely)`);
    }
    return values.wait ? follow(client, submitted.jobId, io, cliEnvironment().isTty, output) : EXIT.ok;
  });
}


function jobIdArg(positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError('give one job id');
  return positionals[0]!;
}

export async function status(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: connection });
  const { client, output } = connect(values);
  const jobId = jobIdArg(positionals);
  return withApiErrors(io, async () => {
    const job = await client.getJob(jobId);
    io.out(output === 'json' ? json(job) : renderJob(job));
    return EXIT.ok;
  });
}

export async function wait(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: connection });
  const { client, output } = connect(values);
  const jobId = jobIdArg(positionals);
  return withApiErrors(io, () => follow(client, jobId, io, cliEnvironment().isTty, output));
}

export async function cancel(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: { ...connection, mode: { type: 'string' }, wait: { type: 'boolean', default: false } },
  });
  const { client, output } = connect(values);
  const jobId = jobIdArg(positionals);
  const mode = values.mode;
  if (mode !== undefined && mode !== 'SEND_INTERRUPT' && mode !== 'TERMINATE_PROCESS') throw new UsageError('--mode must be SEND_INTERRUPT or TERMINATE_PROCESS');
  return withApiErrors(io, async () => {
    const job = await client.cancel(jobId, mode);
    if (!values.wait) io.out(output === 'json' ? json(job) : `${job.jobId}  cancel requested (${job.cancelRequested?.mode ?? mode ?? 'SEND_INTERRUPT'}); status ${job.status}`);
    return values.wait ? follow(client, jobId, io, cliEnvironment().isTty, output) : EXIT.ok;
  });
}

export async function list(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      ...connection,
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
  const { client, output } = connect(values);
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

export async function audit(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: { ...connection, verify: { type: 'boolean', default: false } } });
  const { client, output } = connect(values);
  const jobId = jobIdArg(positionals);
  return withApiErrors(io, async () => {
    const trail = await client.audit(jobId);
    // Verified here, from the events themselves: the server's own verdict is not taken on trust.
    const verification = verifyChain(jobId, trail.events.map((e) => ({ ...e, jobId })));
    if (output === 'json') io.out(json({ ...trail, ...(values.verify ? { verification } : {}) }));
    else {
      io.out(
        table(
          ['SEQ', 'AT', 'EVENT', 'BY', 'DETAIL'],
          trail.events.map((e) => [String(e.seq), e.at, e.type, actorLabel(e.actor), summary(e)]),
        ),
      );
      if (values.verify) {
        io.out(verification.ok ? `verified: ${verification.events} events, chain head ${verification.head}` : `BROKEN at event ${verification.seq}: ${verification.problem}`);
      }
    }
    return values.verify && !verification.ok ? EXIT.failed : EXIT.ok;
  });
}

function actorLabel(actor: Record<string, unknown> | undefined): string {
  const who = actor?.sourceIdentity ?? actor?.callerArn;
  return typeof who === 'string' ? who : '';
}

function summary(e: { decision?: Record<string, unknown>; emr?: Record<string, unknown>; detail?: Record<string, unknown> }): string {
  if (e.decision) return String(e.decision.result);
  if (e.emr) return [e.emr.stepId, e.emr.state].filter((v): v is string => typeof v === 'string').join(' ');
  if (e.detail) return Object.entries(e.detail).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ').slice(0, 120);
  return '';
}

export async function onlineRoles(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: { ...connection, cluster: { type: 'string' } } });
  const { client, output } = connect(values);
  return withApiErrors(io, async () => {
    const roles = await client.roles(values.cluster);
    if (output === 'json') io.out(json(roles));
    else {
      const rows = roles.clusters.flatMap((c) => c.roles.map((r) => [c.clusterId, r.roleArn, r.stepTypes.join(',')]));
      io.out(rows.length ? table(['CLUSTER', 'ROLE', 'STEP TYPES'], rows) : 'no runtime role is usable by this caller');
    }
    return EXIT.ok;
  });
}

/** The local stack's AWS endpoint: --aws-endpoint, EMR_GATEWAY_AWS_ENDPOINT, or the default port. */
function localAwsEndpoint(flag: string | undefined): string {
  return (flag ?? cliEnvironment().awsEndpoint ?? 'http://127.0.0.1:4566').replace(/\/$/, '');
}

/**
 * `logs JOB_ID`: the step's stdout (or --stderr) from the local EMR. The job is read through the gateway
 * first, so the same authorization applies; in AWS, step logs are where the cluster's LogUri says (S3).
 */
export async function logs(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: { ...connection, stderr: { type: 'boolean', default: false }, 'aws-endpoint': { type: 'string' } },
  });
  const { client } = connect(values);
  const jobId = jobIdArg(positionals);
  const awsEndpoint = localAwsEndpoint(values['aws-endpoint']);
  return withApiErrors(io, async () => {
    const job = await client.getJob(jobId);
    if (!job.step.id) {
      io.err(`${jobId} has no EMR step yet (status ${job.status})`);
      return EXIT.failed;
    }
    const stream = values.stderr ? 'stderr' : 'stdout';
    let response: Response;
    try {
      response = await fetch(`${awsEndpoint}/_local/emr/steps/${job.step.id}/${stream}`);
    } catch {
      io.err(`cannot reach the local EMR at ${awsEndpoint} (logs are served by the local stack; in AWS, read them from the cluster's LogUri)`);
      return EXIT.failed;
    }
    if (!response.ok) {
      io.err(`no ${stream} for step ${job.step.id} at ${awsEndpoint}`);
      return EXIT.notFound;
    }
    io.out(await response.text());
    return EXIT.ok;
  });
}

/** `trigger NAME --event FILE`: fires one of the local stack's triggers with an EventBridge event. */
export async function trigger(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: { event: { type: 'string' }, 'aws-endpoint': { type: 'string' }, output: { type: 'string', default: 'table' } },
  });
  if (positionals.length !== 1) throw new UsageError('give one trigger name');
  if (!values.event) throw new UsageError('--event FILE.json is required (an EventBridge event)');
  let event: string;
  try {
    event = readFileSync(values.event, 'utf8');
    JSON.parse(event);
  } catch (error) {
    throw new UsageError(`--event ${values.event}: ${(error as Error).message}`);
  }
  const awsEndpoint = localAwsEndpoint(values['aws-endpoint']);
  let response: Response;
  try {
    response = await fetch(`${awsEndpoint}/_local/triggers/${encodeURIComponent(positionals[0]!)}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: event });
  } catch {
    io.err(`cannot reach the local stack at ${awsEndpoint} (triggers fire there; in AWS they are EventBridge rules)`);
    return EXIT.failed;
  }
  let outcome: { outcome?: string; jobId?: string; reason?: string; issues?: { field: string; message: string }[]; error?: { message: string } };
  try {
    outcome = (await response.json()) as typeof outcome;
  } catch {
    io.err(`emr-gateway trigger: the local stack answered ${response.status} with a body that is not JSON`);
    return EXIT.failed;
  }
  if (!response.ok) {
    io.err(`emr-gateway trigger: ${outcome.error?.message ?? response.status}`);
    return response.status === 404 ? EXIT.notFound : response.status === 400 ? EXIT.usage : EXIT.failed;
  }
  if (values.output === 'json') io.out(json(outcome));
  else if (outcome.outcome === 'submitted') io.out(`${outcome.jobId}  submitted`);
  else if (outcome.outcome === 'denied') io.out(`denied: ${outcome.reason ?? ''}`);
  else io.out(`rejected:\n${(outcome.issues ?? []).map((i) => `  ${i.field}: ${i.message}`).join('\n')}`);
  return outcome.outcome === 'submitted' ? EXIT.ok : outcome.outcome === 'denied' ? EXIT.denied : EXIT.failed;
}
