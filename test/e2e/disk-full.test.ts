/**
 * The local stack when the disk under its DynamoDB fills up, for real (the stack's DATA/dynamodb on a small
 * tmpfs, filled): the stack keeps running; a submission is answered 503 with Retry-After; reads (a job, the
 * listing, an audit trail) are answered; once there is space again the same submission, retried with its
 * Idempotency-Key, goes through and runs; and after a restart every job and trail is there and verifies.
 * And when the disk under its EMR fills up (DATA/emr): a submission is accepted, the workflow retries EMR's
 * InternalServerError until there is space again, and the job then runs, with exactly one step.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AddJobFlowStepsCommand, DescribeClusterCommand, EMRClient } from '@aws-sdk/client-emr';
import { GatewayApiError, GatewayClient } from '../../src/client';
import type { LocalStack } from '../../src/local/stack';
import { finished, KEYS, newDataDir, startStack } from '../support/local-stack';
import { fillDisk, mountTmpfs } from '../support/tmpfs';

jest.setTimeout(90_000);

const CLUSTER = 'j-2AXXXXXXGAPLF';
const ETL = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';
const command = (args: string[]) => ({ clusterId: CLUSTER, executionRoleArn: ETL, name: 'disk full', step: { type: 'command' as const, args } });

/** A fresh data directory whose `sub` directory is a small tmpfs. */
function onTmpfs(sub: string) {
  const dir = newDataDir();
  mkdirSync(join(dir, sub), { recursive: true });
  const mounted = mountTmpfs('8m', join(dir, sub));
  return { dir, mount: mounted, maybe: mounted.ok ? it : it.skip, skipped: mounted.ok ? '' : ` [skipped: ${mounted.reason}]` };
}
const { dir: dataDir, mount, maybe, skipped } = onTmpfs('dynamodb');
const emrDisk = onTmpfs('emr');

let stack: LocalStack | undefined;
afterAll(async () => {
  await stack?.stop();
  for (const { dir, mount: mounted } of [{ dir: dataDir, mount }, emrDisk]) {
    if (mounted.ok) mounted.unmount();
    rmSync(dir, { recursive: true, force: true });
  }
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

emrDisk.maybe(`EMR out of space: the stack stays up, EMR answers InternalServerError (500) and reads, the workflow retries until space is back, then the job runs with exactly one step${emrDisk.skipped}`, async () => {
  if (!emrDisk.mount.ok) return;
  await stack?.stop();
  stack = await startStack(emrDisk.dir);
  const before = await client(stack).submit(command(['true']));
  expect((await finished(client(stack), before.jobId)).status).toBe('COMPLETED');

  const filler = join(emrDisk.mount.dir, 'filler');
  fillDisk(filler);
  fillDisk(join(emrDisk.mount.dir, 'journal.jsonl'), { pad: true }); // the journal's last page too

  // On the wire: AddJobFlowSteps is EMR's InternalServerError (500, which the SDKs retry), reads are answered.
  const emr = new EMRClient({ endpoint: stack.awsUrl, region: stack.region, credentials: KEYS.alice, maxAttempts: 1 });
  try {
    const add = new AddJobFlowStepsCommand({ JobFlowId: CLUSTER, ExecutionRoleArn: ETL, Steps: [{ Name: 'direct', HadoopJarStep: { Jar: 'command-runner.jar', Args: ['true'] } }] });
    await expect(emr.send(add)).rejects.toMatchObject({ name: 'InternalServerError', $fault: 'server', $metadata: { httpStatusCode: 500 } });
    expect((await emr.send(new DescribeClusterCommand({ ClusterId: CLUSTER }))).Cluster?.Id).toBe(CLUSTER);
  } finally {
    emr.destroy();
  }

  // A submission is accepted (the jobs table has room); its step waits for EMR, retried by the workflow.
  const job = await client(stack, false).submit(command(['bash', '-c', 'echo after']), { idempotencyKey: 'emr-disk-full' });
  await new Promise((r) => setTimeout(r, 3_000));
  const waiting = await client(stack, false).getJob(job.jobId);
  expect(waiting.status).toBe('ACCEPTED');
  expect((await client(stack, false).getJob(before.jobId)).status).toBe('COMPLETED');
  const stepsOf = (jobId: string) => [...stack!.emr.steps.values()].filter((s) => s.name.endsWith(`[${jobId}]`));
  expect(stepsOf(job.jobId)).toEqual([]);

  // Space again: the job runs, with one step, and so it stays after a restart.
  rmSync(filler);
  const done = await finished(client(stack), job.jobId, 60_000);
  expect(done.status).toBe('COMPLETED');
  expect(stepsOf(job.jobId).map((s) => s.state)).toEqual(['COMPLETED']);
  await stack.stop();
  stack = await startStack(emrDisk.dir);
  expect((await client(stack).getJob(job.jobId)).status).toBe('COMPLETED');
  expect(stepsOf(job.jobId).map((s) => s.state)).toEqual(['COMPLETED']);
});
