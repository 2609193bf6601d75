/** How the online commands reach a gateway: the connection flags, the signed client, and API errors as exit codes. */
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { DEFAULT_RETRY, GatewayApiError, GatewayClient, GatewayUnavailableError } from '../client';
import type { CliEnvironment } from '../config/env';
import { outputFormat, type Io, type OutputFormat } from './output';
import { EXIT, UsageError } from './usage';
import { LOOPBACK_NAMES } from '../local/listen';

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
  const chain = fromNodeProviderChain(profile ? { profile } : {});
  // The chain's own error names no variable to set; said here, it is a credentials problem (exit 3), not an internal one.
  const credentials = async () => {
    try {
      return await chain();
    } catch (error) {
      if ((error as Error).name === 'CredentialsProviderError') throw new CliError(noCredentials(profile, (error as Error).message), EXIT.denied);
      throw error;
    }
  };
  const retrySeconds = env.retrySeconds === undefined ? DEFAULT_RETRY.forMs / 1000 : Number(env.retrySeconds);
  if (!Number.isFinite(retrySeconds) || retrySeconds < 0) throw new UsageError(`EMR_GATEWAY_RETRY_SECONDS must be a number of seconds, not "${env.retrySeconds ?? ''}"`);
  let client: GatewayClient;
  try {
    client = new GatewayClient({ endpoint, ...(region ? { region } : {}), credentials, retry: { forMs: retrySeconds * 1000 } });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return { client: explained(client, endpoint), output };
}

/** A failure the CLI has already put in words, with its exit code (printed by withApiErrors). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

const isLoopback = (endpoint: string): boolean => {
  try {
    return LOOPBACK_NAMES.includes(new URL(endpoint).hostname);
  } catch {
    return false;
  }
};

function noCredentials(profile: string | undefined, cause: string): string {
  return [
    `emr-gateway: no AWS credentials ${profile ? `from profile "${profile}"` : 'to sign the request with'} (${cause})`,
    ...(profile
      ? [`  Is "${profile}" a profile of ~/.aws/config or ~/.aws/credentials (or of AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE)? For SSO: aws sso login --profile ${profile}.`]
      : []),
    '  Requests to the gateway are signed with AWS SigV4: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for',
    '  temporary ones), or AWS_PROFILE (or --profile) to a profile of ~/.aws/config (SSO: aws sso login --profile NAME first).',
    '  For the local stack: paste the export lines `emr-gateway local` printed (export AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=...).',
  ].join('\n');
}

/** The gateway's own error codes (errorSchema): any other answer may come from something that is not the gateway. */
const GATEWAY_CODES = new Set(['ValidationError', 'Unauthorized', 'Forbidden', 'NotFound', 'MethodNotAllowed', 'Conflict', 'PayloadTooLarge', 'UnsupportedMediaType', 'TooManyRequests', 'EmrRejected', 'InternalError']);

/**
 * The client, its API errors explained: an answer that is not in the gateway's shape (`{error: {code, message}}`)
 * is checked against an unsigned GET /healthz, which the gateway answers in its own shape (or API Gateway, in
 * front of it, as `{message}`); an AWS service endpoint (the local stack's AWS port) answers with `__type` or
 * XML instead, and is then said not to be the gateway. An endpoint that cannot be reached gets a hint.
 */
function explained(client: GatewayClient, endpoint: string): GatewayClient {
  return new Proxy(client, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      const method = value as (...a: unknown[]) => Promise<unknown>;
      return async (...args: unknown[]): Promise<unknown> => {
        try {
          return await method.apply(target, args);
        } catch (error) {
          if (!(error instanceof GatewayApiError)) throw error;
          if (error.status === 0) throw unreachable(error, endpoint);
          if (GATEWAY_CODES.has(error.code)) throw error;
          const other = await notTheGateway(endpoint);
          throw other ?? error;
        }
      };
    },
  });
}

