/**
 * The OpenAPI 3.1 description, generated from the zod schemas that validate the requests and type the
 * responses (so they cannot drift). Served at /openapi.json; `npm run openapi` writes docs/openapi.json,
 * which a test compares with this.
 */
import * as z from '../util/zod';
import { JOB_ID, SESSION_ID } from '../identifiers';
import { jobRequestSchema } from '../jobs/request';
import {
  cancelQuerySchema,
  listQuerySchema,
  logsQuerySchema,
  rolesQuerySchema,
  decisionQuerySchema,
  sessionListQuerySchema,
  sessionRequestSchema,
  rerunRequestSchema,
  usageQuerySchema,
  queuesQuerySchema,
} from './schemas';
import {
  appUiResponseSchema,
  auditResponseSchema,
  errorSchema,
  healthSchema,
  jobListSchema,
  jobViewSchema,
  logsResponseSchema,
  decisionResponseSchema,
  rolesResponseSchema,
  sessionAuditResponseSchema,
  sessionListSchema,
  sessionOpenedSchema,
  sessionViewSchema,
  submitResponseSchema,
  rerunResponseSchema,
  queueViewSchema,
  usageResponseSchema,
} from './response-schemas';

const schema = (s: z.ZodMiniType, io: 'input' | 'output' = 'output'): Record<string, unknown> => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const content = (name: string) => ({ 'application/json': { schema: ref(name) } });

function queryParameters(s: z.ZodMiniObject): unknown[] {
  const json = schema(s, 'input') as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: 'query',
    required: json.required?.includes(name) ?? false,
    ...(typeof property.description === 'string' ? { description: property.description } : {}),
    schema: property,
  }));
}

const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [String(status), { description: ERROR_TEXT[status] ?? 'error', content: content('Error') }]));
const ERROR_TEXT: Record<number, string> = {
  400: 'invalid input: the field and the problem are named',
  401: 'not signed with AWS SigV4 (execute-api)',
  403: "denied by policy: the decision's reason is given",
  404: 'no such job, route or cluster',
  405: 'method not allowed on this route',
  409: 'conflict: Idempotency-Key reused with another body, or the job has finished',
  413: 'body too large',
  415: 'body is not application/json',
  429: 'throttled, or (QueueFull) the cluster\'s or your group\'s admission queue is full: retry after Retry-After',
  502: 'EMR refused what the gateway allowed (its error is given)',
  503: 'a dependency is unavailable: retry with backoff',
};
const jobIdParameter = { name: 'jobId', in: 'path', required: true, schema: { type: 'string', pattern: JOB_ID.source } };
const sessionIdParameter = { name: 'sessionId', in: 'path', required: true, schema: { type: 'string', pattern: SESSION_ID.source } };

