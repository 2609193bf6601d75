/**
 * POST /jobs/{id}/rerun on the local stack (issue 16, item 3): a new job from the same request, decided again, as the
 * caller who asks and under the policy in force now, linked both ways (the new job's rerunOf, the old one's reruns)
 * and audited on both chains; a job a template made is rerun with parameter overrides, checked as the template's
 * parameters are. Whoever may not read the job gets what GET /jobs/{id} answers them.
 */
import type { GatewayClient } from '../../src/client';
import type { LocalStack } from '../../src/local/stack';
import { apiRejection, cliAs, clientFor, finished, newDataDir, startStack, until } from '../support/local-stack';

jest.setTimeout(120_000);

const CLUSTER = 'j-2AXXXXXXGAPLF';
const ETL = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';

let stack: LocalStack;
let alice: GatewayClient;
let bob: GatewayClient;
let carol: GatewayClient;
beforeAll(async () => {
  stack = await startStack(newDataDir(), { inMemory: true });
  alice = clientFor(stack, 'alice');
  bob = clientFor(stack, 'bob');
  carol = clientFor(stack, 'carol');
});
afterAll(() => stack?.stop());

const rejection = apiRejection;

async function stdoutOf(jobId: string): Promise<string> {
  const done = await finished(alice, jobId);
  return (await fetch(`${stack.awsUrl}/_local/emr/steps/${done.step.id}/stdout`)).text();
}

const cli = (...args: string[]) => cliAs(stack, 'alice', args);

it('a rerun is a new job from the same request, linked both ways and audited on both chains', async () => {
  const { jobId } = await alice.submit({ clusterId: CLUSTER, executionRoleArn: ETL, name: 'rerun me', step: { type: 'command', args: ['echo', 'the same'] } });
  expect((await finished(alice, jobId)).status).toBe('COMPLETED');
  const rerun = await alice.rerun(jobId);
  expect(rerun).toMatchObject({ status: 'ACCEPTED', replayed: false, rerunOf: jobId });
  expect(rerun.jobId).not.toBe(jobId);
  expect(await stdoutOf(rerun.jobId)).toBe('the same\n');
  const again = await alice.getJob(rerun.jobId);
  expect(again).toMatchObject({ name: 'rerun me', rerunOf: jobId });
  expect((await alice.getJob(jobId)).reruns).toEqual([rerun.jobId]);
  // The new job's chain starts with its own decision, naming what it reruns; the old one's records the rerun.
  const trail = await alice.audit(rerun.jobId);
  expect(trail.verification).toMatchObject({ ok: true });
  expect(trail.events[0]).toMatchObject({ type: 'DECISION', detail: expect.objectContaining({ rerunOf: jobId }) });
  const original = await alice.audit(jobId);
  expect(original.verification).toMatchObject({ ok: true });
  expect(original.events.filter((e) => e.type === 'RERUN').map((e) => e.detail)).toEqual([expect.objectContaining({ rerunJobId: rerun.jobId })]);
});

it('the same Idempotency-Key answers the same rerun (replayed); without one each call is a new job', async () => {
  const { jobId } = await alice.submit({ clusterId: CLUSTER, executionRoleArn: ETL, name: 'keyed', step: { type: 'command', args: ['true'] } });
  const first = await alice.rerun(jobId, { idempotencyKey: 'rerun-1' });
  const second = await alice.rerun(jobId, { idempotencyKey: 'rerun-1' });
  expect(second).toMatchObject({ jobId: first.jobId, replayed: true });
  const third = await alice.rerun(jobId);
  expect(third.jobId).not.toBe(first.jobId);
  expect([...((await alice.getJob(jobId)).reruns ?? [])].sort()).toEqual([first.jobId, third.jobId].sort());
  // The RERUN event is recorded once per rerun job, a replay adds none.
  expect((await alice.audit(jobId)).events.filter((e) => e.type === 'RERUN')).toHaveLength(2);
});