/** No answer (after the client's retries): exit 5, with a hint where the endpoint is the local stack's. */
function unreachable(error: GatewayApiError, endpoint: string): GatewayApiError | CliError {
  if (!isLoopback(endpoint)) return error;
  return new CliError(`emr-gateway: ${error.message}\n  Is the local stack running? Start it with \`npm start\` (or \`emr-gateway local\`) and use the "Gateway API" URL it prints.`, EXIT.unavailable);
}

async function notTheGateway(endpoint: string): Promise<CliError | undefined> {
  let status: number;
  let contentType: string;
  let text: string;
  try {
    const response = await fetch(new URL('healthz', endpoint.endsWith('/') ? endpoint : `${endpoint}/`), { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(5000) });
    ({ status } = response);
    contentType = response.headers.get('content-type') ?? 'no content type';
    text = await response.text();
  } catch {
    return undefined;
  }
  let body: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>;
  } catch {
    // not JSON: XML or anything else, below
  }
  const field = (key: string): string | undefined => (typeof body?.[key] === 'string' ? body[key] : undefined);
  const error = body?.error as { code?: unknown; message?: unknown } | undefined;
  // The gateway (its 401 to an unsigned request, or ok) or API Gateway in front of it: the first answer stands.
  if ((typeof error?.code === 'string' && typeof error.message === 'string') || body?.status === 'ok') return undefined;
  let how: string;
  if (field('__type') !== undefined) {
    how = `it answers as an AWS service endpoint does (${field('__type')?.split('#').pop() ?? ''}: ${field('message') ?? field('Message') ?? ''})`;
  } else if (/^\s*(<\?xml[^>]*>\s*)?<(Error|ErrorResponse)\b/.test(text)) {
    const tag = (name: string): string => new RegExp(`<${name}>([^<]*)</${name}>`).exec(text)?.[1] ?? '';
    how = `it answers with AWS's XML errors (${tag('Code')}: ${tag('Message')})`;
  } else if (body && (field('message') ?? field('Message')) !== undefined) {
    return undefined; // API Gateway's own answer ({message}): the gateway is behind it
  } else {
    how = `GET /healthz answered ${status} (${contentType}), neither the gateway's {"status": "ok"} nor its errors`;
  }
  const hint = isLoopback(endpoint)
    ? '  Is this the local stack\'s AWS port (4566 by default)? That one is for the AWS CLI and SDKs (aws --endpoint-url ...).\n  The gateway is the "Gateway API" URL `emr-gateway local` prints (http://127.0.0.1:3000 by default): give it with --endpoint or EMR_GATEWAY_ENDPOINT.'
    : '  Give the gateway\'s API URL (https://API_ID.execute-api.REGION.amazonaws.com/STAGE) with --endpoint or EMR_GATEWAY_ENDPOINT.';
  return new CliError(`emr-gateway: ${endpoint} is not the gateway: ${how}; the gateway answers {"error": {"code", "message"}}.\n${hint}`, EXIT.usage);
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
    if (error instanceof CliError) {
      io.err(error.message);
      return error.exitCode;
    }
    if (!(error instanceof GatewayApiError)) throw error;
    return reportApiError(io, error);
  }
}

/**
 * An API error on stderr, each thing said once: the gateway's 400 message is its field issues joined, so those
 * are printed instead of it (one inline, several one a line); issues the message does not already say follow it.
 */
export function reportApiError(io: Io, error: GatewayApiError): number {
  const prefix = `emr-gateway: ${error.status ? `${error.status} ${error.code}: ` : ''}`;
  const issues = ((error.details?.issues as { field?: string; message: string }[] | undefined) ?? []).map((i) => (i.field ? `${i.field}: ${i.message}` : i.message));
  if (issues.length > 1 && issues.join('; ') === error.message) {
    io.err(`${prefix}${issues.length} problems\n${issues.map((i) => `  ${i}`).join('\n')}`);
  } else {
    io.err(`${prefix}${error.message}`);
    for (const issue of issues) if (!error.message.includes(issue)) io.err(`  ${issue}`);
  }
  return exitCodeFor(error);
}
