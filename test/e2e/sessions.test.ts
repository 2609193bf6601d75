/**
 * Interactive sessions on the real local stack (issue 15, item 1): POST /sessions decides
 * elasticmapreduce:GetClusterSessionCredentials with the example's policies, the local EMR issues the credentials
 * (through the sessions role, carrying alice's source identity), every decision and issue is on the session's own
 * verifying chain, anchored by the digests, and the password is nowhere but in the one answer: not in the table,
 * the audit trail or the stack's logs. The CLI (`emr-gateway session`, `audit SESSION_ID --verify`) and the AWS CLI
 * (`aws emr get-cluster-session-credentials`, skipped with the reason where it is absent) against the same stack.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GatewayApiError, type GatewayClient } from '../../src/client';
import { verifyAuditResponse } from '../../src/cli/commands/audit';
import { SESSION_ID } from '../../src/identifiers';
import type { LocalStack } from '../../src/local/stack';
import { AWS_CLI, awsCliEnv } from '../support/aws-cli';
import { captureOutput, type CapturedOutput } from '../support/logs';
import { clientFor, KEYS, newDataDir, startStack } from '../support/local-stack';

jest.setTimeout(180_000);

const hasCli = existsSync(AWS_CLI);
if (!hasCli) console.warn(`SKIPPED: the AWS CLI part of the session tests: ${AWS_CLI} is not installed (apt-get install -y awscli)`);
const itCli = hasCli ? it : it.skip;

const ACCOUNT = '123456789012';
const CLUSTER = 'j-2AXXXXXXGAPLF';
const LEGACY = 'j-1LEGACYNORUNTIME';
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const ETL = role('CallerTeamRoleETL');
const BIN = resolve(__dirname, '../../bin/emr-gateway.js');

let stack: LocalStack;
let alice: GatewayClient;
let carol: GatewayClient;
let output: CapturedOutput | undefined;
/** Every password handed out here: none may appear in what the stack keeps or writes. */
const passwords = new Set<string>();

beforeAll(async () => {
  output = captureOutput();
  stack = await startStack(newDataDir());
  alice = clientFor(stack, 'alice');
  carol = clientFor(stack, 'carol');
});
afterAll(async () => {
  output?.restore();
  await stack?.stop();
});

/** The 403 of a denied POST /sessions: its session id and decision. */
async function denied(client: GatewayClient, executionRoleArn: string): Promise<{ sessionId: string; result: string; message: string }> {
  const error = await client.openSession({ clusterId: CLUSTER, executionRoleArn }).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(GatewayApiError);
  const { status, code, details, message } = error as GatewayApiError;
  expect([status, code]).toEqual([403, 'Forbidden']);
  const sessionId = details?.sessionId as string;
  expect(sessionId).toMatch(SESSION_ID);
  return { sessionId, result: (details?.decision as { result: string }).result, message };
}

/** The trail as the gateway answers it, checked on this side as `emr-gateway audit --verify` checks it. */
async function verifiedTrail(client: GatewayClient, sessionId: string) {
  const trail = await client.sessionAudit(sessionId);
  expect(trail.verification).toMatchObject({ ok: true, macs: 'verified' });
  expect(verifyAuditResponse(sessionId, trail)).toMatchObject({ ok: true });
  return trail;
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  for (const start = Date.now(); Date.now() - start < timeoutMs; await new Promise((r) => setTimeout(r, 50))) {
    const value = probe();
    if (value !== undefined) return value;
  }
  throw new Error('timed out');
}

function run(who: keyof typeof KEYS, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, EMR_GATEWAY_ENDPOINT: stack.apiUrl, AWS_REGION: stack.region, AWS_ACCESS_KEY_ID: KEYS[who].accessKeyId, AWS_SECRET_ACCESS_KEY: KEYS[who].secretAccessKey };
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { encoding: 'utf8', env, timeout: 60_000 }, (error, stdout, stderr) => done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

