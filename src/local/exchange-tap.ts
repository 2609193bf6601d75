/**
 * A test's view of what the AWS port answers: each request (method, URL, headers) with its response (status,
 * headers, body) once sent, so tests can hold every response against AWS's service models. Off unless a test
 * asks for it (startAwsEndpoint's `onExchange`); nothing the services do depends on it.
 */
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse } from 'node:http';

export interface AwsExchange {
  method: string;
  url: string;
  requestHeaders: IncomingHttpHeaders;
  status: number;
  /** Lower-case names; a repeated header's values joined with ", ". */
  headers: Record<string, string>;
  /** Up to MAX_TAPPED bytes of it (`truncated` beyond). */
  body: Buffer;
  truncated: boolean;
  /** performance.now() when the request reached the port, and when its response was sent. */
  startedAt: number;
  finishedAt: number;
}

/** Told of each exchange once its response is sent; must not throw. */
export type ExchangeListener = (exchange: AwsExchange) => void;

/** Bytes of a response body kept for the listener (an S3 object may be large; its body is no model's matter). */
const MAX_TAPPED = 1024 * 1024;

const headerText = (value: OutgoingHttpHeader | undefined): string => (Array.isArray(value) ? value.join(', ') : String(value));

/** Follows `res` and tells `listener` of the exchange when it is sent. */
export function tapExchange(req: IncomingMessage, res: ServerResponse, listener: ExchangeListener): void {
  const startedAt = performance.now();
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  // Headers given to writeHead itself are not in getHeaders() (Node keeps them only on the wire).
  let written: OutgoingHttpHeaders = {};
  const keep = (chunk: unknown, encoding: unknown): void => {
    if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
    const buffer = chunk instanceof Uint8Array ? Buffer.from(chunk) : typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : undefined;
    if (!buffer) return;
    if (size + buffer.length > MAX_TAPPED) truncated = true;
    else chunks.push(buffer);
    size += buffer.length;
  };
  const writeHead = res.writeHead.bind(res);
  const write = res.write.bind(res);
  const end = res.end.bind(res);
  res.writeHead = (...args: unknown[]) => {
    const headers: unknown = args.at(-1);
    if (Array.isArray(headers)) {
      for (let i = 0; i + 1 < headers.length; i += 2) written[String(headers[i]).toLowerCase()] = String(headers[i + 1]);
    } else if (headers && typeof headers === 'object') {
      written = Object.fromEntries(Object.entries(headers as OutgoingHttpHeaders).map(([k, v]) => [k.toLowerCase(), v]));
    }
    return Reflect.apply(writeHead, undefined, args) as ServerResponse;
  };
  res.write = ((...args: unknown[]) => {
    keep(args[0], args[1]);
    return Reflect.apply(write, undefined, args) as boolean;
  }) as ServerResponse['write'];
  res.end = ((...args: unknown[]) => {
    keep(args[0], args[1]);
    return Reflect.apply(end, undefined, args) as ServerResponse;
  }) as ServerResponse['end'];
  res.once('finish', () => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries({ ...res.getHeaders(), ...written })) if (value !== undefined) headers[name.toLowerCase()] = headerText(value);
    listener({ method: req.method ?? '', url: req.url ?? '', requestHeaders: req.headers, status: res.statusCode, headers, body: Buffer.concat(chunks), truncated, startedAt, finishedAt: performance.now() });
  });
}