it('decided again as the caller who asks: bob may read the job but not run it as its role; carol may not read it', async () => {
  const { jobId } = await alice.submit({ clusterId: CLUSTER, executionRoleArn: ETL, name: 'alice only', step: { type: 'command', args: ['true'] } });
  await expect(bob.getJob(jobId)).resolves.toMatchObject({ jobId });
  const denied = await rejection(bob.rerun(jobId));
  expect([denied.status, denied.code]).toEqual([403, 'Forbidden']);
  expect(denied.message).toContain('elasticmapreduce:AddJobFlowSteps');
  const asGet = await rejection(carol.getJob(jobId));
  const asRerun = await rejection(carol.rerun(jobId));
  expect([asRerun.status, asRerun.code, asRerun.message]).toEqual([asGet.status, asGet.code, asGet.message]);
  expect((await alice.getJob(jobId)).reruns ?? []).toEqual([]);
});

it("a template's job reruns with parameter overrides, each checked as the template's parameters are; other jobs take none", async () => {
  const put = await fetch(stack.awsUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.PutEvents' },
    body: JSON.stringify({ Entries: [{ Source: 'com.example.pipeline', DetailType: 'Partition Ready', Detail: JSON.stringify({ table: 'orders_eu', day: '2026-11-28' }) }] }),
  });
  expect(put.status).toBe(200);
  const fired = await until(async () => (await alice.listJobs()).jobs.find((j) => j.name === 'compact orders_eu 2026-11-28'));
  expect(fired.template).toEqual({ name: 'compact-partition', parameters: { table: 'orders_eu', day: '2026-11-28', eventId: expect.any(String) } });
  const rerun = await alice.rerun(fired.jobId, { parameters: { day: '2026-11-29' } });
  const view = await alice.getJob(rerun.jobId);
  expect(view).toMatchObject({ name: 'compact orders_eu 2026-11-29', rerunOf: fired.jobId, template: { name: 'compact-partition', parameters: { table: 'orders_eu', day: '2026-11-29' } } });
  // The rerun is the caller's (alice's), not the trigger's: no trigger in its caller.
  expect(view.caller).not.toHaveProperty('trigger');
  expect(await stdoutOf(rerun.jobId)).toBe('compacting orders_eu for 2026-11-29\n');

  const badDay = await rejection(alice.rerun(fired.jobId, { parameters: { day: 'tomorrow; rm -rf /' } }));
  expect([badDay.status, badDay.code]).toEqual([400, 'ValidationError']);
  expect(badDay.message).toContain('params.day');
  const unknown = await rejection(alice.rerun(fired.jobId, { parameters: { owner: 'x' } }));
  expect([unknown.status, unknown.message]).toEqual([400, expect.stringContaining('parameters.owner')]);
  const { jobId: plain } = await alice.submit({ clusterId: CLUSTER, executionRoleArn: ETL, name: 'plain', step: { type: 'command', args: ['true'] } });
  const none = await rejection(alice.rerun(plain, { parameters: { day: '2026-11-29' } }));
  expect([none.status, none.message]).toEqual([400, expect.stringContaining('no template')]);
});

it('an unknown job is a 404', async () => {
  const missing = await rejection(alice.rerun('job-00000000000000000000000000'));
  expect([missing.status, missing.code]).toEqual([404, 'NotFound']);
});

it('the CLI: emr-gateway rerun JOB [--wait] prints the new job, and waits for its end', async () => {
  const { jobId } = await alice.submit({ clusterId: CLUSTER, executionRoleArn: ETL, name: 'cli rerun', step: { type: 'command', args: ['echo', 'cli'] } });
  const shown = await cli('rerun', jobId, '--wait', '--output', 'json');
  expect(shown.code).toBe(0);
  const out = JSON.parse(shown.stdout) as { jobId: string; status: string; rerunOf: string };
  expect(out).toMatchObject({ status: 'COMPLETED', rerunOf: jobId });
  expect(await stdoutOf(out.jobId)).toBe('cli\n');
  const human = await cli('rerun', jobId);
  expect(human.code).toBe(0);
  expect(human.stdout).toMatch(new RegExp(`^job-[0-9a-z]{26}  ACCEPTED  \\(rerun of ${jobId}\\)\\n$`));
});
