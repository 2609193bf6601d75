/**
 * The real CLI (child process) while the gateway goes away and comes back: `wait` and `submit --wait` ride
 * out the restart and exit with the job's real end; a gateway that stays away past the retry bound is exit 5,
 * not a failed job's 1. The gateway: the local API front checking SigV4 in front of the real API handler and
 * service, dynalite and the real ASL behind it, EMR mocked; "restarting" closes the front and opens a new
 * one on the same port.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { GatewayClient } from '../../src/client';
import { createApiHandler } from '../../src/http/api';
import { openApiDocument } from '../../src/http/openapi';
import { startApiFront, type ApiFront } from '../../src/local/api-gateway/front';
import { ALICE, CLUSTER, role, startGateway, submitBody, type TestGateway } from '../support/gateway';

jest.setTimeout(60_000);

const BIN = resolve(__dirname, '../../bin/emr-gateway.js');
const ALICE_KEY = { accessKeyId: 'AKIALOCALALICE000001', secretAccessKey: 'local-alice-secret', principal: ALICE };

let gw: TestGateway;
let front: ApiFront | undefined;
let port: number;

async function openFront(at: number): Promise<ApiFront> {
  const handler = createApiHandler(() => ({ service: gw.service, openapi: () => openApiDocument('test'), version: 'test' }));
  return startApiFront({ port: at, region: 'us-east-1', account: '123456789012', credentials: [ALICE_KEY], handler: (e) => handler(e, {}) });
}

beforeAll(async () => {
  gw = await startGateway();
  front = await openFront(0);
  port = Number(new URL(front.url).port);
});
afterAll(async () => {
  await front?.close();
  await gw.stop();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** When it ended (Date.now()). */
  at: number;
}

/** The CLI running: its stderr so far, and its end. */
interface Running {
  stderr(): string;
  done: Promise<Run>;
}

function cli(args: string[], extraEnv: NodeJS.ProcessEnv = {}, endpoint = `http://127.0.0.1:${port}`): Running {
  const env = {
    PATH: process.env.PATH,
    EMR_GATEWAY_ENDPOINT: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: ALICE_KEY.accessKeyId,
    AWS_SECRET_ACCESS_KEY: ALICE_KEY.secretAccessKey,
    AWS_CONFIG_FILE: '/nonexistent/config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    ...extraEnv,
  };
  const child = spawn(process.execPath, [BIN, ...args], { env, timeout: 55_000, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const done = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr, at: Date.now() })));
  return { stderr: () => stderr, done };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const aliceClient = () => new GatewayClient({ endpoint: `http://127.0.0.1:${port}`, credentials: ALICE_KEY });

async function until(probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(20);
  }
}

/** A loopback port that nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port: free } = probe.address() as { port: number };
  await new Promise<void>((r) => probe.close(() => r()));
  return free;
}

describe('emr-gateway across a gateway restart', () => {
  it('wait: the gateway goes away while the job runs and comes back after it ended: exit 0, the job COMPLETED', async () => {
    gw.emr.nextScript = ['RUNNING'];
    const { jobId } = await aliceClient().submit(submitBody() as Parameters<GatewayClient['submit']>[0], { idempotencyKey: 'restart-wait' });
    await until(async () => (await gw.jobs.get(jobId))?.status === 'RUNNING');
    const waiting = cli(['wait', jobId]);
    // The CLI has seen the job RUNNING (its progress line) before the gateway goes.
    await until(() => Promise.resolve(waiting.stderr().includes(`${jobId}  RUNNING`)));
    await front!.close();
    front = undefined;
    const downAt = Date.now();
    // While it is away, the step ends on EMR and the gateway's workflow records it.
    gw.emr.steps.at(-1)!.script.push('COMPLETED');
    await until(async () => (await gw.jobs.get(jobId))?.status === 'COMPLETED');
    await sleep(Math.max(0, 3_000 - (Date.now() - downAt)));
    front = await openFront(port);
    const r = await waiting.done;
    expect(r.stderr).toMatch(new RegExp(`${jobId}  RUNNING`));
    expect(r.stdout).toMatch(/^Status\s+COMPLETED$/m);
    expect(r.code).toBe(0);
  });

  it('submit --wait while the gateway is away: it is sent when the gateway is back (with its generated Idempotency-Key), one job, exit 0', async () => {
    gw.emr.nextScript = ['PENDING', 'RUNNING', 'COMPLETED'];
    await front!.close();
    front = undefined;
    const before = gw.emr.steps.length;
    const submitting = cli(['submit', '--cluster', CLUSTER, '--role', role('CallerTeamRoleETL'), '--name', 'restart', '--wait', '--', 'true']);
    await sleep(2_500);
    front = await openFront(port);
    const r = await submitting.done;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Status\s+COMPLETED$/m);
    expect(r.stderr).toMatch(/Idempotency-Key: [0-9a-f-]{36}/);
    expect(gw.emr.steps.length).toBe(before + 1);
  });

  it('a gateway that stays away past the bound (EMR_GATEWAY_RETRY_SECONDS): exit 5 and why, not a failed job', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const started = Date.now();
    const r = await cli(['wait', 'job-0123456789abcdefghjkmnpqrs'], { EMR_GATEWAY_RETRY_SECONDS: '1' }, endpoint).done;
    expect(r.code).toBe(5);
    // A loopback endpoint also gets the hint that the local stack may not be running.
    expect(r.stderr.startsWith(`emr-gateway: the gateway did not answer for 1 s: cannot reach ${endpoint} (ECONNREFUSED)\n  Is the local stack running?`)).toBe(true);
    expect(r.at - started).toBeGreaterThanOrEqual(1_000);
  });

  it('EMR_GATEWAY_RETRY_SECONDS that is not a number of seconds: a usage error', async () => {
    const r = await cli(['status', 'job-0123456789abcdefghjkmnpqrs'], { EMR_GATEWAY_RETRY_SECONDS: 'soon' }).done;
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/EMR_GATEWAY_RETRY_SECONDS must be a number of seconds/);
  });
});
