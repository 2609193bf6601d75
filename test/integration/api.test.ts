/**
 * The HTTP API through its real Lambda handler, with API Gateway proxy events carrying the IAM identity;
 * behind it the real service, dynalite and the real ASL, EMR mocked.
 */
import { decisionResponseSchema, errorSchema, jobListSchema, jobViewSchema, auditResponseSchema, rolesResponseSchema, submitResponseSchema } from '../../src/http/response-schemas';
import { MAX_BODY_BYTES } from '../../src/http/api';
import { apiFor, type Call } from '../support/api';
import type { Job } from '../../src/jobs/model';
import { ALICE, AUDITOR, CAROL, CLUSTER, NOREADS, PEER, role, SCOPED, SCOPED_CONFIG_YAML, startGateway, submitBody, type TestGateway } from '../support/gateway';
import { jobRecords } from '../support/jobs';

jest.setTimeout(30_000);

let gw: TestGateway;
let call: Call;
beforeEach(async () => {
  gw = await startGateway();
  call = apiFor(gw);
});
afterEach(() => gw.stop());

const expectError = (response: { status: number; body: unknown }, status: number, code: string, message?: RegExp) => {
  expect(response.status).toBe(status);
  expect(errorSchema.parse(response.body).error).toMatchObject({ code, ...(message ? { message: expect.stringMatching(message) } : {}) });
};

async function submitted(body = submitBody(), caller = ALICE): Promise<string> {
  const response = await call('POST', '/jobs', { body, caller });
  expect(response.status).toBe(202);
  return submitResponseSchema.parse(response.body).jobId;
}

describe('POST /jobs', () => {
  it('202 with the job id, status and links; Location header', async () => {
    gw.emr.nextScript = ['COMPLETED'];
    const response = await call('POST', '/jobs', { body: submitBody() });
    expect(response.status).toBe(202);
    const body = submitResponseSchema.parse(response.body);
    expect(body).toMatchObject({ status: 'ACCEPTED', replayed: false, links: { self: `/jobs/${body.jobId}`, audit: `/jobs/${body.jobId}/audit` } });
    expect(response.headers.location).toBe(`/jobs/${body.jobId}`);
    await gw.finish(body.jobId);
  });
  it('Idempotency-Key: a replay answers the same job (Idempotent-Replayed), another body is 409', async () => {
    const headers = { 'Idempotency-Key': 'abc-1' };
    const first = await call('POST', '/jobs', { body: submitBody(), headers });
    const again = await call('POST', '/jobs', { body: submitBody(), headers });
    expect(again.body).toMatchObject({ jobId: first.body.jobId, replayed: true });
    expect(again.headers['idempotent-replayed']).toBe('true');
    expectError(await call('POST', '/jobs', { body: submitBody({ name: 'x' }), headers }), 409, 'Conflict', /different request body/);
    expectError(await call('POST', '/jobs', { body: submitBody(), headers: { 'Idempotency-Key': 'has space' } }), 400, 'ValidationError', /Idempotency-Key/);
  });
  it('403 with the decision and its reason when the policy denies; the job exists as REJECTED', async () => {
    const response = await call('POST', '/jobs', { body: submitBody(), caller: CAROL });
    expectError(response, 403, 'Forbidden', /implicitly denied/);
    const details = (response.body as { error: { details: { jobId: string; decision: { result: string } } } }).error.details;
    expect(details.decision.result).toBe('ImplicitlyDenied');
    expect((await gw.jobs.get(details.jobId))?.status).toBe('REJECTED');
  });
  it('400 naming the field for invalid bodies; 413; 415; malformed JSON', async () => {
    const bad = await call('POST', '/jobs', { body: submitBody({ executionRoleArn: 'arn:aws:iam::123456789012:user/bob' }) });
    expectError(bad, 400, 'ValidationError');
    expect((bad.body as { error: { details: { issues: { field: string }[] } } }).error.details.issues[0]?.field).toBe('executionRoleArn');
    expectError(await call('POST', '/jobs', { body: submitBody({ clusterId: 'j-NOTOURS' }) }), 400, 'ValidationError', /not a cluster this gateway manages/);
    expectError(await call('POST', '/jobs', { rawBody: 'x'.repeat(MAX_BODY_BYTES + 1) }), 413, 'PayloadTooLarge');
    expectError(await call('POST', '/jobs', { body: submitBody(), headers: { 'Content-Type': 'text/plain' } }), 415, 'UnsupportedMediaType');
    expectError(await call('POST', '/jobs', { rawBody: '{"clusterId": ' }), 400, 'ValidationError', /not valid JSON/);
    expectError(await call('POST', '/jobs', { rawBody: '' }), 400, 'ValidationError', /body is required/);
    const b64 = await call('POST', '/jobs', { body: submitBody(), base64: true });
    expect(b64.status).toBe(202);
    await gw.finish(b64.body.jobId as string);
  });
  it('400 naming actionOnFailure and the allowed values when the cluster does not allow what was asked; nothing recorded', async () => {
    const response = await call('POST', '/jobs', { body: submitBody({ actionOnFailure: 'CANCEL_AND_WAIT' }) });
    expectError(response, 400, 'ValidationError', /^actionOnFailure: CANCEL_AND_WAIT is not allowed on cluster j-2AXXXXXXGAPLF \(analytics\): it allows CONTINUE/);
    expect((response.body as { error: { details: { issues: { field: string }[] } } }).error.details.issues.map((i) => i.field)).toEqual(['actionOnFailure']);
    expect((await gw.jobs.list({ principalArn: role('DataTeamA'), limit: 10 })).jobs).toEqual([]);
  });
  it('400 naming the tag for tag keys that differ only in case (one key to IAM, two on the job)', async () => {
    const response = await call('POST', '/jobs', { body: submitBody({ tags: { team: 'a', Team: 'admins' } }) });
    expectError(response, 400, 'ValidationError', /differs from "team" only in case/);
    expect((response.body as { error: { details: { issues: { field: string }[] } } }).error.details.issues.map((i) => i.field)).toEqual(['tags.Team']);
    expect((await gw.jobs.list({ principalArn: role('DataTeamA'), limit: 10 })).jobs).toEqual([]);
  });
  it('401 without an IAM identity', async () => {
    expectError(await call('POST', '/jobs', { body: submitBody(), caller: null }), 401, 'Unauthorized');
    expectError(await call('GET', '/nowhere', { caller: null }), 401, 'Unauthorized');
  });
});

