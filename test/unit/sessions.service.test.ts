/**
 * SessionService (src/sessions/service.ts) against the in-memory ports, with the real policy engine: POST /sessions
 * decides elasticmapreduce:GetClusterSessionCredentials with the runtime role as elasticmapreduce:ExecutionRoleArn,
 * under the submission's identity and catalogue rules, audits every decision on the session's own chain, and never
 * keeps the password.
 */
import { verifyTrail } from '../../src/audit/verify';
import { EmrRejectedError, ForbiddenError, NotFoundError, TransientError, ValidationError } from '../../src/errors';
import { SESSION_ID } from '../../src/identifiers';
import { eventLabels } from '../support/audit';
import { ALICE, CAROL, CLUSTER, loadTestConfig, NOREADS, role, UNVERIFIED_CONFIG_YAML } from '../support/config';
import { emrRefusal, emrThrottled, LEGACY, memorySessions, SESSIONS_CONFIG_YAML, withSessions, type MemorySessions } from '../support/sessions';

const ETL = role('CallerTeamRoleETL');
const CALLER = role('Caller');

const CONFIG = loadTestConfig(SESSIONS_CONFIG_YAML);

let m: MemorySessions;
beforeEach(() => {
  m = memorySessions(CONFIG);
});

const open = (callerArn: string, request: { clusterId?: string; executionRoleArn?: string; durationSeconds?: number } = {}, gateway = m) =>
  gateway.service.open({ callerArn }, { clusterId: CLUSTER, executionRoleArn: ETL, ...request });
const rejection = <T>(promise: Promise<T>): Promise<unknown> => promise.then(() => undefined, (e: unknown) => e);
/** The session's trail as labels, after checking that it verifies, MACs included, against the head its record holds (the last event). */
async function trail(sessionId: string, gateway = m): Promise<string[]> {
  const events = await gateway.audit.list(sessionId);
  const session = await gateway.sessions.get(sessionId);
  if (!session) throw new Error(`no session ${sessionId}`);
  expect({ seq: session.auditSeq, hash: session.auditHash }).toEqual({ seq: events.length - 1, hash: events.at(-1)?.hash });
  expect(await verifyTrail(gateway.sealer, sessionId, events, { head: { seq: session.auditSeq, hash: session.auditHash }, firstType: 'DECISION', now: gateway.clock.now() })).toMatchObject({ ok: true, macs: 'verified' });
  return eventLabels(events);
}
/** Everything the gateway keeps: the records and every audit event, as text. */
const kept = (): string => JSON.stringify([...m.sessions.items.values(), ...m.audit.chains.values()]);

