/** Scheduled pipelines, event triggers and EMR step events, through the real service, stores and ASL. */
import { verifyChain } from '../../src/audit/chain';
import { DEFAULT_POLLING } from '../../src/jobs/workflow-input';
import { TriggerService, triggerChain } from '../../src/triggers/service';
import { renderTemplate } from '../../src/triggers/template';
import { startGateway, type TestGateway } from '../support/gateway';

jest.setTimeout(30_000);

let gw: TestGateway;
let triggers: TriggerService;
beforeEach(async () => {
  gw = await startGateway();
  triggers = new TriggerService(gw.config, gw.serviceWith({ start: () => Promise.resolve() }), gw.audit);
});
afterEach(() => gw.stop());

const s3Event = (id: string, key?: unknown) => ({
  id,
  source: 'aws.s3',
  'detail-type': 'Object Created',
  detail: { bucket: { name: 'landing' }, ...(key === undefined ? {} : { object: { key } }) },
});

describe('schedules', () => {
  it('a schedule firing twice for the same time submits once, as its principal, audited with the trigger', async () => {
    const first = await triggers.fireSchedule('nightly', '2026-11-28T02:00:00Z');
    const again = await triggers.fireSchedule('nightly', '2026-11-28T02:00:00.000Z');
    expect(first).toMatchObject({ outcome: 'submitted', replayed: false });
    expect(again).toEqual({ ...first, replayed: true });
    const job = await gw.jobs.get((first as { jobId: string }).jobId);
    expect(job).toMatchObject({ name: 'nightly 2026-11-28', status: 'ACCEPTED', actor: { principalArn: 'arn:aws:iam::123456789012:role/DataTeamA', trigger: 'schedule:nightly', sourceIdentity: 'schedule-nightly' } });
    expect(job?.request.step).toEqual({ type: 'command', args: ['bash', '-c', 'echo run for 2026-11-28 in eu'] });
    const next = await triggers.fireSchedule('nightly', '2026-11-29T02:00:00Z');
    expect((next as { jobId: string }).jobId).not.toBe((first as { jobId: string }).jobId);
    const [decision] = await gw.audit.list((first as { jobId: string }).jobId);
    expect(decision?.actor).toMatchObject({ trigger: 'schedule:nightly' });
  });
});