describe('GET /jobs/{jobId} and /audit: reads are authorized', () => {
  it('the owner reads the job and its verified audit trail', async () => {
    gw.emr.nextScript = ['RUNNING', 'COMPLETED'];
    const jobId = await submitted();
    await gw.finish(jobId);
    const job = await call('GET', `/jobs/${jobId}`);
    expect(job.status).toBe(200);
    expect(jobViewSchema.parse(job.body)).toMatchObject({ jobId, status: 'COMPLETED', step: { state: 'COMPLETED' }, caller: { principalArn: role('DataTeamA'), sourceIdentity: 'alice' } });
    const audit = auditResponseSchema.parse((await call('GET', `/jobs/${jobId}/audit`)).body);
    expect(audit.events.map((e) => e.type)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED', 'COMPLETED']);
    expect(audit.verification).toMatchObject({ ok: true, events: 4 });
  });
  it("others' jobs: 403 (and audited) unless a policy allows DescribeStep; an explicit Deny beats ownership", async () => {
    const jobId = await submitted();
    expectError(await call('GET', `/jobs/${jobId}`, { caller: CAROL }), 403, 'Forbidden', /not allowed to read/);
    expect((await gw.audit.list(jobId)).map((e) => e.type)).toContain('READ_DENIED');
    expect((await call('GET', `/jobs/${jobId}`, { caller: AUDITOR })).status).toBe(200);
    const own = await submitted(submitBody(), NOREADS);
    expectError(await call('GET', `/jobs/${own}`, { caller: NOREADS }), 403, 'Forbidden', /explicitly denied/);
    await Promise.all([gw.finish(jobId), gw.finish(own)]);
  });
  it('404 for unknown or malformed ids, and unknown query parameters are 400', async () => {
    expectError(await call('GET', '/jobs/job-0000000000000000000000000z'), 404, 'NotFound');
    expectError(await call('GET', '/jobs/..%2F..%2Fetc'), 404, 'NotFound');
    const jobId = await submitted();
    expectError(await call('GET', `/jobs/${jobId}`, { query: { verbose: '1' } }), 400, 'ValidationError', /unknown query parameter: verbose/);
    await gw.finish(jobId);
  });
});

describe('GET /jobs', () => {
  it("lists the caller's own jobs newest first, paginated", async () => {
    gw.emr.nextScript = ['COMPLETED'];
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      gw.clock.advance(1);
      ids.push(await submitted(submitBody({ name: `n${i}` })));
    }
    const page1 = jobListSchema.parse((await call('GET', '/jobs', { query: { limit: '2' } })).body);
    expect(page1.jobs.map((j) => j.jobId)).toEqual([ids[2], ids[1]]);
    const page2 = jobListSchema.parse((await call('GET', '/jobs', { query: { limit: '2', nextToken: page1.nextToken! } })).body);
    expect(page2.jobs.map((j) => j.jobId)).toEqual([ids[0]]);
    expect(page2.nextToken).toBeUndefined();
    await Promise.all(ids.map((id) => gw.finish(id)));
  });
  it("others see only what policy lets them: nothing for carol, everything for the auditor", async () => {
    const jobId = await submitted();
    expect(jobListSchema.parse((await call('GET', '/jobs', { caller: CAROL, query: { clusterId: CLUSTER } })).body).jobs).toEqual([]);
    expect(jobListSchema.parse((await call('GET', '/jobs', { caller: CAROL })).body).jobs).toEqual([]);
    const seen = jobListSchema.parse((await call('GET', '/jobs', { caller: AUDITOR, query: { caller: ALICE } })).body).jobs;
    expect(seen.map((j) => j.jobId)).toEqual([jobId]);
    await gw.finish(jobId);
  });
  it.each([
    [{ status: 'DONE' }, /status/],
    [{ limit: '0' }, /limit/],
    [{ limit: 'ten' }, /limit/],
    [{ from: 'yesterday' }, /from/],
    [{ caller: 'alice' }, /caller/],
    [{ clusterId: 'j-lower' }, /clusterId/],
    [{ sort: 'asc' }, /sort/],
    [{ nextToken: 'bogus' }, /nextToken/],
  ])('400 for %j', async (query, message) => {
    expectError(await call('GET', '/jobs', { query }), 400, 'ValidationError', message);
  });
});

