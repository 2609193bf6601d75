/**
 * The local API front: an HTTP server on loopback that does what API Gateway does for the gateway's REST API
 * with AWS_IAM authorization. It verifies SigV4 (service execute-api) against the configured local
 * credentials, rejects everything else with 401, builds the same proxy event (requestContext.identity.userArn
 * = the credential's principal) and invokes the same handler. The demo credentials are public (printed at start,
 * in the README), so a signature alone does not tell a tool from a web page: the loopback server's browser
 * guard (listen.ts) refuses pages before SigV4 is even checked.
 *
 * What is routed is exactly what was signed. Before the signature is checked, the front refuses, in API
 * Gateway's own error shape (`{"message"}` and `x-amzn-ErrorType`):
 * - a request target whose routing could differ from what the signature covers (request-target.ts: dot
 *   segments, encoded slashes, backslashes or `%`, empty segments, control characters, bad escapes):
 *   400 BadRequestException;
 * - a Host that does not name this front (its port, as 127.0.0.1, localhost, [::1] or the host it listens
 *   on): 403 ForbiddenException. The Host is a signed header, so this is the Host the signature covers: a
 *   request signed for a deployed gateway or for another local port is not one for this front.
 * The signature is then checked over that one parse of the target, and the event carries the same parse.
 */
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { LocalCredential } from '../../config/schema';
import { logger } from '../../util/logger';
import { readBody } from '../http-body';
import { listenLoopback, LOOPBACK_NAMES } from '../listen';
import { proxyEvent } from './proxy-event';
import { parseRequestTarget } from './request-target';
import { verifySigV4 } from './sigv4';

/** API Gateway's own payload limit. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

export interface ApiFrontOptions {
  host?: string;
  port: number;
  region: string;
  account: string;
  credentials: readonly LocalCredential[];
  handler: (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;
  now?: () => Date;
}

export interface ApiFront {
  url: string;
  server: Server;
  close(): Promise<void>;
}

function unauthorized(reason: string): APIGatewayProxyResult {
  return { statusCode: 401, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify({ error: { code: 'Unauthorized', message: reason } }) };
}

/** API Gateway's own answer (not the API's): `{"message": ...}` with the error type in x-amzn-ErrorType. */
function gatewayError(statusCode: 400 | 403, type: 'BadRequestException' | 'ForbiddenException', message: string): APIGatewayProxyResult {
  return { statusCode, headers: { 'content-type': 'application/json', 'x-amzn-errortype': type }, body: JSON.stringify({ message }) };
}


/**
 * Why `host` (the Host header, a signed one) does not name this front listening on `listenHost`:`port`, or
 * undefined when it does. Without a port it means port 80.
 */
export function hostProblem(host: string | undefined, listenHost: string, port: number): string | undefined {
  if (!host) return 'the request has no Host header';
  const names = new Set([...LOOPBACK_NAMES, listenHost.includes(':') && !listenHost.startsWith('[') ? `[${listenHost}]` : listenHost]);
  const accepted = [...names].flatMap((name) => (port === 80 ? [name, `${name}:80`] : [`${name}:${port}`]));
  if (accepted.includes(host.toLowerCase())) return undefined;
  return `the request is signed for Host ${JSON.stringify(host.slice(0, 200))}; this API is ${accepted[0]} (or ${accepted.slice(1).join(', ')})`;
}

export async function startApiFront(options: ApiFrontOptions): Promise<ApiFront> {
  const secrets = new Map(options.credentials.map((c) => [c.accessKeyId, c]));
  let requests = 0;
  const handler: RequestListener = (req, res) => {
    void (async () => {
      const result = await handle(req);
      res.writeHead(result.statusCode, result.headers as Record<string, string>);
      res.end(result.body);
    })().catch((error: unknown) => {
      // The handler answers its own errors; this is a failure around it (a dropped connection, say).
      logger.warn('local API front: the request failed outside the handler', { method: req.method, path: req.url, error });
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'InternalError', message: 'internal error' } }));
    });
  };
  const refuse = (res: ServerResponse, reason: string) => {
    const refused = gatewayError(403, 'ForbiddenException', `Forbidden: ${reason}`);
    res.writeHead(refused.statusCode, refused.headers as Record<string, string>);
    res.end(refused.body);
  };
  const listenHost = options.host ?? '127.0.0.1';

  async function handle(req: IncomingMessage): Promise<APIGatewayProxyResult> {
    const read = await readBody(req, MAX_PAYLOAD_BYTES);
    if (!read.ok) return { statusCode: 413, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: { code: 'PayloadTooLarge', message: `the body exceeds ${MAX_PAYLOAD_BYTES} bytes` } }) };
    const { body } = read;
    const parsed = parseRequestTarget(req.url ?? '');
    if (!parsed.ok) return gatewayError(400, 'BadRequestException', `Bad Request: ${parsed.reason}`);
    const { target } = parsed;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
    const wrongHost = hostProblem(headers.host, listenHost, req.socket.localPort ?? 0);
    if (wrongHost) return gatewayError(403, 'ForbiddenException', `Forbidden: ${wrongHost}`);
    const verified = verifySigV4(
      { method: req.method ?? 'GET', target, headers, body },
      { region: options.region, service: 'execute-api', secretFor: (id) => secrets.get(id)?.secretAccessKey, ...(options.now ? { now: options.now() } : {}) },
    );
    if (!verified.ok) return unauthorized(verified.reason);
    const credential = secrets.get(verified.accessKeyId)!;
    const text = body.toString('utf8');
    const isText = Buffer.from(text, 'utf8').equals(body);
    const event = proxyEvent({
      method: req.method ?? 'GET',
      path: target.path,
      headers,
      query: target.query,
      body: body.length ? (isText ? text : body.toString('base64')) : null,
      isBase64Encoded: !isText,
      account: options.account,
      requestId: `local-${++requests}`,
      stage: 'local',
      protocol: `HTTP/${req.httpVersion}`,
      identity: { accessKey: credential.accessKeyId, userArn: credential.principal, sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? null },
    });
    return options.handler(event);
  }

  return listenLoopback({ port: options.port, ...(options.host ? { host: options.host } : {}), handler, refuse });
}
