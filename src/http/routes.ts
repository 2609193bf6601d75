/**
 * The HTTP API's routes (v1): one table. Each route parses its input, calls one domain function and maps the
 * result; errors are thrown and become the documented shape in one place (responses.ts).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { EXAMPLE_JOB_ID, EXAMPLE_SESSION_ID, JOB_ID, SESSION_ID } from '../identifiers';
import { jobLogKeys, type Job } from '../jobs/model';
import type { JobLogsService } from '../jobs/job-logs';
import type { Caller, JobService } from '../jobs/service';
import type { Session } from '../sessions/model';
import type { SessionService } from '../sessions/service';
import { validate } from '../util/validation';
import { HttpError, json } from './responses';
import { cancelQuerySchema, decisionQuerySchema, listQuerySchema, logsQuerySchema, queuesQuerySchema, rerunRequestSchema, rolesQuerySchema, usageQuerySchema, sessionListQuerySchema, sessionRequestSchema } from './schemas';
import { appUiView, jobLinks, jobView, logsView, sessionView } from './views';

export interface ApiDeps {
  service: JobService;
  /**
   * Interactive sessions, built at the first session request. Optional so that an API assembled over a job service
   * alone (the job routes' test harnesses) still serves those: without it, the session routes are not found.
   */
  sessions?: () => SessionService;
  /** Step logs and Spark UI links (GET /jobs/{id}/logs, /ui), built at their first request; without it, those routes are not found. */
  jobLogs?: () => JobLogsService;
  openapi: () => unknown;
  version: string;
}

/** What a route handler gets: the dependencies, and the invocation's logger (keys appended there last the invocation). */
export interface RouteDeps extends ApiDeps {
  logger: Logger;
}

export interface ApiRequest {
  caller: Caller;
  params: Record<string, string>;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
  /** The route's path as requested (for messages). */
  path: string;
}

type RouteHandler = (request: ApiRequest, deps: RouteDeps) => Promise<APIGatewayProxyResult> | APIGatewayProxyResult;

export interface Route {
  method: string;
  /** e.g. /jobs/{jobId}/audit */
  path: string;
  handler: RouteHandler;
  /** The route reads a JSON body: required (true), or 'optional' (an empty body is none, and needs no Content-Type). */
  body?: boolean | 'optional';
}

function jobIdParam(request: ApiRequest): string {
  const jobId = request.params.jobId ?? '';
  if (!JOB_ID.test(jobId)) throw new HttpError(404, 'NotFound', `no such job (job ids look like ${EXAMPLE_JOB_ID})`);
  return jobId;
}

function sessionIdParam(request: ApiRequest): string {
  const sessionId = request.params.sessionId ?? '';
  if (!SESSION_ID.test(sessionId)) throw new HttpError(404, 'NotFound', `no such session (session ids look like ${EXAMPLE_SESSION_ID})`);
  return sessionId;
}

/** The session service; an API assembled without one (a job routes' harness) has no session route. */
function sessionsOf(request: ApiRequest, deps: RouteDeps): SessionService {
  if (!deps.sessions) throw new HttpError(404, 'NotFound', `no route ${request.path}`);
  return deps.sessions();
}

/** The step-log and UI reads; an API assembled without them (a job routes' harness) has no such route. */
function jobLogsOf(request: ApiRequest, deps: RouteDeps): JobLogsService {
  if (!deps.jobLogs) throw new HttpError(404, 'NotFound', `no route ${request.path}`);
  return deps.jobLogs();
}

