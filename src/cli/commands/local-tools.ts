/**
 * `trigger`: it talks to the local stack's AWS port (--aws-endpoint), which fires the config's triggers. In AWS,
 * triggers are EventBridge rules. (`logs` reads through the gateway's API everywhere: commands/step-logs.ts.)
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { CliEnvironment } from '../../config/env';
import { json, type Io } from '../output';
import { EXIT, UsageError } from '../usage';

/** The local stack's AWS endpoint: --aws-endpoint, EMR_GATEWAY_AWS_ENDPOINT, or the default port. */
function localAwsEndpoint(flag: string | undefined, env: CliEnvironment): string {
  return (flag ?? env.awsEndpoint ?? 'http://127.0.0.1:4566').replace(/\/$/, '');
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
