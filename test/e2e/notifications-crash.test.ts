/**
 * A crash after a job's end, while its notification is being delivered: `emr-gateway local` is killed (SIGKILL, its
 * whole process group) while the webhook holds the delivery's request open. The delivery is on the job record (written
 * with the end), held under the dead notifier's lease; the next start takes it over and sends it, with the same
 * delivery id, and the trail records it once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { GatewayClient } from '../../src/client';
import type { LocalStack } from '../../src/local/stack';
import { verifySignature } from '../../src/notifications/signature';
import { EXAMPLE, finished, KEYS, newDataDir, startStack, until } from '../support/local-stack';

jest.setTimeout(120_000);

const BIN = resolve(__dirname, '../../bin/emr-gateway.js');
const SECRET = 'crash-webhook-secret-0123456789';

test('a delivery cut short by a crash of the stack is sent by the next start', async () => {
  // The webhook: holds every request open until told to answer.
  const seen: { delivery: string; signature: string; body: string; answered: boolean }[] = [];
  let answer = false;
  const held: ServerResponse[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ delivery: String(req.headers['x-emr-gateway-delivery']), signature: String(req.headers['x-emr-gateway-signature']), body: Buffer.concat(chunks).toString('utf8'), answered: answer });
      if (answer) res.writeHead(204).end();
      else held.push(res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;

  const dir = mkdtempSync(join(tmpdir(), 'emr-gateway-notify-crash-'));
  cpSync(join(dirname(EXAMPLE), 'policies'), join(dir, 'policies'), { recursive: true });
  const configFile = join(dir, 'gateway.yaml');
  writeFileSync(configFile, readFileSync(EXAMPLE, 'utf8').replace(/^local:\n/m, `local:\n  secrets: { /emr-gateway/hook: ${SECRET} }\n`) +
    `\nnotifications:\n  - { name: hook, states: [COMPLETED], jobs: { clusters: [j-2AXXXXXXGAPLF] }, webhook: { url: "${url}", secret: { ssmParameter: /emr-gateway/hook } }, retry: { attempts: 3, timeoutSeconds: 30 } }\n`);
  const dataDir = join(newDataDir(), 'data');

  let child: ChildProcess | undefined;
  let stack: LocalStack | undefined;
  try {
    child = spawn(process.execPath, [BIN, 'local', '--config', configFile, '--port', '0', '--aws-port', '0', '--data-dir', dataDir], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((done) => child!.on('exit', (_code, signal) => done(signal)));
    await until(() => Promise.resolve(stdout.includes('Stop with Ctrl-C') || undefined), 30_000);
    const apiUrl = /Gateway API \(AWS SigV4, service execute-api\):\s+(\S+)/.exec(stdout)![1]!;
    const alice = new GatewayClient({ endpoint: apiUrl, region: 'us-east-1', credentials: KEYS.alice });
    const { jobId } = await alice.submit({ clusterId: 'j-2AXXXXXXGAPLF', executionRoleArn: 'arn:aws:iam::123456789012:role/CallerTeamRoleETL', name: 'crash', step: { type: 'command', args: ['true'] } });
    expect((await finished(alice, jobId)).status).toBe('COMPLETED');
    // The first attempt is in flight (held open by the webhook) when the stack dies.
    await until(() => Promise.resolve(seen.length >= 1 || undefined));
    process.kill(-child.pid!, 'SIGKILL');
    expect(await exited).toBe('SIGKILL');
    for (const res of held) res.destroy();

    answer = true;
    stack = await startStack(dataDir, { configFile });
    const delivered = await until(() => Promise.resolve(seen.find((s) => s.answered)), 30_000);
    expect(delivered.delivery).toBe(`${jobId}/COMPLETED/hook`);
    expect(seen[0]!.delivery).toBe(delivered.delivery); // the same delivery id: the receiver can drop the repeat
    expect(verifySignature(SECRET, delivered.signature, delivered.body)).toEqual({ ok: true });
    const attempts = await until(async () => {
      const events = (await stack!.gateway.audit.list(jobId)).filter((e) => e.type === 'NOTIFICATION');
      return events.length ? events : undefined;
    });
    // The attempt the crash cut short never reached the trail; the one that delivered did, once.
    expect(attempts.map((e) => [e.detail?.attempt, e.detail?.outcome])).toEqual([[1, 'delivered']]);
    // The event is written first, then the job (the journal's audit-then-job order): the due delivery goes a moment later.
    await until(async () => ((await stack!.gateway.jobs.get(jobId))?.notifyDue === undefined ? true : undefined), 10_000);
    expect((await stack.gateway.jobs.get(jobId))?.notifyDue).toBeUndefined();
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    await stack?.stop();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
