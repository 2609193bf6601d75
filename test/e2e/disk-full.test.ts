/**
 * The local stack when the disk under its DynamoDB fills up, for real (the stack's DATA/dynamodb on a small
 * tmpfs, filled): the stack keeps running; a submission is answered 503 with Retry-After; reads (a job, the
 * listing, an audit trail) are answered; once there is space again the same submission, retried with its
 * Idempotency-Key, goes through and runs; and after a restart every job and trail is there and verifies.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GatewayApiError, GatewayClient } from '../../src/client';
import type { LocalStack } from '../../src/local/stack';
import { finished, KEYS, newDataDir, startStack } from '../support/local-stack';
import { fillDisk, mountTmpfs } from '../support/tmpfs';

jest.setTimeout(90_000);

const CLUSTER = 'j-2AXXXXXXGAPLF';
const ETL = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';
const command = (args: string[]) => ({ clusterId: CLUSTER, executionRoleArn: ETL, name: 'disk full', step: { type: 'command' as const, args } });

const dataDir = newDataDir();
mkdirSync(join(dataDir, 'dynamodb'), { recursive: true });
const mount = mountTmpfs('8m', join(dataDir, 'dynamodb'));
const maybe = mount.ok ? it : it.skip;
const skipped = mount.ok ? '' : ` [skipped: ${mount.reason}]`;

let stack: LocalStack | undefined;
afterAll(async () => {
  await stack?.stop();
  if (mount.ok) mount.unmount();
  rmSync(dataDir, { recursive: true, force: true });
});

const client = (s: LocalStack, retry: false | undefined = undefined) => new GatewayClient({ endpoint: s.apiUrl, region: s.region, credentials: KEYS.alice, ...(retry === false ? { retry } : {}) });

maybe(`DynamoDB out of space: 503 with Retry-After, reads answered, the submission goes through once space is back, nothing lost across a restart${skipped}`, async () => {
  if (!mount.ok) return;
  stack = await startStack(dataDir);
  const before = await client(stack).submit(command(['true']));
  expect((await finished(client(stack), before.jobId)).status).toBe('COMPLETED');

  const filler = join(mount.dir, 'filler');
  fillDisk(filler);
  const once = client(stack, false);
  // A submission (the audit's DECISION is its first write): refused, as a dependency unavailable for now.
  let refused: unknown;
  for (let i = 0; i < 50 && refused === undefined; i++) {
    await once.submit(command(['true']), { idempotencyKey: `disk-full-${i}` }).catch((e: unknown) => (refused = e));
  }
  expect(refused).toBeInstanceOf(GatewayApiError);
  expect(refused).toMatchObject({ status: 503, code: 'ServiceUnavailable', retryAfterMs: 2_000 });
  expect((refused as Error).message).toMatch(/^a dependency is unavailable \(DynamoDB \w+: InternalServerError\): retry with backoff$/);

  // Reads are answered meanwhile.
  expect((await once.getJob(before.jobId)).status).toBe('COMPLETED');
  expect((await once.listJobs()).jobs.map((j) => j.jobId)).toContain(before.jobId);
  expect((await once.audit(before.jobId)).verification).toMatchObject({ ok: true });

  // Space again: the same request, retried with its key by the client's own backoff, goes through and runs.
  const retrying = client(stack).submit(command(['bash', '-c', 'echo after']), { idempotencyKey: 'disk-full-after' });
  await new Promise((r) => setTimeout(r, 1_500));
  rmSync(filler);
  const after = await retrying;
  expect((await finished(client(stack), after.jobId)).status).toBe('COMPLETED');

  // Nothing lost: after a restart, both jobs and their trails.
  await stack.stop();
  stack = await startStack(dataDir);
  const again = client(stack);
  for (const jobId of [before.jobId, after.jobId]) {
    expect((await again.getJob(jobId)).status).toBe('COMPLETED');
    expect((await again.audit(jobId)).verification).toMatchObject({ ok: true });
  }
});
