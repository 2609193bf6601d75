/**
 * The HTTP API (v1): one route table, one middy chain. Each route parses its input, calls one domain function
 * and maps the result; every error becomes the documented shape in one place (responses.ts).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { verifyChain } from '../audit/chain';
import { JOB_ID, EXAMPLE_JOB_ID } from '../identifiers';
import { jobLogKeys, type Job } from '../jobs/model';
import type { Caller, JobService } from '../jobs/service';
import { logger as sharedLogger } from '../util/logger';
import { decodeOrKeep } from '../util/uri';
import { validate } from '../util/validation';
import { errorResponse, HttpError, json } from './responses';
import { cancelQuerySchema, listQuerySchema, rolesQuerySchema } from './schemas';
import { jobLinks, jobView } from './views';

export const MAX_BODY_BYTES = 256 * 1024;

export interface ApiDeps {
  service: JobService;
  openapi: () => unknown;
  version: string;
}

/** What a route handler gets: the dependencies, and the invocation's logger (keys appended there last the invocation). */
interface RouteDeps extends ApiDeps {
  logger: Logger;
}

export interface ApiRequest {
  caller: Caller;
  params: Record<string, string>;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
}

type RouteHandler = (request: ApiRequest, deps: RouteDeps) => Promise<APIGatewayProxyResult> | APIGatewayProxyResult;

interface Route {
  method: string;
  /** e.g. /jobs/{jobId}/audit */
  path: string;
  handler: RouteHandler;
  /** Routes that take a JSON body. */
  body?: boolean;
}

function jobIdParam(request: ApiRequest): string {
  const jobId = request.params.jobId ?? '';
  if (!JOB_ID.test(jobId)) throw new HttpError(404, 'NotFound', `no such job (job ids look like ${EXAMPLE_JOB_ID})`);
  return jobId;
}

/** Once a route knows its job, the rest of the invocation's log lines name it (and its role and step). */
function seen(logger: Logger, job: Job): Job {
  logger.appendKeys(jobLogKeys(job));
  return job;
}

export const ROUTES: readonly Route[] = [
  {
    method: 'POST',
    path: '/jobs',
    body: true,
    async handler(request, { service, logger }) {
      const { job: submitted, replayed } = await service.submit({
        caller: request.caller,
        body: request.body,
        ...(request.headers['idempotency-key'] !== undefined ? { idempotencyKey: request.headers['idempotency-key'] } : {}),
      });
      const job = seen(logger, submitted);
      return json(202, { jobId: job.jobId, status: job.status, replayed, links: jobLinks(job.jobId) }, { location: `/jobs/${job.jobId}`, ...(replayed ? { 'idempotent-replayed': 'true' } : {}) });
    },
  },
  {
    method: 'GET',
    path: '/jobs',
    async handler(request, { service }) {
      const query = validate(listQuerySchema, request.query);
      const page = await service.list(request.caller, query);
      return json(200, { jobs: page.jobs.map(jobView), ...(page.nextToken ? { nextToken: page.nextToken } : {}) });
    },
  },
  {
    method: 'GET',
    path: '/jobs/{jobId}',
    async handler(request, { service, logger }) {
      noQuery(request);
      return json(200, jobView(seen(logger, await service.get(request.caller, jobIdParam(request)))));
    },
  },
  {
    method: 'DELETE',
    path: '/jobs/{jobId}',
    async handler(request, { service, logger }) {
      const { mode } = validate(cancelQuerySchema, request.query);
      return json(202, jobView(seen(logger, await service.cancel(request.caller, jobIdParam(request), mode))));
    },
  },
  {
    method: 'GET',
    path: '/jobs/{jobId}/audit',
    async handler(request, { service, logger }) {
      noQuery(request);
      const { job, events } = await service.auditTrail(request.caller, jobIdParam(request));
      seen(logger, job);
      const verification = verifyChain(job.jobId, events, { seq: job.auditSeq, hash: job.auditHash });
      return json(200, { jobId: job.jobId, events: events.map(({ jobId: _jobId, ...event }) => event), verification });
    },
  },
  {
    method: 'GET',
    path: '/roles',
    handler(request, { service }) {
      const { clusterId } = validate(rolesQuerySchema, request.query);
      return json(200, { clusters: service.roles(request.caller, clusterId) });
    },
  },
  { method: 'GET', path: '/openapi.json', handler: (_request, { openapi }) => json(200, openapi()) },
  { method: 'GET', path: '/healthz', handler: (_request, { version }) => json(200, { status: 'ok', version }) },
];

