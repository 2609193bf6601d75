/** How the online commands reach a gateway: the connection flags, the signed client, and API errors as exit codes. */
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { DEFAULT_RETRY, GatewayApiError, GatewayClient, GatewayUnavailableError } from '../client';
import type { CliEnvironment } from '../config/env';
import { outputFormat, type Io, type OutputFormat } from './output';
import { EXIT, UsageError } from './usage';

/** The flags every online command takes (parseArgs options). */
export const connectionOptions = {
  endpoint: { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
  output: { type: 'string', default: 'table' },
} as const;

export interface Connection {
  client: GatewayClient;
  output: OutputFormat;
}

/** The client for the flags, falling back on the environment (EMR_GATEWAY_ENDPOINT, AWS_REGION, AWS_PROFILE). */
export function connect(values: { endpoint?: string; region?: string; profile?: string; output?: string }, env: CliEnvironment): Connection {
  const endpoint = values.endpoint ?? env.endpoint;
  if (!endpoint) throw new UsageError('give the gateway with --endpoint URL or EMR_GATEWAY_ENDPOINT (the local stack: http://127.0.0.1:3000)');
  const output = outputFormat(values.output);
  const region = values.region ?? env.region;
  const profile = values.profile ?? env.profile;
  const retrySeconds = env.retrySeconds === undefined ? DEFAULT_RETRY.forMs / 1000 : Number(env.retrySeconds);
  if (!Number.isFinite(retrySeconds) || retrySeconds < 0) throw new UsageError(`EMR_GATEWAY_RETRY_SECONDS must be a number of seconds, not "${env.retrySeconds ?? ''}"`);
  try {
    return {
      client: new GatewayClient({ endpoint, ...(region ? { region } : {}), credentials: fromNodeProviderChain(profile ? { profile } : {}), retry: { forMs: retrySeconds * 1000 } }),
      output,
    };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Exit codes for API errors: 2 bad usage, 3 denied/unauthenticated, 4 not found, 5 no answer, 1 anything else. */
function exitCodeFor(error: GatewayApiError): number {
  if (error instanceof GatewayUnavailableError || error.code === 'NetworkError') return EXIT.unavailable;
  if (error.status === 400) return EXIT.usage;
  if (error.status === 401 || error.status === 403) return EXIT.denied;
  if (error.status === 404) return EXIT.notFound;
  return EXIT.failed;
}

/** Runs a command's API calls; an API error is printed (with its field issues) and becomes the exit code. */
export async function withApiErrors(io: Io, run: () => Promise<number>): Promise<number> {
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
