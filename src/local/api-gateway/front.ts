/**
 * The local API front: an HTTP server on loopback that does what API Gateway does for the gateway's REST API
 * with AWS_IAM authorization. It verifies SigV4 (service execute-api) against the configured local
 * credentials, rejects everything else with 401, builds the same proxy event (requestContext.identity.userArn
 * = the credential's principal) and invokes the same handler. The demo credentials are public (printed at start,
 * in the README), so a signature alone does not tell a tool from a web page: the loopback server's browser
 * guard (listen.ts) refuses pages before SigV4 is even checked.
 */
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { LocalCredential } from '../../config/schema';
import { logger } from '../../util/logger';
import { decodeOrKeep } from '../../util/uri';
import { readBody } from '../http-body';
import { listenLoopback } from '../listen';
import { proxyEvent } from './proxy-event';
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
    res.writeHead(403, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify({ error: { code: 'Forbidden', message: reason } }));
  };

  async function handle(req: IncomingMessage): Promise<APIGatewayProxyResult> {
    const read = await readBody(req, MAX_PAYLOAD_BYTES);
    if (!read.ok) return { statusCode: 413, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: { code: 'PayloadTooLarge', message: `the body exceeds ${MAX_PAYLOAD_BYTES} bytes` } }) };
    const { body } = read;
    const [rawPath = '/', rawQuery = ''] = (req.url ?? '/').split(/\?(.*)/s);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
    const verified = verifySigV4(
      { method: req.method ?? 'GET', path: rawPath, query: rawQuery, headers, body },
      { region: options.region, service: 'execute-api', secretFor: (id) => secrets.get(id)?.secretAccessKey, ...(options.now ? { now: options.now() } : {}) },
    );
    if (!verified.ok) return unauthorized(verified.reason);
    const credential = secrets.get(verified.accessKeyId)!;
    const text = body.toString('utf8');
    const isText = Buffer.from(text, 'utf8').equals(body);
    const event = proxyEvent({
      method: req.method ?? 'GET',
      path: decodeOrKeep(rawPath),
      headers,
      query: [...new URLSearchParams(rawQuery)],
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
