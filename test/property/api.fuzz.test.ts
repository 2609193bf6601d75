/**
 * 2,000+ generated malformed requests (bodies, headers, paths, query strings, identities) through the real
 * API handler, backed by the real service and dynalite: never a 5xx, never a stack trace, every error in the
 * documented shape.
 */
import fc from 'fast-check';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { EmrRejectedError } from '../../src/errors';
import { errorSchema } from '../../src/http/response-schemas';
import { JobLogsService } from '../../src/jobs/job-logs';
import { apiEvent, rawApiFor } from '../support/api';
import { ALICE, CAROL, CLUSTER, role, startGateway, submitBody, type TestGateway } from '../support/gateway';

jest.setTimeout(120_000);

const RUNS = Number(process.env.FC_RUNS ?? 2000);
const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : Date.now() % 2_147_483_647;

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(() => gw.stop());

const jobId = fc.constantFrom('job-0123456789abcdefghjkmnpqrs', 'job-', 'job-ZZZZ', '%00', '..%2f..', 'j'.repeat(300), '💥', '%E0%A4%A');
const path = fc.oneof(
  fc.constantFrom('/jobs', '/jobs/', '/roles', '/healthz', '/openapi.json', '/', '//jobs', '/jobs//audit'),
  jobId.map((id) => `/jobs/${id}`),
  jobId.map((id) => `/jobs/${id}/audit`),
  jobId.map((id) => `/jobs/${id}/logs`),
  jobId.map((id) => `/jobs/${id}/ui`),
  jobId.map((id) => `/jobs/${id}/rerun`),
  fc.string({ maxLength: 40 }).map((s) => `/${s}`),
);
const method = fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD', 'get', '');
const weirdString = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', ' ', '\u0000', 'null', '[]', '{}', 'x'.repeat(5000)));
const query = fc.option(fc.dictionary(fc.oneof(fc.constantFrom('status', 'clusterId', 'caller', 'from', 'to', 'limit', 'nextToken', 'mode', 'stream', 'tail', 'offset'), fc.string()), weirdString, { maxKeys: 4 }), { nil: undefined });
const validish = fc.record({
  clusterId: fc.oneof(fc.constant(CLUSTER), weirdString, fc.integer()),
  executionRoleArn: fc.oneof(fc.constant(role('CallerTeamRoleETL')), weirdString, fc.constant(null)),
  name: fc.oneof(fc.constant('n'), weirdString, fc.array(fc.string())),
  step: fc.oneof(
    fc.constant(submitBody().step),
    fc.record({ type: fc.constantFrom('spark', 'hive', 'command', 'jar', 'pig', ''), args: fc.array(weirdString, { maxLength: 5 }) }),
    fc.anything(),
  ),
  timeoutSeconds: fc.oneof(fc.integer(), fc.double(), weirdString),
  extra: fc.anything(),
}, { requiredKeys: [] });
const body = fc.oneof(
  fc.constant(undefined),
  fc.json().map((text) => ({ raw: text })),
  fc.anything().map((value) => ({ raw: JSON.stringify(value) ?? 'undefined' })),
  validish.map((value) => ({ raw: JSON.stringify(value) })),
  weirdString.map((raw) => ({ raw })),
  fc.constant({ raw: '['.repeat(10_000) }),
  fc.constant({ raw: `{"a":"${'x'.repeat(300_000)}"}` }),
);
const headers = fc.dictionary(
  fc.oneof(fc.constantFrom('Content-Type', 'content-type', 'CONTENT-TYPE', 'Idempotency-Key', 'Content-Length', 'X-Forwarded-For'), fc.string({ maxLength: 20 })),
  weirdString,
  { maxKeys: 4 },
);
const caller = fc.oneof(fc.constant(ALICE), fc.constant(CAROL), fc.constant(null), weirdString, fc.constant('arn:aws:iam::123456789012:role/'));

const anything = fc.record({ method, path, query, body, headers, caller, base64: fc.boolean() });
// Most requests are aimed at real routes by a real caller, so they get past routing and authentication
// and exercise the validators and the service; the rest are anything at all.
const json = { 'Content-Type': 'application/json' };
const submit = fc.record({
  method: fc.constant('POST'),
  path: fc.constant('/jobs'),
  query,
  body: fc.oneof(
    validish.map((value) => ({ raw: JSON.stringify(value) })),
    fc.string({ minLength: 1, maxLength: 30 }).map((name) => ({ raw: JSON.stringify(submitBody({ name })) })),
    body,
  ),
  headers: fc.oneof(fc.constant(json), headers.map((h) => ({ ...json, ...h }))),
  caller: fc.constant(ALICE),
  base64: fc.boolean(),
});
const read = fc.record({
  method: fc.constantFrom('GET', 'DELETE'),
  path: fc.oneof(fc.constant('/jobs'), fc.constant('/roles'), jobId.map((id) => `/jobs/${id}`), jobId.map((id) => `/jobs/${id}/audit`), jobId.map((id) => `/jobs/${id}/logs`), jobId.map((id) => `/jobs/${id}/ui`)),
  query,
  body: fc.constant(undefined),
  headers,
  caller: fc.constantFrom(ALICE, CAROL),
  base64: fc.constant(false),
});
const requestArb = fc.oneof({ arbitrary: submit, weight: 5 }, { arbitrary: read, weight: 3 }, { arbitrary: anything, weight: 2 });

it(`${RUNS} malformed requests: never a 5xx, every error in the documented shape`, async () => {
  const held = gw.serviceWith({ start: () => Promise.resolve() }); // accepted jobs are recorded, not run
  // The step-log and UI reads over the same service: no log is ever there, every link is EMR's refusal.
  const reads = new JobLogsService({
    config: gw.config,
    jobs: held,
    stepLogs: { open: () => Promise.resolve(undefined) },
    appUi: { onCluster: () => Promise.reject(new EmrRejectedError('no', 'InvalidRequestException')), persistent: () => Promise.reject(new EmrRejectedError('no', 'InvalidRequestException')) },
  });
  const send = rawApiFor(gw, held, reads);
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(requestArb, async (r) => {
      const event: APIGatewayProxyEvent = apiEvent(r.method, r.path, {
        caller: r.caller,
        headers: r.headers,
        ...(r.query ? { query: r.query } : {}),
        ...(r.body ? { rawBody: r.body.raw } : {}),
        base64: r.base64,
      });
      if (!r.body) event.body = null;
      if (r.base64 && typeof event.body === 'string' && Math.random() < 0.3) event.body = '!!not base64!!';
      const response = await send(event);
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
      if (response.statusCode >= 500) throw new Error(`5xx: ${response.statusCode} ${response.body}`);
      expect(response.body).not.toMatch(/\bat \S+ \(|\.ts:\d+/); // no stack trace
      const parsed = JSON.parse(response.body) as unknown;
      if (response.statusCode >= 400) errorSchema.parse(parsed);
    }),
    { numRuns: RUNS, seed: SEED },
  ).catch((error: unknown) => {
    throw new Error(`API fuzz failed with seed ${SEED} (rerun: FC_SEED=${SEED} npx jest --selectProjects property)\n${(error as Error).message}`, { cause: error });
  });
  if (process.env.FC_VERBOSE) console.log(Object.fromEntries(statuses));
  // Not vacuous: the requests reach the validators, the auth check and the routes alike.
  for (const status of [200, 202, 400, 401, 404]) expect(statuses.get(status) ?? 0).toBeGreaterThan(RUNS / 200);
});