describe('schedules cannot be pre-empted', () => {
  const TIME = '2026-11-28T02:00:00.000Z';
  const ALICE = 'arn:aws:sts::123456789012:assumed-role/DataTeamA/alice';
  const SCHEDULE_PRINCIPAL = 'arn:aws:iam::123456789012:role/DataTeamA';
  // What the nightly template renders for TIME: the same body, so a claim on the key would be a replay.
  const nightlyBody = { clusterId: 'j-2AXXXXXXGAPLF', executionRoleArn: 'arn:aws:iam::123456789012:role/CallerTeamRoleETL', name: 'nightly 2026-11-28', step: { type: 'command', args: ['bash', '-c', 'echo run for 2026-11-28 in eu'] } };

  it.each([
    ['the same body (the run would be a replay of her job)', nightlyBody],
    ['another body (the run would be a 409)', { ...nightlyBody, step: { type: 'command', args: ['bash', '-c', 'echo mine'] } }],
    ['a body her policy denies (the run would replay the denial)', { ...nightlyBody, executionRoleArn: 'arn:aws:iam::123456789012:role/Caller' }],
  ])("an API caller acting as the schedule's principal claims the run's Idempotency-Key with %s: the scheduled run is unaffected", async (_what, body) => {
    const api = gw.serviceWith({ start: () => Promise.resolve() });
    const claim = await api.submit({ caller: { callerArn: ALICE }, body, idempotencyKey: `schedule:nightly:${TIME}` }).then((r) => r.job.jobId, (e: { details?: { jobId?: string } }) => e.details?.jobId);
    expect(claim).toBeDefined();
    const claimed = await gw.jobs.get(claim!);

    const run = await triggers.fireSchedule('nightly', TIME);
    expect(run).toMatchObject({ outcome: 'submitted', replayed: false });
    const jobId = (run as { jobId: string }).jobId;
    expect(jobId).not.toBe(claim);
    const scheduled = await gw.jobs.get(jobId);
    expect(scheduled).toMatchObject({ status: 'ACCEPTED', principalArn: SCHEDULE_PRINCIPAL, actor: { trigger: 'schedule:nightly' }, invocation: `schedule:nightly:${TIME}`, request: { ...nightlyBody, actionOnFailure: 'CONTINUE' } });
    expect(scheduled?.idempotencyKey).toBeUndefined();
    expect(await gw.jobs.get(claim!)).toEqual(claimed);
    // ...and a redelivery of the same firing finds the scheduled run, not the claim.
    expect(await triggers.fireSchedule('nightly', TIME)).toEqual({ ...run, replayed: true });
  });

  it('a lost run (denied, or its job holding another request) is audited once on the schedule\'s own trail', async () => {
    const held = gw.serviceWith({ start: () => Promise.resolve() });
    const contractors = { name: 'contractors', schedule: 'cron(0 2 * * ? *)', template: 'nightly', params: { region: 'eu' }, principal: 'arn:aws:iam::123456789012:role/Contractors' };
    const withContractors = new TriggerService({ ...gw.config, schedules: [...gw.config.schedules, contractors] }, held, gw.audit);
    const denied = await withContractors.fireSchedule('contractors', TIME);
    expect(denied).toMatchObject({ outcome: 'denied', jobId: expect.stringMatching(/^job-/), reason: expect.stringMatching(/implicitly denied/) });
    await withContractors.fireSchedule('contractors', TIME); // redelivered: audited once
    const deniedTrail = await gw.audit.list(triggerChain('schedule', 'contractors'));
    expect(deniedTrail.map((e) => [e.type, e.detail?.invocation, e.detail?.jobId])).toEqual([['TRIGGER_DENIED', `schedule:contractors:${TIME}`, (denied as { jobId: string }).jobId]]);
    expect(deniedTrail[0]?.decision).toMatchObject({ result: 'ImplicitlyDenied' });

    // The template changed between two deliveries of one firing: the second cannot run, and says so.
    const first = await triggers.fireSchedule('nightly', TIME);
    const changed = { ...gw.config, templates: { ...gw.config.templates, nightly: { ...gw.config.templates.nightly, name: 'nightly v2 ${date}' } } };
    const conflict = await new TriggerService(changed, held, gw.audit).fireSchedule('nightly', TIME);
    expect(conflict).toMatchObject({ outcome: 'conflict', jobId: (first as { jobId: string }).jobId, reason: expect.stringMatching(/different request/) });
    const trail = await gw.audit.list(triggerChain('schedule', 'nightly'));
    expect(trail.map((e) => [e.type, e.detail?.invocation, e.detail?.jobId])).toEqual([['TRIGGER_CONFLICT', `schedule:nightly:${TIME}`, (first as { jobId: string }).jobId]]);
    expect(verifyChain(triggerChain('schedule', 'nightly'), trail)).toMatchObject({ ok: true });
  });
});