export function openApiDocument(version: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'emr-step-gateway',
      version,
      description: 'Submit and follow Amazon EMR steps under IAM runtime roles, with central policy, idempotency and an audit trail. Every route needs AWS SigV4 (service execute-api).',
    },
    security: [{ sigv4: [] }],
    paths: {
      '/jobs': {
        post: {
          summary: 'Submit a step',
          parameters: [{ name: 'Idempotency-Key', in: 'header', required: false, description: 'Per principal: the same key and body return the same job.', schema: { type: 'string', pattern: '^[\\x21-\\x7E]{1,255}$' } }],
          requestBody: { required: true, content: content('JobRequest') },
          responses: { '202': { description: 'accepted', content: content('SubmitResponse') }, ...errors(400, 401, 403, 409, 413, 415, 429) },
        },
        get: {
          summary: 'List jobs, newest first',
          parameters: queryParameters(listQuerySchema),
          responses: { '200': { description: 'a page of jobs', content: content('JobList') }, ...errors(400, 401, 429) },
        },
      },
      '/jobs/{jobId}': {
        get: { summary: 'A job', parameters: [jobIdParameter], responses: { '200': { description: 'the job', content: content('Job') }, ...errors(401, 403, 404) } },
        delete: {
          summary: 'Cancel a job (EMR CancelSteps)',
          parameters: [jobIdParameter, ...queryParameters(cancelQuerySchema)],
          responses: { '202': { description: 'cancellation requested', content: content('Job') }, ...errors(400, 401, 403, 404, 409) },
        },
      },
      '/jobs/{jobId}/rerun': {
        post: {
          summary: 'Rerun a job: a new job from its request (or its template, with parameter overrides), decided again as the caller under the policy now; authorized as reading the job',
          parameters: [jobIdParameter, { name: 'Idempotency-Key', in: 'header', required: false, description: 'Per principal and job: the same key answers the same rerun.', schema: { type: 'string', pattern: '^[\\x21-\\x7E]{1,255}$' } }],
          requestBody: { required: false, content: content('RerunRequest') },
          responses: { '202': { description: 'accepted', content: content('RerunResponse') }, ...errors(400, 401, 403, 404, 409, 413, 415, 429) },
        },
      },
      '/jobs/{jobId}/audit': {
        get: { summary: "A job's audit events with their hash chain", parameters: [jobIdParameter], responses: { '200': { description: 'the audit trail', content: content('AuditTrail') }, ...errors(401, 403, 404) } },
      },
      '/jobs/{jobId}/logs': {
        get: {
          summary: "A window of the job's step log (stdout, stderr, controller, syslog) from the cluster's LogUri; authorized as reading the job",
          parameters: [jobIdParameter, ...queryParameters(logsQuerySchema)],
          responses: { '200': { description: 'lines of the log', content: content('StepLogs') }, ...errors(400, 401, 403, 404, 429) },
        },
      },
      '/jobs/{jobId}/ui': {
        get: {
          summary: "A presigned link to the job's Spark UI (running) or application history (ended), under its runtime role; authorized as reading the job",
          parameters: [jobIdParameter],
          responses: { '200': { description: 'the link', content: content('AppUi') }, ...errors(401, 403, 404, 409, 429) },
        },
      },
      '/queues': {
        get: {
          summary: "A cluster's admission: its capacity, active and queued jobs per principal group, and the queue in the order it is expected to start (job ids only of your own jobs)",
          parameters: queryParameters(queuesQuerySchema),
          responses: { '200': { description: 'the queue', content: content('Queue') }, ...errors(400, 401, 404, 429) },
        },
      },
      '/usage': {
        get: {
          summary: "The jobs that ended in a range, counted by final state with their step-seconds, grouped by principal, role, cluster or a tag; only the jobs you may list",
          parameters: queryParameters(usageQuerySchema),
          responses: { '200': { description: 'the counts', content: content('Usage') }, ...errors(400, 401, 429) },
        },
      },
      '/roles': {
        get: { summary: 'The runtime roles this caller may use', parameters: queryParameters(rolesQuerySchema), responses: { '200': { description: 'roles per cluster', content: content('Roles') }, ...errors(400, 401, 404) } },
      },
      '/decision': {
        get: {
          summary: '"May I?": the policy\'s decision on a submission by you (cluster, runtime role, step type), with its reasons and, when denied, the nearest statements; no job is made and nothing is recorded',
          parameters: queryParameters(decisionQuerySchema),
          responses: { '200': { description: 'the decision (allowed or not)', content: content('Decision') }, ...errors(400, 401, 404, 429) },
        },
      },
      '/sessions': {
        post: {
          summary: 'Interactive-session credentials for a cluster under a runtime role (EMR GetClusterSessionCredentials), decided by the policy',
          requestBody: { required: true, content: content('SessionRequest') },
          responses: { '201': { description: 'issued: the credentials (only in this answer), their expiry and the endpoints', content: content('SessionOpened') }, ...errors(400, 401, 403, 413, 415, 429, 502, 503) },
        },
        get: {
          summary: 'Your interactive sessions, newest first',
          parameters: queryParameters(sessionListQuerySchema),
          responses: { '200': { description: 'a page of sessions', content: content('SessionList') }, ...errors(400, 401, 429) },
        },
      },
      '/sessions/{sessionId}': {
        get: { summary: 'One of your sessions (without its password)', parameters: [sessionIdParameter], responses: { '200': { description: 'the session', content: content('Session') }, ...errors(401, 404) } },
      },
      '/sessions/{sessionId}/audit': {
        get: { summary: "A session's audit events with their hash chain", parameters: [sessionIdParameter], responses: { '200': { description: 'the audit trail', content: content('SessionAuditTrail') }, ...errors(401, 404) } },
      },
      '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } } },
      '/healthz': { get: { summary: 'Liveness', responses: { '200': { description: 'alive', content: content('Health') } } } },
    },
    components: {
      securitySchemes: { sigv4: { type: 'apiKey', name: 'Authorization', in: 'header', description: 'AWS Signature Version 4, service execute-api' } },
      schemas: {
        JobRequest: schema(jobRequestSchema, 'input'),
        SubmitResponse: schema(submitResponseSchema),
        RerunRequest: schema(rerunRequestSchema, 'input'),
        RerunResponse: schema(rerunResponseSchema),
        Usage: schema(usageResponseSchema),
        Queue: schema(queueViewSchema),
        Job: schema(jobViewSchema),
        JobList: schema(jobListSchema),
        AuditTrail: schema(auditResponseSchema),
        StepLogs: schema(logsResponseSchema),
        AppUi: schema(appUiResponseSchema),
        Roles: schema(rolesResponseSchema),
        Decision: schema(decisionResponseSchema),
        SessionRequest: schema(sessionRequestSchema, 'input'),
        SessionOpened: schema(sessionOpenedSchema),
        Session: schema(sessionViewSchema),
        SessionList: schema(sessionListSchema),
        SessionAuditTrail: schema(sessionAuditResponseSchema),
        Health: schema(healthSchema),
        Error: schema(errorSchema),
      },
    },
  };
}