/** Once a route knows its session, the rest of the invocation's log lines name it (and its role): never its credentials. */
function seenSession(logger: Logger, session: Session): Session {
  logger.appendKeys({ sessionId: session.sessionId, executionRoleArn: session.executionRoleArn });
  return session;
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
    method: 'POST',
    path: '/jobs/{jobId}/rerun',
    body: 'optional',
    async handler(request, { service, logger }) {
      noQuery(request);
      // No body is none; a JSON null is a body, and not an object. A parameter JSON names `__proto__` is no parameter
      // (an object's own key the schema's record would drop without a word).
      if (request.body === null) throw new HttpError(400, 'ValidationError', 'the body must be a JSON object (or none)');
      const given = typeof request.body === 'object' && request.body !== null ? (request.body as Record<string, unknown>).parameters : undefined;
      if (given && typeof given === 'object' && Object.hasOwn(given, '__proto__')) throw new HttpError(400, 'ValidationError', 'parameters.__proto__: is not a parameter name');
      const { parameters } = validate(rerunRequestSchema, request.body ?? {});
      const key = request.headers['idempotency-key'];
      const { job: submitted, replayed } = await service.rerun(request.caller, jobIdParam(request), { ...(parameters ? { parameters } : {}), ...(key !== undefined ? { idempotencyKey: key } : {}) });
      const job = seen(logger, submitted);
      return json(202, { jobId: job.jobId, status: job.status, replayed, rerunOf: job.rerunOf, links: jobLinks(job.jobId) }, { location: `/jobs/${job.jobId}`, ...(replayed ? { 'idempotent-replayed': 'true' } : {}) });
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
      const { job, events, head, verification, anchor } = await service.auditTrail(request.caller, jobIdParam(request));
      seen(logger, job);
      return json(200, { jobId: job.jobId, events: events.map(({ jobId: _jobId, ...event }) => event), head, verification, anchor });
    },
  },
  {
    method: 'GET',
    path: '/jobs/{jobId}/logs',
    async handler(request, deps) {
      const query = validate(logsQuerySchema, request.query);
      const logs = await jobLogsOf(request, deps).logs(request.caller, jobIdParam(request), query);
      seen(deps.logger, logs.job);
      return json(200, logsView(logs, query.stream));
    },
  },
  {
    method: 'GET',
    path: '/jobs/{jobId}/ui',
    async handler(request, deps) {
      noQuery(request);
      const link = await jobLogsOf(request, deps).appUi(request.caller, jobIdParam(request));
      seen(deps.logger, link.job);
      return json(200, appUiView(link));
    },
  },
  {
    method: 'GET',
    path: '/queues',
    async handler(request, { service }) {
      const { clusterId } = validate(queuesQuerySchema, request.query);
      return json(200, await service.queueView(request.caller, clusterId));
    },
  },
  {
    method: 'GET',
    path: '/usage',
    async handler(request, { service }) {
      return json(200, await service.usage(request.caller, validate(usageQuerySchema, request.query)));
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
  {
    method: 'GET',
    path: '/decision',
    handler(request, { service }) {
      return json(200, service.decision(request.caller, validate(decisionQuerySchema, request.query)));
    },
  },
  {
    method: 'POST',
    path: '/sessions',
    body: true,
    async handler(request, deps) {
      const body = validate(sessionRequestSchema, request.body);
      const { session, credentials } = await sessionsOf(request, deps).open(request.caller, body);
      seenSession(deps.logger, session);
      return json(201, { ...sessionView(session), credentials }, { location: `/sessions/${session.sessionId}` });
    },
  },
  {
    method: 'GET',
    path: '/sessions',
    async handler(request, deps) {
      const query = validate(sessionListQuerySchema, request.query);
      const page = await sessionsOf(request, deps).list(request.caller, query);
      return json(200, { sessions: page.sessions.map(sessionView), ...(page.nextToken ? { nextToken: page.nextToken } : {}) });
    },
  },
  {
    method: 'GET',
    path: '/sessions/{sessionId}',
    async handler(request, deps) {
      noQuery(request);
      return json(200, sessionView(seenSession(deps.logger, await sessionsOf(request, deps).get(request.caller, sessionIdParam(request)))));
    },
  },
  {
    method: 'GET',
    path: '/sessions/{sessionId}/audit',
    async handler(request, deps) {
      noQuery(request);
      const { session, events, head, verification, anchor } = await sessionsOf(request, deps).auditTrail(request.caller, sessionIdParam(request));
      seenSession(deps.logger, session);
      return json(200, { sessionId: session.sessionId, events: events.map(({ jobId: _chainId, ...event }) => event), head, verification, anchor });
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

/**
 * The route for a method and path, with its path parameters; 404 or 405 (with Allow) otherwise. The path is
 * the event's, which API Gateway (or the local front) decoded once: nothing is decoded again, so a path
 * parameter is exactly what was routed (every parameter here is an identifier of unreserved characters).
 */
export function matchRoute(method: string, path: string): { route: Route; params: Record<string, string> } {
  const candidates = compiled.map((c) => ({ c, m: c.regex.exec(path) })).filter((x) => x.m);
  if (!candidates.length) throw new HttpError(404, 'NotFound', `no route ${path}`);
  const hit = candidates.find((x) => x.c.route.method === method);
  if (!hit) {
    const allow = candidates.map((x) => x.c.route.method).join(', ');
    throw new HttpError(405, 'MethodNotAllowed', `${method} is not allowed on ${path} (allowed: ${allow})`, undefined, { allow });
  }
  const params = Object.fromEntries(hit.c.names.map((name, i) => [name, hit.m![i + 1]!]));
  return { route: hit.c.route, params };
}