describe('open', () => {
  it("allowed: EMR issues the credentials for the role, with alice as source identity; the record and the trail hold the user name and expiry, never the password", async () => {
    const { session, credentials } = await open(ALICE, { durationSeconds: 3600 });
    expect(session.sessionId).toMatch(SESSION_ID);
    expect(session).toMatchObject({
      status: 'ISSUED',
      clusterId: CLUSTER,
      executionRoleArn: ETL,
      principalArn: role('DataTeamA'),
      actor: { principalArn: role('DataTeamA'), callerArn: ALICE, sourceIdentity: 'alice' },
      decision: { result: 'Allowed', reason: expect.stringContaining('sessions statement 0 (Sid SessionsAsTeamRoles)') as string },
      username: credentials.username,
      expiresAt: '2026-11-28T13:00:00.000Z',
      durationSeconds: 3600,
      endpoints: { masterPublicDnsName: 'ip-10-0-0-1.ec2.internal', livy: 'https://ip-10-0-0-1.ec2.internal:8998' },
    });
    expect(m.emr.issued).toEqual([expect.objectContaining({ sessionId: session.sessionId, clusterId: CLUSTER, executionRoleArn: ETL, sourceIdentity: 'alice' })]);
    expect(await trail(session.sessionId)).toEqual(['DECISION', 'CREDENTIALS_ISSUED']);
    const [decision, issued] = await m.audit.list(session.sessionId);
    expect(decision).toMatchObject({ actor: { callerArn: ALICE, sourceIdentity: 'alice' }, subject: { clusterId: CLUSTER, executionRoleArn: ETL, durationSeconds: 3600 }, decision: { result: 'Allowed' } });
    expect(issued).toMatchObject({ actor: { principalArn: 'emr-step-gateway' }, emr: { operation: 'GetClusterSessionCredentials', username: credentials.username, expiresAt: session.expiresAt, sourceIdentity: 'alice' } });
    expect(credentials.password.length).toBeGreaterThan(10);
    expect(kept()).not.toContain(credentials.password);
    expect(m.sessions.items.get(session.sessionId)).not.toHaveProperty('password');
  });

  it.each([
    ['carol, allowed nothing', CAROL, ETL, 'ImplicitlyDenied', /no principals rule|no statement/],
    ['alice, for a role outside her policy', ALICE, CALLER, 'ImplicitlyDenied', /implicitly denied/],
    ['nick, whose policy denies ETL sessions', NOREADS, ETL, 'ExplicitlyDenied', /no-etl-sessions statement 0 \(Sid NoEtlSessions\)/],
  ])('denied (%s): a 403 with the reason and the session id; the DENIED session and its DECISION are recorded; EMR is not asked', async (_label, caller, roleArn, result, reason) => {
    const error = await rejection(open(caller, { executionRoleArn: roleArn }));
    expect(error).toBeInstanceOf(ForbiddenError);
    const { details, message } = error as ForbiddenError;
    expect(message).toMatch(reason);
    const sessionId = details?.sessionId as string;
    expect(sessionId).toMatch(SESSION_ID);
    expect(details?.decision).toMatchObject({ result });
    expect(await m.sessions.get(sessionId)).toMatchObject({ status: 'DENIED', executionRoleArn: roleArn, decision: { result }, actor: { callerArn: caller } });
    expect(await trail(sessionId)).toEqual(['DECISION']);
    expect((await m.audit.list(sessionId))[0]).toMatchObject({ decision: { result, reason: message } });
    expect(m.emr.issued).toEqual([]);
    expect(m.emr.described).toEqual([]);
  });

  it("a submission's Allow is no session's: AddJobFlowSteps with the role does not allow GetClusterSessionCredentials", async () => {
    const plain = memorySessions(loadTestConfig());
    const error = await rejection(open(ALICE, {}, plain));
    expect(error).toBeInstanceOf(ForbiddenError);
    expect((error as ForbiddenError).message).toMatch(/implicitly denied/);
    expect(plain.emr.issued).toEqual([]);
  });

  it.each([
    [{ clusterId: 'j-UNKNOWN' }, 'clusterId', /is not a cluster this gateway manages/],
    [{ clusterId: LEGACY }, 'clusterId', /runtime roles are not enabled on cluster j-1LEGACYNORUNTIME/],
    [{ executionRoleArn: role('NotInTheCatalogue') }, 'executionRoleArn', /is not one of the runtime roles this gateway may pass/],
  ])("the cluster's and the catalogue's rules come first (%j): a 400 naming the field, nothing recorded", async (request, field, message) => {
    const error = await rejection(open(ALICE, request));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([{ field, message: expect.stringMatching(message) as string }]);
    expect(m.sessions.items.size).toBe(0);
    expect(m.audit.chains.size).toBe(0);
    expect(m.emr.issued).toEqual([]);
  });

  it('a caller that is not an IAM principal is refused before anything', async () => {
    await expect(open('not-an-arn')).rejects.toBeInstanceOf(ForbiddenError);
    expect(m.audit.chains.size).toBe(0);
  });

  it("EMR's refusal: the FAILED session and its ISSUE_FAILED event with EMR's error, then the error itself", async () => {
    m.emr.failNext(emrRefusal('The runtime role cannot be assumed by the cluster.'));
    const error = await rejection(open(ALICE));
    expect(error).toBeInstanceOf(EmrRejectedError);
    const [session] = [...m.sessions.items.values()];
    expect(session).toMatchObject({ status: 'FAILED', failure: { error: 'InvalidRequestException', message: 'The runtime role cannot be assumed by the cluster.' }, decision: { result: 'Allowed' } });
    expect(session).not.toHaveProperty('username');
    expect(await trail(session!.sessionId)).toEqual(['DECISION', 'ISSUE_FAILED']);
    expect((await m.audit.list(session!.sessionId))[1]).toMatchObject({ emr: { operation: 'GetClusterSessionCredentials', error: 'InvalidRequestException' } });
  });

  it('EMR unavailable: FAILED and audited, the TransientError passed on (the API answers 429/503; a retry is a new session)', async () => {
    m.emr.failNext(emrThrottled());
    expect(await rejection(open(ALICE))).toBeInstanceOf(TransientError);
    const [session] = [...m.sessions.items.values()];
    expect(session).toMatchObject({ status: 'FAILED', failure: { error: 'Gateway.Transient', message: 'GetClusterSessionCredentials: ThrottlingException' } });
    const again = await open(ALICE);
    expect(again.session.sessionId).not.toBe(session!.sessionId);
  });

  it('a session name that is not verified is no source identity: EMR gets none, the record keeps it as the session name', async () => {
    const unverified = memorySessions(loadTestConfig(withSessions(UNVERIFIED_CONFIG_YAML)));
    const { session } = await open(ALICE, {}, unverified);
    expect(session.actor).toEqual({ principalArn: role('DataTeamA'), callerArn: ALICE, sessionName: 'alice' });
    expect(unverified.emr.issued[0]).not.toHaveProperty('sourceIdentity');
  });

  it('a cluster without a primary DNS name yet: the credentials, without endpoints', async () => {
    m.emr.endpointsOf = () => undefined;
    const { session } = await open(ALICE);
    expect(session.status).toBe('ISSUED');
    expect(session).not.toHaveProperty('endpoints');
  });
});