describe('GET /jobs decides each job as GET /jobs/{jobId} does', () => {
  let scoped: TestGateway;
  let as: Call;
  beforeEach(async () => {
    scoped = await startGateway({ configYaml: SCOPED_CONFIG_YAML });
    as = apiFor(scoped);
  });
  afterEach(() => scoped.stop());

  const listed = async (caller: string, query: Record<string, string> = {}) => {
    const response = await as('GET', '/jobs', { caller, query });
    expect(response.status).toBe(200);
    return jobListSchema.parse(response.body);
  };
  /** Every page of a listing; the sizes of the pages and the job ids in order. */
  async function everyPage(caller: string, query: Record<string, string>): Promise<{ pages: number[]; ids: string[] }> {
    const pages: number[] = [];
    const ids: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await listed(caller, { ...query, ...(nextToken ? { nextToken } : {}) });
      pages.push(page.jobs.length);
      ids.push(...page.jobs.map((j) => j.jobId));
      nextToken = page.nextToken;
    } while (nextToken && pages.length < 100);
    return { pages, ids };
  }
  const plant = async (jobs: Job[]) => {
    for (let i = 0; i < jobs.length; i += 25) await Promise.all(jobs.slice(i, i + 25).map((job) => scoped.jobs.create(job)));
  };

  it('a Deny tied to the runtime role hides the job from the list exactly as from GET /jobs/{jobId}; no audit event for what the list hid', async () => {
    const submitAs = async (caller: string, clusterId: string, roleName: string) => {
      scoped.clock.advance(1);
      const response = await as('POST', '/jobs', { caller, body: submitBody({ clusterId, executionRoleArn: role(roleName) }) });
      expect(response.status).toBe(202);
      return submitResponseSchema.parse(response.body).jobId;
    };
    const ownEtl = await submitAs(SCOPED, CLUSTER, 'CallerTeamRoleETL');
    const ownCaller = await submitAs(SCOPED, CLUSTER, 'Caller');
    const peerEtl = await submitAs(PEER, CLUSTER, 'CallerTeamRoleETL');
    const peerCaller = await submitAs(PEER, CLUSTER, 'Caller');
    const jobs = [ownEtl, ownCaller, peerEtl, peerCaller];
    await Promise.all(jobs.map((jobId) => scoped.finish(jobId)));
    const trails = await Promise.all(jobs.map((jobId) => scoped.audit.list(jobId)));

    expect((await listed(SCOPED)).jobs.map((j) => j.jobId)).toEqual([ownEtl]);
    expect((await listed(SCOPED, { clusterId: CLUSTER })).jobs.map((j) => j.jobId)).toEqual([peerEtl, ownEtl]);
    expect((await listed(SCOPED, { caller: PEER })).jobs.map((j) => j.jobId)).toEqual([peerEtl]);
    expect(await Promise.all(jobs.map((jobId) => scoped.audit.list(jobId)))).toEqual(trails);

    const reads = await Promise.all(jobs.map(async (jobId) => (await as('GET', `/jobs/${jobId}`, { caller: SCOPED })).status));
    expect(reads).toEqual([200, 403, 200, 403]);
  });

  it('a caller who may read none of 250 jobs gets {"jobs": []} with no nextToken, as from an empty table; one who may read every 10th gets full pages', async () => {
    const empty = await as('GET', '/jobs', { caller: CAROL, query: { clusterId: CLUSTER } });
    const planted = jobRecords(new Date('2026-11-01T00:00:00Z'), 250, (i) => ({ callerArn: PEER, clusterId: CLUSTER, executionRoleArn: role(i % 10 === 0 ? 'CallerTeamRoleETL' : 'Caller') }));
    await plant(planted);
    const hidden = await as('GET', '/jobs', { caller: CAROL, query: { clusterId: CLUSTER } });
    expect(empty).toEqual({ status: 200, headers: empty.headers, body: { jobs: [] } });
    expect(hidden).toEqual(empty);
    expect((await as('GET', '/jobs', { caller: SCOPED, query: { caller: PEER, limit: '1' } })).body).toMatchObject({ jobs: [{ jobId: planted[240]!.jobId }] });
    const visible = planted.filter((_, i) => i % 10 === 0).map((j) => j.jobId).reverse();
    expect(await everyPage(SCOPED, { clusterId: CLUSTER, limit: '10' })).toEqual({ pages: [10, 10, 5], ids: visible });
    expect(await everyPage(SCOPED, { caller: PEER, limit: '20' })).toEqual({ pages: [20, 5], ids: visible });
    expect(await everyPage(PEER, { limit: '100' })).toMatchObject({ pages: [100, 100, 50] });
  });

  it('nextToken: a changed, truncated or forged token, another caller\'s, or one of other filters is a 400 on nextToken, with one message', async () => {
    await plant(jobRecords(new Date('2026-11-01T00:00:00Z'), 5, () => ({ callerArn: PEER, clusterId: CLUSTER, executionRoleArn: role('CallerTeamRoleETL') })));
    const first = await listed(PEER, { limit: '2' });
    const token = first.nextToken!;
    expect((await listed(PEER, { limit: '2', nextToken: token })).jobs).toHaveLength(2);
    const bytes = Buffer.from(token, 'base64url');
    const flipped = Buffer.from(bytes);
    flipped[Math.floor(bytes.length / 2)]! ^= 1;
    const attempts: [string, Record<string, string>][] = [
      [PEER, { limit: '2', nextToken: flipped.toString('base64url') }],
      [PEER, { limit: '2', nextToken: token.slice(0, 40) }],
      [PEER, { limit: '2', nextToken: Buffer.from(JSON.stringify({ principalArn: role('Peers'), jobId: first.jobs[1]!.jobId, listKey: `${first.jobs[1]!.createdAt}#${first.jobs[1]!.jobId}` })).toString('base64url') }],
      [SCOPED, { limit: '2', nextToken: token }],
      [`${PEER.slice(0, PEER.lastIndexOf('/'))}/other-session`, { limit: '2', nextToken: token }],
      [PEER, { clusterId: CLUSTER, limit: '2', nextToken: token }],
      [PEER, { caller: PEER, limit: '2', nextToken: token }],
    ];
    const messages = new Set<string>();
    for (const [caller, query] of attempts) {
      const response = await as('GET', '/jobs', { caller, query });
      expectError(response, 400, 'ValidationError', /^nextToken: /);
      expect((response.body as { error: { details: { issues: { field: string }[] } } }).error.details.issues.map((i) => i.field)).toEqual(['nextToken']);
      messages.add((response.body as { error: { message: string } }).error.message);
    }
    expect(messages.size).toBe(1);
  });
});

