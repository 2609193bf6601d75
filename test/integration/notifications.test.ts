/**
 * Notifications on the local stack, with failing endpoints: one webhook that answers, one that answers 500, one that
 * never answers (timed out), one whose port is closed (down). The job ends normally whatever they do; every attempt
 * is on its audit trail (the failing ones retried with backoff, then given up); the webhook that answers gets the
 * delivery signed. And a stop before delivery (the stand-in for a crash after the job's end: the deliveries are on
 * the job record, written with its end): the next start sends them.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { verifySignature } from '../../src/notifications/signature';
import type { LocalStack } from '../../src/local/stack';
import { clientFor, EXAMPLE, finished, newDataDir, startStack, until } from '../support/local-stack';

jest.setTimeout(90_000);

const SECRET = 'local-webhook-secret-0123456789';
const ROLE = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A receiver on a loopback port of its own: /ok answers 204, /fail 500, /slow never. */
async function receiver(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (req.url === '/ok') return void res.writeHead(204).end();
      if (req.url === '/fail') return void res.writeHead(500).end('no');
      // /slow: never answers
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function configWith(url: string, downPort: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'emr-gateway-notify-config-'));
  cpSync(join(dirname(EXAMPLE), 'policies'), join(dir, 'policies'), { recursive: true });
  const hook = (name: string, path: string, extra = '') =>
    `  - { name: ${name}, states: [COMPLETED], jobs: { clusters: [j-2AXXXXXXGAPLF] }, webhook: { url: "${path.startsWith('http') ? path : url + path}", secret: { ssmParameter: /emr-gateway/hook } }${extra} }\n`;
  const retry = ', retry: { attempts: 2, timeoutSeconds: 1, backoffSeconds: 1 }';
  const text = readFileSync(EXAMPLE, 'utf8').replace(/^local:\n/m, `local:\n  secrets: { /emr-gateway/hook: ${SECRET} }\n`) +
    '\nnotifications:\n' + hook('answers', '/ok') + hook('fails', '/fail', retry) + hook('slow', '/slow', retry) + hook('down', `http://127.0.0.1:${downPort}/`, retry);
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, text);
  return file;
}

let stack: LocalStack | undefined;
let server: Server | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

const notificationEvents = async (s: LocalStack, jobId: string) => (await s.gateway.audit.list(jobId)).filter((e) => e.type === 'NOTIFICATION');

test('failing endpoints never fail the job; each attempt is on its trail; the answering one gets a valid signature', async () => {
  const r = await receiver();
  server = r.server;
  const dataDir = newDataDir();
  stack = await startStack(dataDir, { configFile: configWith(r.url, await closedPort()) });
  const alice = clientFor(stack, 'alice');
  const { jobId } = await alice.submit({ clusterId: 'j-2AXXXXXXGAPLF', executionRoleArn: ROLE, name: 'notified', step: { type: 'command', args: ['bash', '-c', 'echo hi'] } });
  const job = await finished(alice, jobId);
  expect(job.status).toBe('COMPLETED');

  // Two attempts each for the failing three (1 s apart), one for the answering one: 7 events.
  const events = await until(async () => {
    const found = await notificationEvents(stack!, jobId);
    return found.length >= 7 ? found : undefined;
  }, 30_000);
  const outcomes = Object.fromEntries(['answers', 'fails', 'slow', 'down'].map((name) => [name, events.filter((e) => e.detail?.notification === name).map((e) => e.detail?.outcome)]));
  expect(outcomes).toEqual({ answers: ['delivered'], fails: ['failed', 'abandoned'], slow: ['failed', 'abandoned'], down: ['failed', 'abandoned'] });
  const byName = (name: string) => events.filter((e) => e.detail?.notification === name);
  expect(byName('fails')[0]!.detail).toMatchObject({ httpStatus: 500, error: 'HTTP 500', attempt: 1, of: 2, target: 'webhook' });
  expect(byName('slow')[0]!.detail?.error).toBe('timed out after 1 s');
  expect(byName('down')[0]!.detail?.error).toMatch(/ECONNREFUSED/);
  // The job is as it ended, and has nothing due any more (once the last event's job write is through: audit, then job).
  await until(async () => ((await stack!.gateway.jobs.get(jobId))?.notifyDue === undefined ? true : undefined), 10_000);
  const stored = await stack.gateway.jobs.get(jobId);
  expect(stored).toMatchObject({ status: 'COMPLETED' });
  expect(stored?.notifyDue).toBeUndefined();
  // The trail still verifies, with the attempts on it.
  const trail = await alice.audit(jobId);
  expect(trail.verification).toMatchObject({ ok: true, macs: 'verified' });

  const delivered = r.received.find((x) => x.path === '/ok')!;
  expect(verifySignature(SECRET, delivered.headers['x-emr-gateway-signature'] as string, delivered.body)).toEqual({ ok: true });
  expect(delivered.headers['x-emr-gateway-delivery']).toBe(`${jobId}/COMPLETED/answers`);
  expect(JSON.parse(delivered.body)).toMatchObject({ jobId, status: 'COMPLETED', name: 'notified', links: { job: `${stack.apiUrl}/jobs/${jobId}` } });
});

test('a delivery the stack did not get to before it stopped is sent at the next start', async () => {
  const r = await receiver();
  server = r.server;
  const dataDir = newDataDir();
  const configFile = configWith(r.url, await closedPort());
  stack = await startStack(dataDir, { configFile });
  // As if the stack died right after the job's end: its notifier (runs and sweeps) sends nothing.
  await stack.notifications.stop();
  const alice = clientFor(stack, 'alice');
  const { jobId } = await alice.submit({ clusterId: 'j-2AXXXXXXGAPLF', executionRoleArn: ROLE, name: 'late', step: { type: 'command', args: ['true'] } });
  await finished(alice, jobId);
  expect((await stack.gateway.jobs.get(jobId))?.notifyDue?.map((d) => d.name)).toEqual(['answers', 'fails', 'slow', 'down']);
  expect(r.received.filter((x) => x.path === '/ok')).toHaveLength(0);
  await stack.stop();
  stack = await startStack(dataDir, { configFile });
  const delivered = await until(() => Promise.resolve(r.received.find((x) => x.path === '/ok' && x.headers['x-emr-gateway-delivery'] === `${jobId}/COMPLETED/answers`)), 30_000);
  expect(verifySignature(SECRET, delivered.headers['x-emr-gateway-signature'] as string, delivered.body)).toEqual({ ok: true });
  // The outcome is recorded once the receiver's answer is back: a moment after the receiver got the delivery.
  const recorded = await until(async () => {
    const outcomes = (await notificationEvents(stack!, jobId)).filter((e) => e.detail?.notification === 'answers').map((e) => e.detail?.outcome);
    return outcomes.length ? outcomes : undefined;
  }, 10_000);
  expect(recorded).toEqual(['delivered']);
});