describe('POST /sessions on the local stack', () => {
  let granted: string;

  it("issues alice credentials for her role: the local EMR issued them for CallerTeamRoleETL carrying her source identity; Livy's endpoint on the cluster's primary node", async () => {
    const opened = await alice.openSession({ clusterId: CLUSTER, executionRoleArn: ETL, durationSeconds: 1800 });
    granted = opened.sessionId;
    passwords.add(opened.credentials.password);
    expect(opened).toMatchObject({
      status: 'ISSUED',
      clusterId: CLUSTER,
      executionRoleArn: ETL,
      caller: { callerArn: `arn:aws:sts::${ACCOUNT}:assumed-role/DataTeamA/alice`, sourceIdentity: 'alice' },
      decision: { result: 'Allowed', reason: expect.stringContaining('team-a statement 3 (Sid SessionsAsTeamRoles)') as string },
      durationSeconds: 1800,
      endpoints: { masterPublicDnsName: 'localhost', livy: 'https://localhost:8998' },
    });
    const left = Date.parse(opened.expiresAt!) - Date.now();
    expect(left).toBeGreaterThan(3500_000);
    expect(left).toBeLessThanOrEqual(3600_000);
    const issued = stack.emr.sessionCredentialsFor(CLUSTER, opened.credentials.username, opened.credentials.password);
    expect(issued).toMatchObject({ username: opened.username, executionRoleArn: ETL, sourceIdentity: 'alice' });
    // The role session behind them is the runtime role's, assumed by the cluster's node with alice as its source identity.
    expect(stack.sts.session(issued!.roleSessionAccessKeyId)).toMatchObject({ roleArn: ETL, sourceIdentity: 'alice' });

    const trail = await verifiedTrail(alice, granted);
    expect(trail.events.map((e) => e.type)).toEqual(['DECISION', 'CREDENTIALS_ISSUED']);
    expect(trail.events[1]).toMatchObject({ emr: { operation: 'GetClusterSessionCredentials', username: opened.credentials.username, expiresAt: opened.expiresAt, sourceIdentity: 'alice' } });
    expect(trail.head).toEqual({ seq: 1, hash: trail.events[1]!.hash });
    // The digests of the chain heads record the session's, as a job's (once past the digests' settle time).
    await new Promise((r) => setTimeout(r, 2_100));
    expect(await stack.digests.run()).toMatchObject({ written: true });
    expect((await alice.sessionAudit(granted)).anchor).toMatchObject({ status: 'anchored', seq: 1 });
  });

  it('refuses carol (allowed nothing) and alice for roles outside her policy, with the reason; each denial on its own verifying chain', async () => {
    const refusals = [
      [await denied(carol, ETL), carol, 'ImplicitlyDenied'],
      [await denied(alice, role('Caller')), alice, 'ImplicitlyDenied'],
      [await denied(alice, role('CallerTeamRoleAdmin')), alice, 'ExplicitlyDenied'],
    ] as const;
    expect(refusals[2][0].message).toMatch(/team-a statement 2 \(Sid NeverAsAdmin\)/);
    for (const [{ sessionId, result, message }, client, expected] of refusals) {
      expect(result).toBe(expected);
      const trail = await verifiedTrail(client, sessionId);
      expect(trail.events).toEqual([expect.objectContaining({ type: 'DECISION', decision: expect.objectContaining({ result, reason: message }) as unknown })]);
      expect(await client.getSession(sessionId)).toMatchObject({ status: 'DENIED', decision: { result } });
    }
    const carols = await carol.listSessions();
    expect(carols.sessions.map((s) => s.sessionId)).toEqual([refusals[0][0].sessionId]);
    const alices = await alice.listSessions();
    expect(alices.sessions.map((s) => s.sessionId)).toEqual([refusals[2][0].sessionId, refusals[1][0].sessionId, granted]);
    // One's sessions are one's own: carol's is not found for alice, alice's not for carol.
    await expect(alice.getSession(refusals[0][0].sessionId)).rejects.toMatchObject({ status: 404 });
    await expect(carol.sessionAudit(granted)).rejects.toMatchObject({ status: 404 });
  });

  it('the CLI: `session` prints what sparkmagic needs (exit 0), a denial exit 3 with the recorded session, then list, show and audit --verify', async () => {
    const table = await run('alice', 'session', '--cluster', CLUSTER, '--role', ETL);
    expect(table.code).toBe(0);
    const password = /^Password +(\S+)$/m.exec(table.stdout)?.[1];
    expect(password).toBeDefined();
    passwords.add(password!);
    expect(table.stdout).toMatch(/^Livy +https:\/\/localhost:8998$/m);
    expect(table.stdout).toMatch(/^Username +emr-session-[0-9a-f]{16}$/m);
    expect(table.stdout).toMatch(/^Expires +\S+ \(in (59m|1h00m)/m);
    const snippet = JSON.parse(table.stdout.slice(table.stdout.indexOf('{'), table.stdout.lastIndexOf('}') + 1)) as Record<string, { url: string; password: string; auth: string }>;
    expect(snippet.kernel_python_credentials).toMatchObject({ url: 'https://localhost:8998', password, auth: 'Basic_Access' });

    const asJson = await run('alice', 'session', '--cluster', CLUSTER, '--role', ETL, '--duration', '7200', '--output', 'json');
    expect(asJson.code).toBe(0);
    const opened = JSON.parse(asJson.stdout) as { sessionId: string; credentials: { password: string }; sparkmagic: Record<string, { password: string }> };
    passwords.add(opened.credentials.password);
    expect(opened.sparkmagic.kernel_scala_credentials!.password).toBe(opened.credentials.password);
    // EMR's credentials last an hour: less than asked for, and said so.
    expect(asJson.stderr).toMatch(/EMR's credentials expire at .*, before the 7200s asked for/);

    const refused = await run('carol', 'session', '--cluster', CLUSTER, '--role', ETL);
    expect(refused.code).toBe(3);
    const deniedId = /^(ses-\S+) {2}DENIED$/m.exec(refused.stdout)?.[1];
    expect(deniedId).toMatch(SESSION_ID);
    expect(refused.stderr).toMatch(/403 Forbidden: /);
    expect(refused.stderr).toContain(`emr-gateway audit ${deniedId!}`);

    const list = await run('alice', 'session', 'list');
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[1]).toMatch(new RegExp(`^${opened.sessionId} +ISSUED +${CLUSTER} +${ETL}`));
    const show = await run('alice', 'session', 'show', opened.sessionId);
    expect([show.code, show.stdout]).toEqual([0, expect.stringMatching(/^Status +ISSUED$/m)]);
    expect(show.stdout).not.toContain(opened.credentials.password);
    expect((await run('alice', 'session', 'show', deniedId!)).code).toBe(4);
    const audit = await run('carol', 'audit', deniedId!, '--verify');
    expect(audit.code).toBe(0);
    expect(audit.stdout).toMatch(/^0 +\S+ +DECISION +arn:aws:sts::123456789012:assumed-role\/Contractors\/carol +ImplicitlyDenied$/m);
    expect(audit.stdout).toMatch(/^verified: 1 events, chain head [0-9a-f]{64}, the session's head at event 0; MACs verified by the gateway/m);
  });

  itCli('aws emr get-cluster-session-credentials against the local EMR: EMR\'s shapes, and its refusal on a cluster without runtime roles', async () => {
    const env = awsCliEnv({ accessKeyId: 'AKIALOCALCLI00000000', secretAccessKey: 'local-cli-secret' });
    const aws = (...args: string[]) => promisify(execFile)(AWS_CLI, ['--endpoint-url', stack.awsUrl, '--output', 'json', 'emr', ...args], { env, timeout: 60_000 });
    const { stdout } = await aws('get-cluster-session-credentials', '--cluster-id', CLUSTER, '--execution-role-arn', ETL);
    const answer = JSON.parse(stdout) as { Credentials: { UsernamePassword: { Username: string; Password: string } }; ExpiresAt: string | number };
    const { Username, Password } = answer.Credentials.UsernamePassword;
    passwords.add(Password);
    expect(Math.abs(new Date(typeof answer.ExpiresAt === 'number' ? answer.ExpiresAt * 1000 : answer.ExpiresAt).getTime() - (Date.now() + 3600_000))).toBeLessThan(120_000);
    expect(stack.emr.sessionCredentialsFor(CLUSTER, Username, Password)).toMatchObject({ executionRoleArn: ETL });
    await expect(aws('get-cluster-session-credentials', '--cluster-id', LEGACY, '--execution-role-arn', ETL)).rejects.toThrow(/ValidationException.*Runtime roles are not supported on this cluster\./s);
    await expect(aws('get-cluster-session-credentials', '--cluster-id', CLUSTER, '--execution-role-arn', role('NoSuchRole'))).rejects.toThrow(/InvalidRequestException.*cannot obtain credentials of the runtime role arn:aws:iam::123456789012:role\/NoSuchRole/s);
  });

  it("EMR failing: a 503, the FAILED session audited, and the API's error logged (the route and the caller, no credential)", async () => {
    // Past the SDK's own three attempts.
    const fault = stack.aws.injectFault('ElasticMapReduce.GetClusterSessionCredentials', 'InternalServerError', 3);
    const error = await alice.openSession({ clusterId: CLUSTER, executionRoleArn: ETL }).then(() => undefined, (e: unknown) => e);
    fault.disarm();
    expect(error).toMatchObject({ status: 503, code: 'ServiceUnavailable' });
    const [failed] = (await alice.listSessions({ limit: 1 })).sessions;
    expect(failed).toMatchObject({ status: 'FAILED', failure: { error: 'Gateway.Transient', message: 'GetClusterSessionCredentials: InternalServerError' } });
    expect((await verifiedTrail(alice, failed!.sessionId)).events.map((e) => e.type)).toEqual(['DECISION', 'ISSUE_FAILED']);
    const logged = await waitFor(() => output!.text().split('\n').find((line) => line.includes('"request failed"') && line.includes('POST /sessions')));
    expect(JSON.parse(logged)).toMatchObject({ level: 'ERROR', route: 'POST /sessions', caller: `arn:aws:sts::${ACCOUNT}:assumed-role/DataTeamA/alice`, error: { message: expect.stringContaining('GetClusterSessionCredentials: InternalServerError') as string } });
  });

  it('the passwords are nowhere but in their answers: not in the jobs table, the audit table, nor anything the stack wrote', async () => {
    expect(passwords.size).toBeGreaterThanOrEqual(3);
    const db = new DynamoDBClient({ region: 'us-east-1', endpoint: stack.awsUrl, credentials: { accessKeyId: 'AKIALOCALCLI00000000', secretAccessKey: 'x' } });
    try {
      const kept = [];
      for (const table of ['emr-gateway-jobs', 'emr-gateway-audit']) kept.push(JSON.stringify((await db.send(new ScanCommand({ TableName: table }))).Items));
      const sessionItems = (await db.send(new ScanCommand({ TableName: 'emr-gateway-jobs' }))).Items ?? [];
      expect(sessionItems.filter((i) => i.jobId?.S?.startsWith('ses-')).length).toBeGreaterThanOrEqual(6);
      const written = output!.text();
      expect(written).toContain('"request failed"');
      for (const password of passwords) {
        for (const text of [...kept, written]) expect(text).not.toContain(password);
      }
    } finally {
      db.destroy();
    }
  });
});
