/** HTTP responses and the one place errors become statuses. Messages are shown only for 4xx; never a stack. */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { ConflictError, DomainError, EmrRejectedError, ForbiddenError, NotFoundError, QueueFullError, TransientError, ValidationError } from '../errors';

/** An error that already knows its status (401, 405, 413, 415, ...). */
export class HttpError extends DomainError {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

const BASE_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode, headers: { ...BASE_HEADERS, ...headers }, body: JSON.stringify(body) };
}

function errorBody(status: number, code: string, message: string, details?: Record<string, unknown>, headers?: Record<string, string>): APIGatewayProxyResult {
  return json(status, { error: { code, message, ...(details ? { details } : {}) } }, headers);
}

/** Maps any error to its response. Unknown errors are 500 with a generic message: their text stays in the log. */
export function errorResponse(error: unknown): APIGatewayProxyResult {
  if (error instanceof HttpError) return errorBody(error.status, error.code, error.message, error.details, error.headers);
  if (error instanceof ValidationError) return errorBody(400, 'ValidationError', error.message, { issues: error.issues });
  if (error instanceof ForbiddenError) return errorBody(403, 'Forbidden', error.message, error.details);
  if (error instanceof NotFoundError) return errorBody(404, error.code, error.message);
  if (error instanceof ConflictError) return errorBody(409, 'Conflict', error.message, error.details);
  // EMR refused what the gateway allowed (POST /sessions: e.g. a runtime role the cluster cannot assume): its answer, not the caller's input.
  if (error instanceof EmrRejectedError) return errorBody(502, 'EmrRejected', error.message, { emrError: error.emrError });
  if (error instanceof QueueFullError) return errorBody(429, 'QueueFull', error.message, error.details, { 'retry-after': String(error.retryAfterSeconds) });
  if (error instanceof TransientError && error.throttled) return errorBody(429, 'TooManyRequests', 'the gateway is busy: retry with backoff', undefined, { 'retry-after': '1' });
  if (error instanceof TransientError) return errorBody(503, 'ServiceUnavailable', `a dependency is unavailable (${error.dependency}): retry with backoff`, undefined, { 'retry-after': '2' });
  return errorBody(500, 'InternalError', 'internal error');
}