describe('DELETE /jobs/{jobId}', () => {
  it('202 and the job ends CANCELLED; a finished job is 409; others need CancelSteps', async () => {
    gw.emr.nextScript = ['RUNNING'];
    const jobId = await submitted();
    for (let i = 0; i < 200 && (await gw.jobs.get(jobId))?.status !== 'RUNNING'; i++) await new Promise((r) => setTimeout(r, 5));
    expectError(await call('DELETE', `/jobs/${jobId}`, { caller: AUDITOR }), 403, 'Forbidden', /not allowed to cancel/);
    expectError(await call('DELETE', `/jobs/${jobId}`, { query: { mode: 'KILL' } }), 400, 'ValidationError', /mode/);
    const cancelled = await call('DELETE', `/jobs/${jobId}`, { query: { mode: 'TERMINATE_PROCESS' } });
    expect(cancelled.status).toBe(202);
    expect(jobViewSchema.parse(cancelled.body).cancelRequested).toMatchObject({ mode: 'TERMINATE_PROCESS' });
    expect((await gw.finish(jobId))?.status).toBe('CANCELLED');
    expectError(await call('DELETE', `/jobs/${jobId}`), 409, 'Conflict', /nothing to cancel/);
  });
});

describe('GET /roles, /openapi.json, /healthz, and unknown routes', () => {
  it('roles: per cluster, only the usable ones', async () => {
    const roles = rolesResponseSchema.parse((await call('GET', '/roles', { query: { clusterId: CLUSTER } })).body);
    expect(roles.clusters).toMatchObject([{ clusterId: CLUSTER, roles: [{ roleArn: role('CallerTeamRoleETL'), stepTypes: ['spark', 'hive', 'command', 'jar'] }] }]);
    // Why: the decision's reason and the statements that allow it.
    expect(roles.clusters[0]!.roles[0]).toMatchObject({ reason: expect.stringMatching(/^allowed by /), allowedBy: [expect.objectContaining({ effect: 'Allow', policy: expect.any(String) })] });
    expect(rolesResponseSchema.parse((await call('GET', '/roles', { caller: CAROL })).body).clusters.every((c) => c.roles.length === 0)).toBe(true);
    expectError(await call('GET', '/roles', { query: { clusterId: 'j-UNKNOWN' } }), 404, 'NotFound');
  });
  it('decision ("may I?"): allowed with the statements, denied with its reason and the nearest statements; nothing recorded', async () => {
    const ask = (query: Record<string, string>, caller = ALICE) => call('GET', '/decision', { query, caller });
    const allowed = await ask({ clusterId: CLUSTER, executionRoleArn: role('CallerTeamRoleETL'), stepType: 'spark' });
    expect(allowed.status).toBe(200);
    expect(decisionResponseSchema.parse(allowed.body)).toMatchObject({
      allowed: true,
      result: 'Allowed',
      action: 'elasticmapreduce:AddJobFlowSteps',
      actionOnFailure: 'CONTINUE',
      allowedBy: [expect.objectContaining({ effect: 'Allow' })],
      deniedBy: [],
    });
    // A role of the catalogue this caller's policy does not name: denied, and the Allow whose condition failed is the near miss.
    const denied = decisionResponseSchema.parse((await ask({ clusterId: CLUSTER, executionRoleArn: role('Caller'), stepType: 'hive' })).body);
    expect(denied).toMatchObject({ allowed: false, result: 'ImplicitlyDenied', reason: expect.stringMatching(/implicitly denied/), allowedBy: [] });
    expect(denied.nearMisses[0]?.failedConditions).toEqual(['StringLike elasticmapreduce:ExecutionRoleArn']);
    expect(decisionResponseSchema.parse((await ask({ clusterId: CLUSTER, executionRoleArn: role('CallerTeamRoleETL'), stepType: 'spark' }, CAROL)).body).allowed).toBe(false);
    // What a submission would be refused before the policy is refused here the same way.
    expectError(await ask({ clusterId: 'j-UNKNOWN', executionRoleArn: role('Caller'), stepType: 'spark' }), 404, 'NotFound');
    expectError(await ask({ clusterId: CLUSTER, executionRoleArn: role('NotInCatalogue'), stepType: 'spark' }), 400, 'ValidationError', /not one of the runtime roles/);
    expectError(await ask({ clusterId: CLUSTER, executionRoleArn: role('Caller'), stepType: 'pig' }), 400, 'ValidationError', /stepType/);
    expectError(await ask({ clusterId: CLUSTER, executionRoleArn: role('Caller'), stepType: 'spark', actionOnFailure: 'CANCEL_AND_WAIT' }), 400, 'ValidationError', /actionOnFailure/);
    expectError(await ask({ clusterId: CLUSTER, executionRoleArn: role('Caller'), stepType: 'spark', extra: '1' }), 400, 'ValidationError');
    expectError(await ask({ clusterId: CLUSTER }), 400, 'ValidationError');
    expect((await gw.jobs.list({ principalArn: role('DataTeamA'), limit: 10 })).jobs).toEqual([]);
  });
  it('openapi and healthz', async () => {
    expect((await call('GET', '/openapi.json')).body).toMatchObject({ openapi: '3.1.0' });
    expect((await call('GET', '/healthz')).body).toEqual({ status: 'ok', version: 'test' });
  });
  it('404 for unknown paths, 405 with Allow for wrong methods', async () => {
    expectError(await call('GET', '/nowhere'), 404, 'NotFound');
    const response = await call('PUT', '/jobs');
    expectError(response, 405, 'MethodNotAllowed');
    expect(response.headers.allow).toBe('POST, GET');
  });
});