describe('get, list and the audit trail: the caller\'s own sessions only', () => {
  it("get: one's own, without the password; another principal's is not found, as one that does not exist", async () => {
    const { session, credentials } = await open(ALICE);
    const read = await m.service.get({ callerArn: ALICE }, session.sessionId);
    expect(read).toEqual(session);
    expect(JSON.stringify(read)).not.toContain(credentials.password);
    for (const [caller, id] of [[CAROL, session.sessionId], [ALICE, 'ses-0123456789abcdefghjkmnpqrs']] as const) {
      const error = await rejection(m.service.get({ callerArn: caller }, id));
      expect(error).toBeInstanceOf(NotFoundError);
      expect((error as Error).message).toBe(`no session ${id}`);
    }
  });

  it("list: only the caller's principal's, newest first, a page at a time with a sealed nextToken bound to the caller and this listing", async () => {
    const mine: string[] = [];
    for (let i = 0; i < 5; i++) {
      mine.unshift((await open(ALICE)).session.sessionId);
      m.clock.advance(1);
      await rejection(open(CAROL));
    }
    const first = await m.service.list({ callerArn: ALICE }, { limit: 3 });
    expect(first.sessions.map((s) => s.sessionId)).toEqual(mine.slice(0, 3));
    expect(first.nextToken).toEqual(expect.any(String));
    const second = await m.service.list({ callerArn: ALICE }, { limit: 3, nextToken: first.nextToken });
    expect(second.sessions.map((s) => s.sessionId)).toEqual(mine.slice(3));
    expect(second).not.toHaveProperty('nextToken');
    const carols = await m.service.list({ callerArn: CAROL }, { limit: 20 });
    expect(carols.sessions).toHaveLength(5);
    expect(carols.sessions.every((s) => s.status === 'DENIED' && s.actor.callerArn === CAROL)).toBe(true);
    // The token is alice's, for this listing: not carol's, and no job listing's.
    await expect(m.service.list({ callerArn: CAROL }, { limit: 3, nextToken: first.nextToken })).rejects.toBeInstanceOf(ValidationError);
  });

  it('the audit trail: verified against the head the record holds; another principal gets not found', async () => {
    const { session } = await open(ALICE);
    const read = await m.service.auditTrail({ callerArn: ALICE }, session.sessionId);
    expect(read.verification).toMatchObject({ ok: true, events: 2, macs: 'verified' });
    expect(read.head).toEqual({ seq: 1, hash: read.events[1]!.hash });
    expect(read.anchor.status).toBe('pending');
    await expect(m.service.auditTrail({ callerArn: CAROL }, session.sessionId)).rejects.toBeInstanceOf(NotFoundError);
  });
});
