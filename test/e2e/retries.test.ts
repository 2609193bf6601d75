/**
 * Retries on the real local stack (issue 16, item 1): a flaky step, a real process on the local EMR that fails twice
 * (a counter file) and succeeds on its third attempt, submitted with `retry` through the API front (SigV4), the
 * workflow's real ASL on the local Step Functions. Seen in GET /jobs/{id} (the attempts, their steps), in the CLI
 * (`emr-gateway wait` follows it to COMPLETED, `status` shows the attempts, `submit --retry`), and in its audit trail,
 * verified by the gateway and by `emr-gateway audit --verify`. And a cancel during the pause between attempts.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeStepCommand, EMRClient } from '@aws-sdk/client-emr';
import { verifyChain } from '../../src/audit/chain';
import type { GatewayClient } from '../../src/client';
import type { LocalStack } from '../../src/local/stack';
import { cliAs, clientFor, finished, newDataDir, startStack, until } from '../support/local-stack';

jest.setTimeout(120_000);

const CLUSTER = 'j-2AXXXXXXGAPLF';
const ETL = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';

let stack: LocalStack;
let alice: GatewayClient;
const work = mkdtempSync(join(tmpdir(), 'emr-gateway-retries-'));
beforeAll(async () => {
  stack = await startStack(newDataDir());
  alice = clientFor(stack, 'alice');
});
afterAll(() => stack.stop());

/** A step that fails until its `n`th run: each run counts itself in `counter`, says which run it is, and exits 1 before the nth. */
const flaky = (counter: string, n: number) => [
  'bash',
  '-c',
  `c=$(cat '${counter}' 2>/dev/null || echo 0); c=$((c+1)); echo $c > '${counter}'; echo "run $c"; if [ $c -lt ${n} ]; then echo "flaky failure $c" >&2; exit 1; fi; echo done`,
];

const cli = (...args: string[]) => cliAs(stack, 'alice', args, 90_000);

it('a step that fails twice and succeeds on its third attempt: COMPLETED, three EMR steps, the attempts in the view, the CLI and the verified trail', async () => {
  const counter = join(work, 'flaky-count');
  const { jobId } = await alice.submit({ clusterId: CLUSTER, executionRoleArn: ETL, name: 'flaky', step: { type: 'command', args: flaky(counter, 3) }, retry: { maxAttempts: 3, intervalSeconds: 1, backoff: 2 } });
  // `wait` follows it from the start, through every attempt, to its end (exit 0: completed).
  const waited = await cli('wait', jobId);
  expect(waited.code).toBe(0);
  expect(waited.stdout).toMatch(/Status\s+COMPLETED/);
  expect(waited.stdout).toMatch(/Attempt\s+3 of 3/);
  expect(readFileSync(counter, 'utf8').trim()).toBe('3');

  const job = await finished(alice, jobId);
  expect(job).toMatchObject({ status: 'COMPLETED', attempt: 3, retry: { maxAttempts: 3, intervalSeconds: 1, backoff: 2, on: ['FAILED'] } });
  expect(job.nextAttemptAt).toBeUndefined();
  expect(job.attempts?.map((a) => [a.attempt, a.state])).toEqual([[1, 'FAILED'], [2, 'FAILED'], [3, 'COMPLETED']]);
  expect(job.attempts?.[0]?.failureDetails).toMatchObject({ message: 'flaky failure 1' });
  expect(job.attempts?.[1]?.failureDetails).toMatchObject({ message: 'flaky failure 2' });
  const stepIds = job.attempts!.map((a) => a.stepId);
  expect(new Set(stepIds).size).toBe(3);
  expect(job.step.id).toBe(stepIds[2]);
  // The pauses: at least 1 s, then 2 s (backoff 2), between an attempt's end and the next one's step.
  const [a1, a2, a3] = job.attempts!;
  expect(Date.parse(a2!.submittedAt!) - Date.parse(a1!.endedAt!)).toBeGreaterThanOrEqual(1000);
  expect(Date.parse(a3!.submittedAt!) - Date.parse(a2!.endedAt!)).toBeGreaterThanOrEqual(2000);

  // Each attempt is its own step on the local EMR, named with the attempt's marker, run under the job's runtime role.
  const emr = new EMRClient({ region: stack.region, endpoint: stack.awsUrl, credentials: { accessKeyId: 'AKIADIRECT0000000000', secretAccessKey: 'x' } });
  const steps = await Promise.all(stepIds.map((id) => emr.send(new DescribeStepCommand({ ClusterId: CLUSTER, StepId: id }))));
  expect(steps.map((s) => s.Step?.Name)).toEqual([`flaky [${jobId}]`, `flaky [${jobId}#2]`, `flaky [${jobId}#3]`]);
  expect(steps.map((s) => s.Step?.Status?.State)).toEqual(['FAILED', 'FAILED', 'COMPLETED']);
  expect(steps.every((s) => s.Step?.ExecutionRoleArn === ETL)).toBe(true);

  // `status`: the attempts, one line each.
  const status = await cli('status', jobId);
  expect(status.code).toBe(0);
  expect(status.stdout).toMatch(/Attempt\s+3 of 3 \(retry on FAILED after 1s, ×2 each time\)/);
  for (const [i, id] of stepIds.entries()) expect(status.stdout).toMatch(new RegExp(`#${i + 1}\\s+${id}\\s+${i < 2 ? 'FAILED' : 'COMPLETED'}`));
  expect(status.stdout).toContain('flaky failure 1');

  // Each attempt's log: by ?attempt=N (API) and --attempt N (CLI); the current attempt's without.
  const firstLog = await alice.logs(jobId, { stream: 'stderr', attempt: 1 });
  expect(firstLog).toMatchObject({ stepId: stepIds[0], lines: ['flaky failure 1'] });
  expect(await alice.logs(jobId)).toMatchObject({ stepId: stepIds[2], lines: ['run 3', 'done'] });
  const secondLog = await cli('logs', jobId, '--attempt', '2', '--stderr');
  expect(secondLog).toMatchObject({ code: 0, stdout: 'flaky failure 2\n' });
  expect(await cli('logs', jobId, '--attempt', '4')).toMatchObject({ code: 4, stderr: expect.stringContaining(`job ${jobId} has no attempt 4 (it is on attempt 3)`) as unknown });

  // The trail: every attempt recorded under the one decision; verified by the gateway, here, and by the CLI.
  const trail = await alice.audit(jobId);
  expect(trail.verification).toMatchObject({ ok: true, macs: 'verified' });
  expect(verifyChain(jobId, trail.events.map((e) => ({ ...e, jobId })), { head: trail.head, firstType: 'DECISION', now: new Date() })).toMatchObject({ ok: true });
  const types = trail.events.map((e) => e.type).filter((t) => t !== 'STATE_CHANGED');
  expect(types).toEqual(['DECISION', 'SUBMITTED', 'ATTEMPT_ENDED', 'ATTEMPT_STARTED', 'SUBMITTED', 'ATTEMPT_ENDED', 'ATTEMPT_STARTED', 'SUBMITTED', 'COMPLETED']);
  expect(trail.events.filter((e) => e.type === 'SUBMITTED').map((e) => (e.emr as { stepId?: string; attempt?: number }))).toEqual(stepIds.map((stepId, i) => expect.objectContaining({ stepId, attempt: i + 1 }) as unknown));
  const verified = await cli('audit', jobId, '--verify');
  expect(verified.code).toBe(0);
  expect(`${verified.stdout}${verified.stderr}`).toMatch(/ATTEMPT_ENDED/);
});