describe('event triggers', () => {
  it('reads template parameters from the event; a redelivered event submits once', async () => {
    const first = await triggers.fireEvent('landing', s3Event('ev-1', 'raw/2026/11/28/orders.csv'));
    expect(await triggers.fireEvent('landing', s3Event('ev-1', 'raw/2026/11/28/orders.csv'))).toMatchObject({ outcome: 'submitted', replayed: true });
    const job = await gw.jobs.get((first as { jobId: string }).jobId);
    expect(job?.request.step).toEqual({ type: 'spark', args: ['s3://code/ingest.py', '--input', 'raw/2026/11/28/orders.csv'] });
    expect(job?.name).toBe('ingest ev-1');
  });

  it('a bad template parameter is rejected with an audited reason, and nothing is submitted', async () => {
    const missing = await triggers.fireEvent('landing', s3Event('ev-2'));
    expect(missing).toEqual({ outcome: 'rejected', issues: [{ field: 'params.key', message: 'the event has no $.detail.object.key' }] });
    const hostile = await triggers.fireEvent('landing', s3Event('ev-3', 'x\u0000; rm -rf /'));
    expect(hostile).toMatchObject({ outcome: 'rejected', issues: [{ field: 'step.args[2]', message: expect.stringMatching(/control characters/) }] });
    const trail = await gw.audit.list(triggerChain('trigger', 'landing'));
    expect(trail.map((e) => [e.type, e.detail?.invocation])).toEqual([
      ['TRIGGER_REJECTED', 'event:landing:ev-2'],
      ['TRIGGER_REJECTED', 'event:landing:ev-3'],
    ]);
    expect(verifyChain(triggerChain('trigger', 'landing'), trail)).toMatchObject({ ok: true });
    await triggers.fireEvent('landing', s3Event('ev-2')); // redelivered: audited once
    expect(await gw.audit.list(triggerChain('trigger', 'landing'))).toHaveLength(2);
    expect((await gw.jobs.list({ principalArn: 'arn:aws:iam::123456789012:role/DataTeamA', limit: 10 })).jobs).toHaveLength(0);
  });

  it("a placeholder named like one of Object's own properties has no value unless given one", () => {
    expect(() => renderTemplate({ name: 'x ${constructor}' }, {})).toThrow('no value for ${constructor}');
    expect(renderTemplate({ name: 'x ${constructor}' }, { constructor: 'c' })).toEqual({ name: 'x c' });
  });

  it('templates substitute inside strings only: a parameter cannot add fields', () => {
    expect(renderTemplate({ name: '${x}', step: { args: ['${x}'] } }, { x: '", "executionRoleArn": "arn:evil' })).toEqual({
      name: '", "executionRoleArn": "arn:evil',
      step: { args: ['", "executionRoleArn": "arn:evil'] },
    });
  });
});

describe('EMR step events', () => {
  it('the step-event handler and the poller racing on the same change record it once', async () => {
    gw.emr.nextScript = ['RUNNING', 'RUNNING', 'COMPLETED'];
    const held = gw.serviceWith({ start: () => Promise.resolve() });
    const { job } = await held.submit({ caller: { callerArn: 'arn:aws:sts::123456789012:assumed-role/DataTeamA/alice' }, body: { clusterId: 'j-2AXXXXXXGAPLF', executionRoleArn: 'arn:aws:iam::123456789012:role/CallerTeamRoleETL', name: 'evented', step: { type: 'command', args: ['true'] } } });
    const input = { jobId: job.jobId, polling: DEFAULT_POLLING };
    await gw.workflow.submit(input);
    const step = gw.emr.steps[0]!;
    const detail = { stepId: step.id, clusterId: 'j-2AXXXXXXGAPLF', name: step.name, state: 'RUNNING' };
    // The event and a poll see RUNNING at the same time; then the event and a poll see the end.
    await Promise.all([gw.workflow.observeStepEvent(detail), gw.workflow.poll({ ...input, poll: { done: false, status: 'SUBMITTED', waitSeconds: 15 } })]);
    await Promise.all([gw.workflow.observeStepEvent({ ...detail, state: 'COMPLETED' }), gw.workflow.poll({ ...input, poll: { done: false, status: 'RUNNING', waitSeconds: 15 } })]);
    const trail = await gw.audit.list(job.jobId);
    expect(trail.map((e) => (e.type === 'STATE_CHANGED' ? `STATE_CHANGED:${String(e.emr?.state)}` : e.type))).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'COMPLETED']);
    expect((await gw.jobs.get(job.jobId))?.status).toBe('COMPLETED');
    // Steps that are not the gateway's are ignored.
    expect(await gw.workflow.observeStepEvent({ stepId: 's-OTHER', clusterId: 'j-2AXXXXXXGAPLF', name: 'someone else', state: 'RUNNING' })).toBeUndefined();
  });
});
