/**
 * What a job costs in state transitions, history events and calls, counted in the execution log and at the clients
 * on simulated time (issue 13): with the wait for EMR's event, the same few whatever the job's length; the previous
 * poll loop (executions started before the upgrade) grows with it; the addStep.sync model records no state on the
 * way. The figures side by side, with their AWS cost: `npx tsx bench/index.ts completion`.
 */
import { DEFAULT_POLLING } from '../../src/jobs/workflow-input';
import { FUNCTIONS, simulateJob, syncDetection, type CallCounts, type TransitionCount } from '../support/transitions';

jest.setTimeout(120_000);

const sum = (c: TransitionCount, key: keyof CallCounts) => FUNCTIONS.reduce((s, f) => s + c.functions[f].calls[key], 0);
const invocations = (c: TransitionCount) => Object.fromEntries(FUNCTIONS.filter((f) => c.functions[f].invocations).map((f) => [f, c.functions[f].invocations]));
const nothingElse = (c: TransitionCount) => expect(Object.values(c.unattributed).every((n) => n === 0)).toBe(true);

describe('state transitions a job costs (counted in the execution log, simulated time)', () => {
  it('waiting for the step event: the same 5 transitions for a 1-minute, a 1-hour and a 7-day job, every EMR state recorded', async () => {
    const counts = [];
    for (const seconds of [60, 3600, 7 * 86_400]) counts.push(await simulateJob(seconds, 'events'));
    for (const c of counts) {
      expect(c).toMatchObject({ status: 'COMPLETED', transitions: 5, endDelaySeconds: 0 });
      expect(c.trail).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:PENDING', 'STATE_CHANGED:RUNNING', 'COMPLETED']);
    }
    // History: the same handful of events, far below the 25,000 of a standard execution.
    expect(new Set(counts.map((c) => c.historyEvents)).size).toBe(1);
    expect(counts[0]!.historyEvents).toBeLessThan(40);
  });

  it('the previous poll loop: Submit + Choice, then Wait + Poll + Choice per poll; a 1-hour job fewer than 60, a fixed 30 s poll many more', async () => {
    const backoff = await simulateJob(3600, DEFAULT_POLLING);
    const fixed = await simulateJob(3600, { initialSeconds: 30, factor: 1, maxSeconds: 30 });
    expect(backoff.status).toBe('COMPLETED');
    expect(fixed.status).toBe('COMPLETED');
    expect(backoff.transitions).toBeLessThan(60);
    expect(fixed.transitions).toBeGreaterThan(3 * backoff.transitions);
    expect(backoff.transitions).toBe(3 + 3 * backoff.polls);
    // Each poll is one PollStep invocation with one DescribeStep; nothing waits on a token.
    expect(backoff.functions.pollStep.invocations).toBe(backoff.polls);
    expect(backoff.functions.watchStep.invocations).toBe(0);
    expect(sum(backoff, 'sendTaskHeartbeat') + sum(backoff, 'sendTaskSuccess')).toBe(0);
    nothingElse(backoff);
  });

  it('addStep.sync, modelled: 5 transitions, Step Functions polls the step itself on 60 s then 300 s, and no state is recorded on the way', async () => {
    const sync = await simulateJob(3600, 'addStep.sync');
    expect(sync).toMatchObject({ status: 'COMPLETED', transitions: 5, syncPolls: syncDetection(3600).polls, polls: 1 });
    expect(syncDetection(3600)).toEqual({ at: 3600, polls: 10 + 10 });
    expect(sync.trail).toEqual(['DECISION', 'SUBMITTED', 'COMPLETED']);
    expect(invocations(sync)).toEqual({ api: 1, submitStep: 1, recordEnd: 1, reconcile: 3 });
    nothingElse(sync);
  });
});

describe('the calls a job makes, by function (what the bench prices)', () => {
  it('events: one wait token, its end completed once, a heartbeat and a DescribeStep at each of the reconciler\'s looks', async () => {
    const c = await simulateJob(3600, 'events');
    // RUNNING and the end come during the wait, PENDING after (as a duplicate: its state is recorded already).
    expect(invocations(c)).toEqual({ api: 1, submitStep: 1, watchStep: 1, emrStepEvent: 3, reconcile: 3 });
    expect(c.reconcileLooks).toBe(3);
    expect(c.functions.reconcile.calls).toMatchObject({ dynamoReads: 3, describeStep: 3, sendTaskHeartbeat: 3, dynamoWrites: 0 });
    expect(c.functions.emrStepEvent.calls.sendTaskSuccess).toBe(1);
    expect(c.functions.api.calls).toMatchObject({ startExecution: 1, generateMac: 1 });
    expect(c.functions.submitStep.calls).toMatchObject({ addJobFlowSteps: 1, assumeRole: 1, verifyMac: 1 });
    expect(sum(c, 'generateMac')).toBe(c.trail.length);
    expect(c.emrEvents).toBe(3);
    nothingElse(c);
  });

  it('DynamoDB units: the tables as dynalite reports them, and the four indexes of the jobs table on every write of a job', async () => {
    const c = await simulateJob(60, 'events');
    const api = c.functions.api.calls;
    // POST /jobs writes the job (a new entry in each of its 4 indexes) and its DECISION event.
    expect(api.dynamoWrites).toBe(2);
    expect(api.wru).toBeGreaterThanOrEqual(2);
    expect(api.gsiWru).toBeGreaterThanOrEqual(4);
    // Every later write of the job moves it in byUpdateHour (its sort key, updatedAt, changes: two writes) and rewrites
    // its entries in the three ALL-projection indexes, and more where its status (byStatus's key) changes.
    // Each event after the DECISION updates the job, and so does storing the wait's token.
    const jobWrites = c.trail.length;
    expect(sum(c, 'gsiWru')).toBeGreaterThanOrEqual(4 + jobWrites * 5);
    expect(sum(c, 'rru')).toBeGreaterThanOrEqual(sum(c, 'dynamoReads'));
    expect(c.jobItemBytes).toBeGreaterThan(500);
    expect(sum(c, 'conditionalFailures')).toBe(0);
  });
});