function noQuery(request: ApiRequest): void {
  const keys = Object.keys(request.query);
  if (keys.length) throw new HttpError(400, 'ValidationError', `unknown query parameter${keys.length > 1 ? 's' : ''}: ${keys.join(', ')}`);
}

const compiled = ROUTES.map((route) => {
  const names: string[] = [];
  const pattern = route.path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { route, names, regex: new RegExp(`^${pattern}/?$`) };
});

/** The route for a method and path, with its path parameters; 404 or 405 (with Allow) otherwise. */
export function matchRoute(method: string, path: string): { route: Route; params: Record<string, string> } {
  const candidates = compiled.map((c) => ({ c, m: c.regex.exec(path) })).filter((x) => x.m);
  if (!candidates.length) throw new HttpError(404, 'NotFound', `no route ${path}`);
  const hit = candidates.find((x) => x.c.route.method === method);
  if (!hit) {
    const allow = candidates.map((x) => x.c.route.method).join(', ');
    throw new HttpError(405, 'MethodNotAllowed', `${method} is not allowed on ${path} (allowed: ${allow})`, undefined, { allow });
  }
  const params = Object.fromEntries(hit.c.names.map((name, i) => [name, decodeOrKeep(hit.m![i + 1]!)]));
  return { route: hit.c.route, params };
}


/** Reads the JSON body of a route that takes one: 413 when too large, 415 when not JSON, 400 when malformed. */
function parseBody(event: APIGatewayProxyEvent, headers: Record<string, string>): unknown {
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > MAX_BODY_BYTES) throw new HttpError(413, 'PayloadTooLarge', `the body is ${bytes.length} bytes; the limit is ${MAX_BODY_BYTES}`);
  const type = headers['content-type'] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new HttpError(415, 'UnsupportedMediaType', `send the body as application/json (got ${type ? JSON.stringify(type.slice(0, 100)) : 'no Content-Type'})`);
  }
  if (bytes.length === 0) throw new HttpError(400, 'ValidationError', 'the request body is required');
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (error) {
    throw new HttpError(400, 'ValidationError', `the body is not valid JSON: ${(error as Error).message.slice(0, 200)}`);
  }
}

/** The caller, as API Gateway's IAM authorization established it. */
function callerOf(event: APIGatewayProxyEvent): Caller {
  const arn = event.requestContext?.identity?.userArn;
  if (!arn) throw new HttpError(401, 'Unauthorized', 'the request is not signed (AWS SigV4, service execute-api)');
  return { callerArn: arn };
}

async function dispatch(event: APIGatewayProxyEvent, deps: RouteDeps): Promise<APIGatewayProxyResult> {
  const headers = Object.fromEntries(Object.entries(event.headers ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'));
  const caller = callerOf(event); // first: an unsigned request learns nothing, not even which routes exist
  const { route, params } = matchRoute(event.httpMethod, event.path);
  deps.logger.appendKeys({ caller: caller.callerArn, route: `${route.method} ${route.path}`, ...(params.jobId ? { jobId: params.jobId } : {}) });
  const query = Object.fromEntries(Object.entries(event.queryStringParameters ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'));
  const body = route.body ? parseBody(event, headers) : undefined;
  return route.handler({ caller, params, query, headers, body }, deps);
}

/**
 * The API's Lambda handler: the Lambda context in the logs (keys reset per invocation), header
 * normalization, the route, and one error handler last.
 */
export function createApiHandler(deps: () => ApiDeps, logger: Logger = sharedLogger) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(httpHeaderNormalizer())
    .use({
      onError: (request) => {
        const error = request.error;
        const response = errorResponse(error);
        if (response.statusCode >= 500) logger.error('request failed', { error: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error) });
        request.response = response;
      },
    })
    .handler((event: APIGatewayProxyEvent) => dispatch(event, { ...deps(), logger }));
}
