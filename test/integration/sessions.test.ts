/**
 * POST /sessions and its reads through the API handler, over the real adapters: the session store and the audit
 * trail on dynalite (sessions in the jobs table, listed through their own index), EMR's GetClusterSessionCredentials
 * and DescribeCluster by the SDK (mocked at the client, as FakeEmr mocks the steps) through the submitter path, STS
 * mocked at the client. The whole local stack, and the AWS CLI: e2e/sessions.test.ts.
 */
import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DescribeClusterCommand, EMRClient, GetClusterSessionCredentialsCommand, type GetClusterSessionCredentialsCommandInput } from '@aws-sdk/client-emr';
import { STSClient } from '@aws-sdk/client-sts';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { DynamoSessionStore } from '../../src/adapters/dynamodb/session-store';
import { SdkEmrSessions, sessionClientFactory } from '../../src/adapters/emr/emr-sessions';
import type { TemporaryCredentials } from '../../src/adapters/emr/emr-steps';
import { SESSION_ID } from '../../src/identifiers';
import { SessionService } from '../../src/sessions/service';
import { apiFor, type Call } from '../support/api';
import { awsError } from '../support/fake-emr';
import { loadTestConfig } from '../support/config';
import { ALICE, CAROL, CLUSTER, PLAIN_CLUSTER, role, startGateway, submitBody, type TestGateway } from '../support/gateway';
import { SESSIONS_CONFIG_YAML } from '../support/sessions';

jest.setTimeout(30_000);

const ETL = role('CallerTeamRoleETL');
const SESSION_ROLE = role('EmrGatewaySessions');
const DNS = 'ip-10-0-0-1.ec2.internal';

let gw: TestGateway;
let call: Call;
let issued: { input: GetClusterSessionCredentialsCommandInput; credentials?: TemporaryCredentials; password: string }[];
let stsCalls: { RoleArn?: string; SourceIdentity?: string; RoleSessionName?: string }[];
let clientCredentials: Map<EMRClient, TemporaryCredentials>;

beforeEach(async () => {
  gw = await startGateway({ configYaml: SESSIONS_CONFIG_YAML });
  const { config, engine } = loadTestConfig(SESSIONS_CONFIG_YAML);
  issued = [];
  stsCalls = [];
  clientCredentials = new Map();
  const sts = new STSClient({ region: 'us-east-1' });
  sts.send = (command: { input: (typeof stsCalls)[number] }) => {
    stsCalls.push(command.input);
    return Promise.resolve({ Credentials: { AccessKeyId: 'ASIASESSIONS', SecretAccessKey: 'secret', SessionToken: `token-${stsCalls.length}`, Expiration: new Date() } });
  };
  // FakeEmr mocks every EMRClient: this test's two operations, each answer telling which credentials asked.
  gw.emr.mock.on(DescribeClusterCommand).resolves({ Cluster: { Id: CLUSTER, MasterPublicDnsName: DNS, Applications: [{ Name: 'Spark' }, { Name: 'Livy' }] } });
  gw.emr.mock.on(GetClusterSessionCredentialsCommand).callsFake((input: GetClusterSessionCredentialsCommandInput) => {
    const password = `pw-${issued.length + 1}-${Math.random().toString(36).slice(2)}`;
    issued.push({ input, password });
    return { Credentials: { UsernamePassword: { Username: `user-${issued.length}`, Password: password } }, ExpiresAt: new Date(Date.now() + 3600_000) };
  });
  const factory = sessionClientFactory({ region: 'us-east-1' });
  const emr = new SdkEmrSessions(new EMRClient({ region: 'us-east-1' }), sts, config.clusters, SESSION_ROLE, (credentials) => {
    const client = factory(credentials);
    clientCredentials.set(client, credentials);
    return client;
  });
  const sessions = new SessionService({ config, engine, sessions: new DynamoSessionStore(gw.dynamo.client, gw.dynamo.jobsTable), audit: gw.audit, sealer: gw.sealer, digests: gw.digests, emr, now: gw.clock.now });
  call = apiFor(gw, gw.service, sessions);
});
afterEach(() => gw.stop());

