/**
 * `logs` and `trigger`: they talk to the local stack's AWS port (--aws-endpoint), which serves the local EMR's
 * step output and fires the config's triggers. In AWS, step logs are in S3 and triggers are EventBridge rules.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { CliEnvironment } from '../../config/env';
import { connect, connectionOptions, withApiErrors } from '../connection';
import { json, type Io } from '../output';
import { EXIT, jobIdArg, UsageError } from '../usage';

/** The local stack's AWS endpoint: --aws-endpoint, EMR_GATEWAY_AWS_ENDPOINT, or the default port. */
function localAwsEndpoint(flag: string | undefined, env: CliEnvironment): string {
  return (flag ?? env.awsEndpoint ?? 'http://127.0.0.1:4566').replace(/\/$/, '');
}

/**
 * `logs JOB_ID`: the step's stdout (or --stderr) from the local EMR. The job is read through the gateway
 * first, so the same authorization applies; in AWS, step logs are where the cluster's LogUri says (S3).
 */
export async function logs(args: string[], io: Io, env: CliEnvironment): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: { ...connectionOptions, stderr: { type: 'boolean', default: false }, 'aws-endpoint': { type: 'string' } },
  });
  const { client } = connect(values, env);
  const jobId = jobIdArg(positionals);
  const awsEndpoint = localAwsEndpoint(values['aws-endpoint'], env);
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
export async function trigger(args: string[], io: Io, env: CliEnvironment): Promise<number> {
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
  const awsEndpoint = localAwsEndpoint(values['aws-endpoint'], env);
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
  else if (outcome.outcome === 'conflict') io.out(`conflict: ${outcome.reason ?? ''}${outcome.jobId ? ` (${outcome.jobId})` : ''}`);
  else io.out(`rejected:\n${(outcome.issues ?? []).map((i) => `  ${i.field}: ${i.message}`).join('\n')}`);
  return outcome.outcome === 'submitted' ? EXIT.ok : outcome.outcome === 'denied' ? EXIT.denied : EXIT.failed;
}