it('`submit --retry` with a policy in the request; a cancel during the pause between attempts ends the job CANCELLED with no new step', async () => {
  const counter = join(work, 'cancel-count');
  const submitted = await cli('submit', '--cluster', CLUSTER, '--role', ETL, '--name', 'paused', '--retry', '2', '--retry-interval', '600', '--output', 'json', '--', ...flaky(counter, 5));
  expect(submitted.code).toBe(0);
  const { jobId } = JSON.parse(submitted.stdout) as { jobId: string };
  const between = await until(async () => {
    const job = await alice.getJob(jobId);
    return job.nextAttemptAt ? job : undefined;
  }, 30_000);
  expect(between).toMatchObject({ status: 'PENDING', attempt: 1, step: {}, attempts: [{ attempt: 1, state: 'FAILED' }] });
  expect(Date.parse(between.nextAttemptAt!) - Date.now()).toBeGreaterThan(500_000);
  // Between attempts, the logs are the last attempt's (why it failed), not a 404 for a step not there yet.
  const log = await until(() => alice.logs(jobId, { stream: 'stderr' }).catch(() => undefined), 20_000);
  expect(log).toMatchObject({ stepId: between.attempts![0]!.stepId, lines: ['flaky failure 1'] });
  const cancelled = await cli('cancel', jobId, '--output', 'json');
  expect(cancelled.code).toBe(0);
  expect(JSON.parse(cancelled.stdout)).toMatchObject({ status: 'CANCELLED' });
  const job = await finished(alice, jobId);
  expect(job).toMatchObject({ status: 'CANCELLED', attempts: [{ attempt: 1 }] });
  expect(job.attempts).toHaveLength(1);
  expect(readFileSync(counter, 'utf8').trim()).toBe('1');
  const trail = await alice.audit(jobId);
  expect(trail.verification).toMatchObject({ ok: true });
  expect(trail.events.map((e) => e.type).filter((t) => t !== 'STATE_CHANGED')).toEqual(['DECISION', 'SUBMITTED', 'ATTEMPT_ENDED', 'CANCEL_REQUESTED', 'CANCELLED']);
});

it('`logs --follow` follows each attempt\'s log in turn, to the job\'s end', async () => {
  const counter = join(work, 'follow-count');
  const { jobId } = await alice.submit({ clusterId: CLUSTER, executionRoleArn: ETL, name: 'followed', step: { type: 'command', args: flaky(counter, 2) }, retry: { maxAttempts: 2, intervalSeconds: 2 } });
  const followed = await cli('logs', jobId, '--follow');
  expect(followed.code).toBe(0);
  expect(followed.stdout).toBe('run 1\nrun 2\ndone\n');
  expect(followed.stderr).toContain('(attempt 2)');
  expect(await finished(alice, jobId)).toMatchObject({ status: 'COMPLETED', attempt: 2 });
});
