/**
 * The real CLI (child process) against a loopback gateway: the local API front checking SigV4, the real API
 * handler and service, dynalite and the real ASL behind it, EMR mocked. Output and exit codes per command.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { verifyTrail } from '../../src/audit/verify';
import { GatewayClient } from '../../src/client';
import { createApiHandler } from '../../src/http/api';
import { openApiDocument } from '../../src/http/openapi';
import { denialsChain } from '../../src/identifiers';
import { startApiFront, type ApiFront } from '../../src/local/api-gateway/front';
import { ALICE, AUDITOR, CAROL, CLUSTER, role, startGateway, submitBody, type TestGateway } from '../support/gateway';

jest.setTimeout(60_000);

const BIN = resolve(__dirname, '../../bin/emr-gateway.js');
const KEYS = {
  alice: { accessKeyId: 'AKIALOCALALICE000001', secretAccessKey: 'local-alice-secret', principal: ALICE },
  carol: { accessKeyId: 'AKIALOCALCAROL000003', secretAccessKey: 'local-carol-secret', principal: CAROL },
  dora: { accessKeyId: 'AKIALOCALDORA0000004', secretAccessKey: 'local-dora-secret', principal: AUDITOR },
};

let gw: TestGateway;
let front: ApiFront;
beforeAll(async () => {
  gw = await startGateway();
  const handler = createApiHandler(() => ({ service: gw.service, openapi: () => openApiDocument('test'), version: 'test' }));
  front = await startApiFront({ port: 0, region: 'us-east-1', account: '123456789012', credentials: Object.values(KEYS), handler: (e) => handler(e, {}) });
});
afterAll(async () => {
  await front.close();
  await gw.stop();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cliEnv(key: { accessKeyId: string; secretAccessKey: string }): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    EMR_GATEWAY_ENDPOINT: front.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: key.accessKeyId,
    AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
    AWS_CONFIG_FILE: '/nonexistent/config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

function cli(args: string[], who: keyof typeof KEYS | { accessKeyId: string; secretAccessKey: string } = 'alice'): Promise<Run> {
  const env = cliEnv(typeof who === 'string' ? KEYS[who] : who);
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 50_000 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

const submitArgs = (...extra: string[]) => ['submit', '--cluster', CLUSTER, '--role', role('CallerTeamRoleETL'), '--name', 'cli job', ...extra];
const jobIdIn = (text: string): string => /job-[0-9a-z]{26}/.exec(text)![0];

describe('emr-gateway against a gateway', () => {
  it('submit --wait: follows the job (plain progress lines off a terminal) and exits 0 when it completes', async () => {
    gw.emr.nextScript = ['PENDING', 'RUNNING', 'RUNNING', 'COMPLETED'];
    const r = await cli(submitArgs('--wait', '--', 'bash', '-c', 'echo hello'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Status\s+COMPLETED$/m);
    expect(r.stderr).toMatch(/Idempotency-Key: [0-9a-f-]{36}/);
    const step = gw.emr.steps.at(-1)!;
    expect(step.input.Steps?.[0]?.HadoopJarStep?.Args).toEqual(['bash', '-c', 'echo hello']);
  });

  it('submit then status (table and json); a retried submit with the same key returns the same job', async () => {
    gw.emr.nextScript = ['COMPLETED'];
    const first = await cli(submitArgs('--idempotency-key', 'cli-key-1', '--spark', '--', '--deploy-mode', 'cluster', 's3://bucket/app.py'));
    expect(first.code).toBe(0);
    const jobId = jobIdIn(first.stdout);
    const again = await cli(submitArgs('--idempotency-key', 'cli-key-1', '--spark', '--', '--deploy-mode', 'cluster', 's3://bucket/app.py'));
    expect(again.stdout).toContain(jobId);
    expect(again.stdout).toContain('(already submitted with this Idempotency-Key)');
    await gw.finish(jobId);
    const status = await cli(['status', jobId]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^Runtime role\s+arn:aws:iam::123456789012:role\/CallerTeamRoleETL$/m);
    const asJson = JSON.parse((await cli(['status', jobId, '--output', 'json'])).stdout) as { status: string; stepType: string };
    expect(asJson).toMatchObject({ status: 'COMPLETED', stepType: 'spark' });
  });

  it('a failing step: exit 1 with the failure details', async () => {
    gw.emr.nextScript = ['RUNNING', 'FAILED'];
    gw.emr.nextFailure = { Reason: 'Unknown Error.', Message: 'exit code 2' };
    const r = await cli(submitArgs('--wait', '--', 'false'));
    gw.emr.nextFailure = undefined;
    expect(r.code).toBe(1);
    // EMR's placeholder reason says nothing: the table leads with the message; JSON keeps EMR's fields as they are.
    expect(r.stdout).toMatch(/^Failure\s+exit code 2$/m);
    expect(r.stdout).not.toContain('Unknown Error.');
    const asJson = JSON.parse((await cli(['status', jobIdIn(r.stdout), '--output', 'json'])).stdout) as { failureDetails: unknown };
    expect(asJson.failureDetails).toEqual({ reason: 'Unknown Error.', message: 'exit code 2' });
  });

  it('denied by policy: exit 3, the reason, and the REJECTED job it recorded (table and json)', async () => {
    const r = await cli(submitArgs('--', 'true'), 'carol');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/403 Forbidden: implicitly denied/);
    const jobId = /^(job-[0-9a-z]{26}) {2}REJECTED$/m.exec(r.stdout)?.[1];
    expect(jobId).toBeDefined();
    expect(r.stderr).toContain(`emr-gateway audit ${jobId!}`);
    const status = await cli(['status', jobId!], 'carol');
    expect(status.stdout).toMatch(/^Status\s+REJECTED$/m);
    // A REJECTED job never reaches EMR: its step is not "not submitted yet".
    expect(status.stdout).toMatch(/^Step\s+never submitted \(command\)$/m);
    const asJson = await cli(submitArgs('--output', 'json', '--', 'true'), 'carol');
    expect(asJson.code).toBe(3);
    expect(JSON.parse(asJson.stdout)).toMatchObject({ jobId: expect.stringMatching(/^job-/), status: 'REJECTED', decision: { result: 'ImplicitlyDenied' }, idempotencyKey: expect.any(String) });
  });

  it('a bad signature: exit 3 and the 401 reason', async () => {
    const r = await cli(['list'], { accessKeyId: 'AKIALOCALALICE000001', secretAccessKey: 'not-the-secret' });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/401 Unauthorized: the signature does not match/);
  });

  const scriptBin = ['/usr/bin/script', '/bin/script'].find((p) => existsSync(p));
  (scriptBin ? it : it.skip)('wait on a terminal: one live line (spinner, state, elapsed), rewritten in place [needs util-linux script for a pty]', async () => {
    gw.emr.nextScript = ['RUNNING'];
    const jobId = jobIdIn((await cli(submitArgs('--', 'sleep', '600'))).stdout);
    for (let i = 0; i < 400 && (await gw.jobs.get(jobId))?.status !== 'RUNNING'; i++) await new Promise((r) => setTimeout(r, 5));
    const command = `${process.execPath} ${BIN} wait ${jobId}`;
    const waiting = new Promise<Run>((done) =>
      execFile(scriptBin!, ['-qec', command, '/dev/null'], { env: { ...cliEnv(KEYS.alice), TERM: 'xterm' }, timeout: 30_000 }, (error, stdout, stderr) =>
        done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      ),
    );
    await new Promise((r) => setTimeout(r, 2500));
    await gw.service.cancel({ callerArn: ALICE }, jobId);
    const r = await waiting;
    expect(r.stdout).toMatch(new RegExp(`\\r\\x1b\\[2K[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] ${jobId}  RUNNING  [0-9hms]+`));
    expect(r.stdout).toMatch(/Status\s+CANCELLED/);
    expect(r.code).toBe(1);
  });

  it('not found: exit 4', async () => {
    const r = await cli(['status', 'job-0000000000000000000000000z']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/404 NotFound/);
  });

  it('cancel a running job: exit 0; wait then exits 1 (CANCELLED); cancelling again is a conflict', async () => {
    gw.emr.nextScript = ['RUNNING'];
    const jobId = jobIdIn((await cli(submitArgs('--', 'sleep', '600'))).stdout);
    for (let i = 0; i < 400 && (await gw.jobs.get(jobId))?.status !== 'RUNNING'; i++) await new Promise((r) => setTimeout(r, 5));
    const cancelled = await cli(['cancel', jobId, '--mode', 'TERMINATE_PROCESS']);
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toContain('cancel requested (TERMINATE_PROCESS)');
    const waited = await cli(['wait', jobId]);
    expect(waited.code).toBe(1);
    expect(waited.stdout).toMatch(/^Status\s+CANCELLED$/m);
    const again = await cli(['cancel', jobId]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/409 Conflict: .*nothing to cancel/);
  });

  it('list (table and json), audit --verify, roles', async () => {
    const listed = await cli(['list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n')[0]).toMatch(/^JOB\s+STATUS\s+NAME\s+CLUSTER\s+CALLER\s+CREATED$/);
    const jobs = (JSON.parse((await cli(['list', '--output', 'json', '--limit', '2'])).stdout) as { jobs: { jobId: string }[]; nextToken?: string });
    expect(jobs.jobs).toHaveLength(2);
    expect(jobs.nextToken).toBeDefined();
    const jobId = jobs.jobs[0]!.jobId;
    await gw.finish(jobId);
    const audit = await cli(['audit', jobId, '--verify']);
    expect(audit.code).toBe(0);
    expect(audit.stdout).toMatch(/^0\s+\S+\s+DECISION\s+alice\s+Allowed$/m);
    expect(audit.stdout).toMatch(/^verified: \d+ events, chain head [0-9a-f]{64}, the job's head at event \d+; MACs verified by the gateway; not anchored yet: no digest has been written yet$/m);
    const others = await cli(['list', '--caller', ALICE], 'dora');
    expect(others.stdout).toContain(jobId);
    const roles = await cli(['roles', '--cluster', CLUSTER]);
    expect(roles.stdout).toMatch(/CallerTeamRoleETL\s+spark,hive,command,jar/);
  });

  it('list --next-token goes on from a page, --all follows every page; a token of another caller or filters is a usage error naming nextToken', async () => {
    type Listing = { jobs: { jobId: string }[]; nextToken?: string };
    const listing = async (args: string[], who: keyof typeof KEYS = 'alice'): Promise<Listing> => JSON.parse((await cli(['list', '--output', 'json', ...args], who)).stdout) as Listing;
    const held = gw.serviceWith({ start: () => Promise.resolve() });
    for (let i = 0; i < 3; i++) await held.submit({ caller: { callerArn: ALICE }, body: submitBody({ name: `page ${i}` }) });
    const whole = await listing(['--limit', '100']);
    expect(whole.jobs.length).toBeGreaterThanOrEqual(3);
    expect(whole.nextToken).toBeUndefined();
    expect(await listing(['--limit', '1', '--all'])).toEqual(whole);
    const first = await listing(['--limit', '2']);
    const rest = await listing(['--limit', '100', '--next-token', first.nextToken!]);
    expect([...first.jobs, ...rest.jobs]).toEqual(whole.jobs);
    // The table names the token to go on with, on stderr.
    const table = await cli(['list', '--limit', '1']);
    const token = /^more: --next-token (\S+) \(or --all\)$/m.exec(table.stderr)?.[1];
    expect((await listing(['--limit', '100', '--next-token', token!])).jobs).toEqual(whole.jobs.slice(1));
    for (const [args, who] of [[['--next-token', token!], 'dora'], [['--cluster', CLUSTER, '--next-token', token!], 'alice'], [['--next-token', `${token!.slice(0, -4)}AAAA`], 'alice']] as const) {
      const refused = await cli(['list', ...args], who);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/^emr-gateway: 400 ValidationError: nextToken: /);
    }
  });

  it("denied reads from 40 session names of one role: the job's trail gains one READ_DENIED and audit --verify still verifies; every denial is on the role's own chain", async () => {
    gw.emr.nextScript = ['COMPLETED'];
    const { job: { jobId } } = await gw.service.submit({ caller: { callerArn: ALICE }, body: submitBody({ name: 'victim' }) });
    await gw.finish(jobId);
    const before = (await gw.audit.list(jobId)).length;
    const sessions = Array.from({ length: 40 }, (_, i) => ({
      accessKeyId: `AKIALOCALSESSION${String(i).padStart(4, '0')}`,
      secretAccessKey: `session-secret-${i}`,
      principal: `arn:aws:sts::123456789012:assumed-role/Contractors/rotated-${i}`,
    }));
    const handler = createApiHandler(() => ({ service: gw.service, openapi: () => openApiDocument('test'), version: 'test' }));
    const sessionFront = await startApiFront({ port: 0, region: 'us-east-1', account: '123456789012', credentials: sessions, handler: (e) => handler(e, {}) });
    try {
      for (const key of sessions) {
        const client = new GatewayClient({ endpoint: sessionFront.url, region: 'us-east-1', credentials: key });
        await expect(client.getJob(jobId)).rejects.toMatchObject({ status: 403 });
        await expect(client.audit(jobId)).rejects.toMatchObject({ status: 403 });
      }
    } finally {
      await sessionFront.close();
    }
    const trail = await gw.audit.list(jobId);
    expect(trail.slice(before).map((e) => [e.type, e.actor])).toEqual([['READ_DENIED', { principalArn: role('Contractors') }]]);
    const audit = await cli(['audit', jobId, '--verify']);
    expect(audit.code).toBe(0);
    expect(audit.stdout.match(/READ_DENIED/g)).toHaveLength(1);
    expect(audit.stdout).toMatch(new RegExp(`READ_DENIED\\s+${role('Contractors')}\\s`));
    expect(audit.stdout).not.toMatch(/rotated-/);
    expect(audit.stdout).toMatch(/^verified: \d+ events, chain head [0-9a-f]{64}, the job's head at event \d+; MACs verified by the gateway; not anchored yet: /m);
    // Every one, in full, on the role's chain (a GET of the job and of its audit in one minute is one event per session).
    const chain = denialsChain(role('Contractors'));
    const denials = (await gw.audit.list(chain)).filter((e) => e.subject?.jobId === jobId);
    expect(new Set(denials.map((e) => e.actor?.callerArn))).toEqual(new Set(sessions.map((k) => k.principal)));
    expect(await verifyTrail(gw.sealer, chain, await gw.audit.list(chain))).toMatchObject({ ok: true, macs: 'verified' });
  });

  it.each([
    [['submit', '--role', 'r', '--name', 'n', '--', 'true'], /--cluster is required/],
    [submitArgs('--spark', '--hive', 's3://b/q.sql'), /choose one step type/],
    [submitArgs(), /give the step/],
    [submitArgs('--timeout', 'soon', '--', 'true'), /--timeout takes whole seconds/],
    [['status'], /give one job id/],
    [['cancel', 'job-x', '--mode', 'NOW'], /--mode must be/],
  ])('usage error %j: exit 2', async (args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('a body the gateway refuses: exit 2 with the field named, once', async () => {
    const r = await cli(['submit', '--cluster', CLUSTER, '--role', 'arn:aws:iam::123456789012:user/bob', '--name', 'n', '--', 'true']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^emr-gateway: 400 ValidationError: executionRoleArn: not a role/);
    expect(r.stderr.match(/executionRoleArn/g)).toHaveLength(1);
    // Several problems: a headline, then one line each.
    const two = await cli(['submit', '--cluster', CLUSTER, '--role', 'arn:aws:iam::123456789012:user/bob', '--name', 'x'.repeat(300), '--', 'true']);
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/^emr-gateway: 400 ValidationError: 2 problems\n {2}\S+: .+\n {2}\S+: .+\n$/);
  });

  it('list --from/--to: a zoned ISO 8601 time or a day (UTC, inclusive); anything else is refused here, naming the formats', async () => {
    const [job] = (JSON.parse((await cli(['list', '--output', 'json', '--limit', '1'])).stdout) as { jobs: { jobId: string; createdAt: string }[] }).jobs;
    const day = job!.createdAt.slice(0, 10);
    const dayBefore = new Date(Date.parse(`${day}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    const ids = async (...args: string[]) => (JSON.parse((await cli(['list', '--output', 'json', '--limit', '100', ...args])).stdout) as { jobs: { jobId: string }[] }).jobs.map((j) => j.jobId);
    expect(await ids('--from', day, '--to', day)).toContain(job!.jobId);
    expect(await ids('--to', dayBefore)).not.toContain(job!.jobId);
    expect(await ids('--from', `${day}T00:00:00+14:00`)).toContain(job!.jobId);
    for (const bad of ['yesterday', '2026-02-30', '12/01/2026']) {
      const r = await cli(['list', '--from', bad]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`emr-gateway list: --from must be an ISO 8601 time with its zone (2026-12-01T09:30:00Z, 2026-12-01T10:30:00+01:00) or a day (2026-12-01, UTC), not "${bad}"\nRun 'emr-gateway list --help' for usage.\n`);
    }
    const zoneless = await cli(['list', '--to', '2026-12-01T09:30:00']);
    expect(zoneless.code).toBe(2);
    expect(zoneless.stderr).toMatch(/^emr-gateway list: --to 2026-12-01T09:30:00 has no time zone: add Z for UTC \(2026-12-01T09:30:00Z\) or an offset \(2026-12-01T09:30:00\+01:00\)\n/);
  });

  it('list with nothing to list: no table on stdout, "no jobs" on stderr', async () => {
    const r = await cli(['list'], 'dora');
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: 'no jobs\n' });
  });

  it('list --limit: a whole number from 1 to 100, checked here', async () => {
    for (const bad of ['abc', '0', '2.5', '']) {
      const r = await cli(['list', '--limit', bad]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^emr-gateway list: --limit must be a whole number from 1 to 100, not "${bad.replace('.', '\\.')}"\n`));
    }
  });

  it("the API's own messages for from, to and limit name what is accepted (no regex, no \"got a number\")", async () => {
    const client = new GatewayClient({ endpoint: front.url, region: 'us-east-1', credentials: KEYS.alice });
    await expect(client.listJobs({ from: '2026-12-01' })).rejects.toMatchObject({
      status: 400,
      message: 'from: must be an ISO 8601 time with its zone, e.g. 2026-12-01T09:30:00Z or 2026-12-01T10:30:00+01:00',
    });
    await expect(client.listJobs({ limit: 'abc' as unknown as number })).rejects.toMatchObject({ status: 400, message: 'limit: must be a whole number from 1 to 100' });
    await expect(client.listJobs({ limit: 500 })).rejects.toMatchObject({ status: 400, message: 'limit: must be a whole number from 1 to 100' });
  });
});
