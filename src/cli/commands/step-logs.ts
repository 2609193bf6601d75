/**
 * `logs JOB_ID` and `ui JOB_ID`: a job's step logs and its Spark UI link, through the gateway's API (GET
 * /jobs/{id}/logs, GET /jobs/{id}/ui) in AWS and on the local stack alike: the gateway reads the logs where EMR
 * archives them (the cluster's LogUri in S3) and asks EMR for the link, each as reading the job is authorized.
 */
import { parseArgs } from 'node:util';
import { GatewayApiError, type GatewayClient, type StepLogsResponse, type StepLogStreamName } from '../../client';
import type { CliEnvironment } from '../../config/env';
import { isTerminal } from '../../jobs/model';
import { openSecretInBrowser } from '../browser';
import { connect, connectionOptions, withApiErrors } from '../connection';
import { json, outputFormat, type Io } from '../output';
import { EXIT, jobIdArg, UsageError } from '../usage';

const STREAMS: readonly StepLogStreamName[] = ['stdout', 'stderr', 'controller', 'syslog'];
/** Seconds between two reads of a followed log (EMR uploads a running step's logs every few minutes). */
const FOLLOW_INTERVAL_SECONDS = 2;

function streamOf(values: { stream?: string | undefined; stderr?: boolean | undefined }): StepLogStreamName {
  if (values.stderr && values.stream !== undefined && values.stream !== 'stderr') throw new UsageError('give --stderr or --stream, not both');
  const stream = values.stderr ? 'stderr' : (values.stream ?? 'stdout');
  if (!(STREAMS as readonly string[]).includes(stream)) throw new UsageError(`--stream must be one of ${STREAMS.join(', ')}, not "${stream}"`);
  return stream as StepLogStreamName;
}

function attemptOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 10) throw new UsageError(`--attempt must be a whole number from 1 to 10, not "${value}"`);
  return Number(value);
}

function tailOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 10_000) throw new UsageError(`--tail must be a whole number from 1 to 10000, not "${value}"`);
  return n;
}

/** The window's lines; `final` also prints the unfinished last line (the log will not grow any more). */
function print(io: Io, window: StepLogsResponse, final: boolean): void {
  for (const line of window.lines) io.out(line);
  if (final && window.partial !== undefined) io.out(window.partial);
}

/** What the window left out, said on stderr (stdout holds only the log's own lines). */
function notes(io: Io, window: StepLogsResponse): void {
  if (window.cutLines) io.err(`(${window.cutLines} line${window.cutLines > 1 ? 's' : ''} longer than the gateway shows were cut)`);
}

export async function logs(args: string[], io: Io, env: CliEnvironment): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      ...connectionOptions,
      stream: { type: 'string' },
      stderr: { type: 'boolean', default: false },
      tail: { type: 'string' },
      attempt: { type: 'string' },
      follow: { type: 'boolean', short: 'f', default: false },
    },
  });
  const jobId = jobIdArg(positionals);
  const stream = streamOf(values);
  const tail = tailOf(values.tail);
  const attempt = attemptOf(values.attempt);
  if (attempt !== undefined && values.follow) throw new UsageError('--follow follows every attempt in turn: not with --attempt');
  const format = outputFormat(values.output);
  if (values.follow && format === 'json') throw new UsageError('--follow prints lines as they come: not with --output json');
  const { client } = connect(values, env);
  return withApiErrors(io, async () => {
    if (!values.follow) {
      const window = await client.logs(jobId, { stream, ...(tail !== undefined ? { tail } : {}), ...(attempt !== undefined ? { attempt } : {}) });
      if (format === 'json') io.out(json(window));
      else {
        print(io, window, true);
        notes(io, window);
        if (window.offset > 0) io.err(`(the last ${window.lines.length} lines of ${window.logUri}; --tail N for more, up to 10000)`);
      }
      return EXIT.ok;
    }
    return follow(client, io, jobId, stream, tail);
  });
}

/**
 * `logs --follow`: the last lines, then what the step adds, until the job has ended and its last upload is read.
 * A log not written yet (or a job without its step yet) is waited for while the job runs.
 */
async function follow(client: GatewayClient, io: Io, jobId: string, stream: StepLogStreamName, tail: number | undefined): Promise<number> {
  let offset: number | undefined;
  let waiting = false;
  // A job with retries: each attempt's log in turn, from the attempt the job is on when the follow starts.
  let attempt: number | undefined;
  for (;;) {
    // The job's state before the read: a read after it had ended holds its last upload (EMR uploads at the end).
    const job = await client.getJob(jobId);
    attempt ??= job.retry ? (job.attempt ?? 1) : undefined;
    // The attempt followed has ended once the job is past it, between attempts, or ended.
    const ended = isTerminal(job.status) || (attempt !== undefined && (attempt < (job.attempt ?? 1) || job.nextAttemptAt !== undefined));
    let window: StepLogsResponse | undefined;
    try {
      window = await client.logs(jobId, { stream, ...(offset === undefined ? (tail !== undefined ? { tail } : {}) : { offset }), ...(attempt !== undefined ? { attempt } : {}) });
    } catch (error) {
      const notYet = error instanceof GatewayApiError && (error.code === 'LogNotYetWritten' || error.code === 'NoStep');
      const last = attempt === undefined || attempt >= (job.attempt ?? 1);
      if (!notYet || (isTerminal(job.status) && last)) throw error;
      if (!waiting) io.err(`(waiting for the ${stream} log: ${error.message})`);
      waiting = true;
    }
    if (window) {
      print(io, window, ended && !window.more);
      notes(io, window);
      offset = window.nextOffset;
      if (window.more) continue;
      if (isTerminal(job.status) && (attempt === undefined || attempt >= (job.attempt ?? 1))) return EXIT.ok;
    }
    if (ended && attempt !== undefined && attempt < (job.attempt ?? 1)) {
      // On to the next attempt's log, from its start.
      attempt++;
      offset = 0;
      waiting = false;
      io.err(`(attempt ${attempt})`);
      continue;
    }
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_INTERVAL_SECONDS * 1000));
  }
}

/** `ui JOB_ID [--open]`: the presigned link to the job's Spark UI (running) or application history (ended). */
export async function ui(args: string[], io: Io, env: CliEnvironment): Promise<number> {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: { ...connectionOptions, open: { type: 'boolean', default: false } } });
  const jobId = jobIdArg(positionals);
  const format = outputFormat(values.output);
  const { client } = connect(values, env);
  return withApiErrors(io, async () => {
    const link = await client.appUi(jobId);
    if (format === 'json') io.out(json(link));
    else if (link.url) io.out(link.url);
    if (!link.url) {
      io.err(`EMR is still preparing the ${link.kind} application UI of ${jobId}: ask again in a few seconds`);
      return EXIT.failed;
    }
    if (format !== 'json') io.err(`(${link.kind === 'on-cluster' ? "the cluster's Spark UI, while the job runs" : "the job's application history"}, under its runtime role; the link is short-lived: do not share it)`);
    // The link is a credential while it lasts: not in the browser's command line. The command ends now, the browser
    // reads the launcher when it has started: the launcher goes a minute later.
    if (values.open) openSecretInBrowser(io, link.url, 'the Spark UI').removeLater(60_000);
    return EXIT.ok;
  });
}