const open = (caller: string, body: Record<string, unknown> = { clusterId: CLUSTER, executionRoleArn: ETL }) => call('POST', '/sessions', { caller, body });
const item = async (id: string) => (await gw.dynamo.client.send(new GetItemCommand({ TableName: gw.dynamo.jobsTable, Key: { jobId: { S: id } } }))).Item;
const scan = async (table: string) => JSON.stringify((await gw.dynamo.client.send(new ScanCommand({ TableName: table }))).Items ?? []);

describe('POST /sessions', () => {
  it("201 for alice's role: the credentials (only here), EMR's expiry and Livy's endpoint; EMR asked through the session role with alice as SourceIdentity", async () => {
    const { status, body, headers } = await open(ALICE, { clusterId: CLUSTER, executionRoleArn: ETL, durationSeconds: 7200 });
    expect(status).toBe(201);
    const sessionId = body.sessionId as string;
    expect(sessionId).toMatch(SESSION_ID);
    expect(headers.location).toBe(`/sessions/${sessionId}`);
    expect(body).toMatchObject({
      status: 'ISSUED',
      clusterId: CLUSTER,
      executionRoleArn: ETL,
      caller: { callerArn: ALICE, sourceIdentity: 'alice' },
      decision: { result: 'Allowed' },
      durationSeconds: 7200,
      username: 'user-1',
      credentials: { username: 'user-1', password: issued[0]!.password },
      endpoints: { masterPublicDnsName: DNS, livy: `https://${DNS}:8998` },
      links: { self: `/sessions/${sessionId}`, audit: `/sessions/${sessionId}/audit` },
    });
    expect(Date.parse(body.expiresAt as string)).toBeGreaterThan(Date.now());
    expect(issued[0]!.input).toEqual({ ClusterId: CLUSTER, ExecutionRoleArn: ETL });
    expect(stsCalls).toEqual([expect.objectContaining({ RoleArn: SESSION_ROLE, SourceIdentity: 'alice', RoleSessionName: `emr-gateway-${sessionId}` })]);
    // The call went out on the session role's client.
    expect([...clientCredentials.values()].map((c) => c.sessionToken)).toEqual(['token-1']);

    // GET shows it without the password; the table and the audit trail never held it.
    const read = await call('GET', `/sessions/${sessionId}`, { caller: ALICE });
    expect(read.status).toBe(200);
    const { credentials: _credentials, ...view } = body;
    expect(read.body).toEqual(view);
    const stored = unmarshall((await item(sessionId))!);
    expect(stored).toMatchObject({ sessionId, status: 'ISSUED', username: 'user-1', auditSeq: 1 });
    for (const text of [JSON.stringify(stored), await scan(gw.dynamo.jobsTable), await scan(gw.dynamo.auditTable), JSON.stringify(read.body)]) expect(text).not.toContain(issued[0]!.password);

    // Its trail, verified; once a digest has recorded the head, anchored.
    const trail = await call('GET', `/sessions/${sessionId}/audit`, { caller: ALICE });
    expect(trail.status).toBe(200);
    expect(trail.body).toMatchObject({ sessionId, head: { seq: 1 }, verification: { ok: true, events: 2, macs: 'verified' }, anchor: { status: 'pending' } });
    expect((trail.body.events as { type: string }[]).map((e) => e.type)).toEqual(['DECISION', 'CREDENTIALS_ISSUED']);
    gw.clock.advance(5);
    expect(await gw.digester.run()).toMatchObject({ written: true });
    const anchored = await call('GET', `/sessions/${sessionId}/audit`, { caller: ALICE });
    expect(anchored.body.anchor).toMatchObject({ status: 'anchored', seq: 1 });
  });

  it("a session is no job: GET /jobs does not list it, the reconciler's scan does not take it, the jobs' routes do not find it", async () => {
    const { body } = await open(ALICE);
    const job = await call('POST', '/jobs', { caller: ALICE, body: submitBody(), headers: { 'Content-Type': 'application/json' } });
    expect(job.status).toBe(202);
    const jobs = await call('GET', '/jobs', { caller: ALICE });
    expect((jobs.body.jobs as { jobId: string }[]).map((j) => j.jobId)).toEqual([job.body.jobId]);
    expect((await gw.jobs.unfinished()).jobs.map((j) => j.jobId)).not.toContain(body.sessionId);
    expect((await call('GET', `/jobs/${String(body.sessionId)}`, { caller: ALICE })).status).toBe(404);
    const sessions = await call('GET', '/sessions', { caller: ALICE });
    expect((sessions.body.sessions as { sessionId: string }[]).map((s) => s.sessionId)).toEqual([body.sessionId]);
  });

  it('403 for carol, with the reason and her session id; recorded, listed to her, not found for alice', async () => {
    const { status, body } = await open(CAROL);
    expect(status).toBe(403);
    const error = body.error as { code: string; message: string; details: { sessionId: string; decision: { result: string } } };
    expect(error).toMatchObject({ code: 'Forbidden', details: { decision: { result: 'ImplicitlyDenied' } } });
    expect(error.details.sessionId).toMatch(SESSION_ID);
    expect(issued).toEqual([]);
    const mine = await call('GET', '/sessions', { caller: CAROL });
    expect(mine.body.sessions).toEqual([expect.objectContaining({ sessionId: error.details.sessionId, status: 'DENIED', decision: { result: 'ImplicitlyDenied', reason: error.message } })]);
    const trail = await call('GET', `/sessions/${error.details.sessionId}/audit`, { caller: CAROL });
    expect(trail.body).toMatchObject({ verification: { ok: true, events: 1 }, events: [{ type: 'DECISION', decision: { result: 'ImplicitlyDenied' } }] });
    for (const path of [`/sessions/${error.details.sessionId}`, `/sessions/${error.details.sessionId}/audit`]) {
      const other = await call('GET', path, { caller: ALICE });
      expect([other.status, (other.body.error as { code: string }).code]).toEqual([404, 'NotFound']);
    }
    expect((await call('GET', '/sessions', { caller: ALICE })).body).toEqual({ sessions: [] });
  });

  it('a cluster that does not propagate source identity: EMR asked with the gateway\'s own role', async () => {
    const { status } = await open(ALICE, { clusterId: PLAIN_CLUSTER, executionRoleArn: ETL });
    expect(status).toBe(201);
    expect(stsCalls).toEqual([]);
    expect(clientCredentials.size).toBe(0);
    expect(issued[0]!.input.ClusterId).toBe(PLAIN_CLUSTER);
  });

  it("EMR's refusal is a 502 with its message, and a FAILED session; throttling that outlasts the SDK's retries a 429", async () => {
    gw.emr.mock.on(GetClusterSessionCredentialsCommand).rejectsOnce(awsError('InvalidRequestException', 'The runtime role cannot be assumed.'));
    const refused = await open(ALICE);
    expect(refused.status).toBe(502);
    expect(refused.body.error).toMatchObject({ code: 'EmrRejected', message: 'GetClusterSessionCredentials: The runtime role cannot be assumed.', details: { emrError: 'InvalidRequestException' } });
    const [failed] = (await call('GET', '/sessions', { caller: ALICE })).body.sessions as Record<string, unknown>[];
    expect(failed).toMatchObject({ status: 'FAILED', failure: { error: 'InvalidRequestException' } });
    gw.emr.mock.on(GetClusterSessionCredentialsCommand).rejects(awsError('ThrottlingException', 'Rate exceeded'));
    const throttled = await open(ALICE);
    expect([throttled.status, throttled.headers['retry-after']]).toEqual([429, '1']);
  });

  it.each([
    [{ clusterId: CLUSTER }, 'executionRoleArn: is required'],
    [{ clusterId: CLUSTER, executionRoleArn: ETL, durationSeconds: 60 }, 'durationSeconds: must be a whole number of seconds from 900 to 43200'],
    [{ clusterId: CLUSTER, executionRoleArn: ETL, extra: true }, 'extra: unknown field'],
    [{ clusterId: 'j-2axxxxxxgaplf', executionRoleArn: ETL }, 'clusterId: must be upper case after "j-"'],
    [{ clusterId: 'j-UNKNOWN', executionRoleArn: ETL }, 'clusterId: j-UNKNOWN is not a cluster this gateway manages'],
  ])('400 for %j, naming the field; nothing asked of EMR, nothing recorded', async (body, message) => {
    const { status, body: answer } = await open(ALICE, body);
    expect(status).toBe(400);
    expect((answer.error as { message: string }).message).toContain(message);
    expect(issued).toEqual([]);
    expect((await call('GET', '/sessions', { caller: ALICE })).body).toEqual({ sessions: [] });
  });

  it('the other 4xx: malformed JSON, another media type, an id that is no session id, bad query parameters', async () => {
    expect((await call('POST', '/sessions', { caller: ALICE, rawBody: '{"clusterId":' })).status).toBe(400);
    expect((await call('POST', '/sessions', { caller: ALICE, body: {}, headers: { 'Content-Type': 'text/plain' } })).status).toBe(415);
    expect((await call('GET', '/sessions/job-0123456789abcdefghjkmnpqrs', { caller: ALICE })).status).toBe(404);
    expect((await call('GET', '/sessions', { caller: ALICE, query: { limit: '0' } })).status).toBe(400);
    expect((await call('GET', '/sessions', { caller: ALICE, query: { bogus: '1' } })).status).toBe(400);
    expect((await call('GET', '/sessions', { caller: ALICE, query: { nextToken: 'AQ' } })).status).toBe(400);
    expect((await call('DELETE', '/sessions', { caller: ALICE })).status).toBe(405);
    expect((await call('POST', '/sessions', { caller: null, body: {} })).status).toBe(401);
  });

  it("GET /sessions pages newest first with a nextToken, the caller's only", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.unshift((await open(ALICE)).body.sessionId as string);
      gw.clock.advance(1);
    }
    const first = await call('GET', '/sessions', { caller: ALICE, query: { limit: '2' } });
    expect((first.body.sessions as { sessionId: string }[]).map((s) => s.sessionId)).toEqual(ids.slice(0, 2));
    const second = await call('GET', '/sessions', { caller: ALICE, query: { limit: '2', nextToken: first.body.nextToken as string } });
    expect((second.body.sessions as { sessionId: string }[]).map((s) => s.sessionId)).toEqual(ids.slice(2));
    expect((await call('GET', '/sessions', { caller: CAROL, query: { nextToken: first.body.nextToken as string } })).status).toBe(400);
    // A token of one listing opens no other: GET /jobs's is no GET /sessions token, nor the other way round.
    for (let i = 0; i < 2; i++) expect((await call('POST', '/jobs', { caller: ALICE, body: submitBody({ name: `job ${i}` }) })).status).toBe(202);
    const jobs = await call('GET', '/jobs', { caller: ALICE, query: { limit: '1' } });
    expect(jobs.body.nextToken).toEqual(expect.any(String));
    expect((await call('GET', '/sessions', { caller: ALICE, query: { nextToken: jobs.body.nextToken as string } })).status).toBe(400);
    expect((await call('GET', '/jobs', { caller: ALICE, query: { nextToken: first.body.nextToken as string } })).status).toBe(400);
  });
});
