/**
 * Admission on the local stack (issue 16, item 2): a cluster of capacity 1 takes one job at a time; the others wait
 * QUEUED and start in priority order as the slot frees; GET /queues and `emr-gateway queue` show the queue; a job
 * beyond the full queue is refused 429 QueueFull with Retry-After, at once (the client does not retry it).
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { GatewayClient } from '../../src/client';
import type { LocalStack } from '../../src/local/stack';
import { apiRejection, cliAs, clientFor, finished, newDataDir, startStack } from '../support/local-stack';

jest.setTimeout(120_000);

const CLUSTER = 'j-2AXXXXXXGAPLF';
const ETL = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';
const EXAMPLE = join(__dirname, '..', '..', 'config', 'example.yaml');

let stack: LocalStack;
let alice: GatewayClient;
beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emr-gateway-queues-'));
  cpSync(join(dirname(EXAMPLE), 'policies'), join(dir, 'policies'), { recursive: true });
  const configFile = join(dir, 'gateway.yaml');
  // The example's first cluster with room for one job of this gateway at a time and three waiting.
  writeFileSync(configFile, readFileSync(EXAMPLE, 'utf8').replace('    stepConcurrencyLevel: 4\n', '    stepConcurrencyLevel: 4\n    maxActiveJobs: 1\n    maxQueuedJobs: 3\n'));
  stack = await startStack(newDataDir(), { configFile, inMemory: true });
  alice = clientFor(stack, 'alice');
});
afterAll(() => stack?.stop());

const job = (name: string, args: string[], priority?: number) =>
  alice.submit({ clusterId: CLUSTER, executionRoleArn: ETL, name, step: { type: 'command', args }, ...(priority !== undefined ? { priority } : {}) });

it('queues beyond the capacity, shows the queue, refuses a full one with 429, and drains it in priority order', async () => {
  const holder = await job('holder', ['sleep', '4']);
  expect(holder.status).toBe('ACCEPTED');
  const waiting = [];
  for (const priority of [1, 9, 5]) waiting.push(await job(`p${priority}`, ['echo', `p${priority}`], priority));
  expect(waiting.map((j) => j.status)).toEqual(['QUEUED', 'QUEUED', 'QUEUED']);

  const started = Date.now();
  const full = await apiRejection(job('one too many', ['true']));
  expect(Date.now() - started).toBeLessThan(5_000);
  expect([full.status, full.code]).toEqual([429, 'QueueFull']);
  expect(full.message).toMatch(/queue of j-2AXXXXXXGAPLF is full \(3 of 3/);

  const view = await alice.queue(CLUSTER);
  expect(view).toMatchObject({ clusterId: CLUSTER, maxActiveJobs: 1, maxQueuedJobs: 3, active: 1, queued: 3 });
  expect(view.entries.map((e) => [e.priority, e.jobId])).toEqual([[9, waiting[1]!.jobId], [5, waiting[2]!.jobId], [1, waiting[0]!.jobId]]);
  const table = await cliAs(stack, 'alice', ['queue', '--cluster', CLUSTER]);
  expect(table.code).toBe(0);
  expect(table.stdout).toContain(`${CLUSTER}: 1 of 1 active, 3 of 3 queued`);
  const rows = table.stdout.split('\n').filter((l) => /^\d+\s/.test(l));
  expect(rows.map((l) => l.split(/\s+/)[2])).toEqual(['9', '5', '1']);
  const asJson = await cliAs(stack, 'alice', ['queue', '--cluster', CLUSTER, '--output', 'json']);
  expect((JSON.parse(asJson.stdout) as { queued: number }).queued).toBe(3);
  const status = await cliAs(stack, 'alice', ['status', waiting[0]!.jobId]);
  expect(status.stdout).toMatch(/QUEUED/);
  expect(status.stdout).toMatch(/Admission\s+group default, priority 1, queued since/);

  const ended = await Promise.all([holder, ...waiting].map((j) => finished(alice, j.jobId)));
  expect(ended.map((j) => j.status)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED']);
  const admitted = await Promise.all([waiting[1]!, waiting[2]!, waiting[0]!].map(async (j) => (await alice.getJob(j.jobId)).admission?.admittedAt ?? ''));
  expect(admitted.every(Boolean)).toBe(true);
  expect([...admitted].sort()).toEqual(admitted);
  // One at a time: each started after the one before it ended.
  const byStart = await Promise.all([holder, waiting[1]!, waiting[2]!, waiting[0]!].map((j) => alice.getJob(j.jobId)));
  for (let i = 1; i < byStart.length; i++) expect(Date.parse(byStart[i]!.admission!.admittedAt!)).toBeGreaterThanOrEqual(Date.parse(byStart[i - 1]!.finishedAt!));
  const trail = await alice.audit(waiting[0]!.jobId);
  expect(trail.verification).toMatchObject({ ok: true });
  expect(trail.events.slice(0, 3).map((e) => e.type)).toEqual(['DECISION', 'QUEUED', 'ADMITTED']);
  expect((await alice.queue(CLUSTER)).entries).toEqual([]);
});