describe('POST /jobs/{id}/rerun', () => {
  it("the body is optional; anything but {parameters: {NAME: string}} is a 400 naming the field; an unknown job a 404", async () => {
    gw.emr.nextScript = ['COMPLETED'];
    const jobId = await submitted();
    await gw.finish(jobId);
    for (const rawBody of ['{"parameters": ["x"]}', '{"parameters": {"day": 3}}', '{"unknown": true}', 'not json', '[]', 'null', '{"parameters": {"__proto__": "x"}}']) {
      const response = await call('POST', `/jobs/${jobId}/rerun`, { rawBody });
      expect([rawBody, response.status]).toEqual([rawBody, 400]);
      expect(errorSchema.parse(response.body).error.message.length).toBeGreaterThan(0);
    }
    expectError(await call('POST', `/jobs/${jobId}/rerun`, { body: { parameters: { day: '2026-11-29' } } }), 400, 'ValidationError', /no template/);
    expectError(await call('POST', '/jobs/job-00000000000000000000000000/rerun', {}), 404, 'NotFound');
    const rerun = await call('POST', `/jobs/${jobId}/rerun`, {});
    expect(rerun.status).toBe(202);
    expect(rerun.body).toMatchObject({ status: 'ACCEPTED', replayed: false, rerunOf: jobId, links: { self: `/jobs/${String(rerun.body.jobId)}` } });
    expect(rerun.headers.location).toBe(`/jobs/${String(rerun.body.jobId)}`);
    await gw.finish(String(rerun.body.jobId));
  });
});
