/**
 * The local Step Functions keeps bounded state however many executions it has run (issue 11 item 8): the full
 * history, input and output of the most recent finished executions only, a summary (name, status, dates, error)
 * of older ones, and nothing of the oldest; running executions are always kept whole. Counted in retained
 * executions and events, never in bytes. Through the API: a summary still describes (without input and output),
 * still makes StartExecution of its name a clash, and its history is its start and its end.
 */
import { LocalServiceError } from '../../src/local/errors';
import { LocalStepFunctions } from '../../src/local/sfn/api';
import { KEEP_FINISHED, KEEP_HISTORIES, LocalWorkflowRunner } from '../../src/local/sfn/runner';

const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:retention';
const arn = (name: string) => `arn:aws:states:us-east-1:123456789012:execution:retention:${name}`;
/** Fails when the input says so, else passes its input on. */
const definition = {
  StartAt: 'Choose',
  States: {
    Choose: { Type: 'Choice', Choices: [{ Variable: '$.fail', BooleanEquals: true, Next: 'Boom' }], Default: 'Done' },
    Done: { Type: 'Pass', End: true },
    Boom: { Type: 'Fail', Error: 'Local.Boom', Cause: 'asked to fail' },
  },
};

const retainedEvents = (runner: LocalWorkflowRunner) => [...runner.executions.values()].reduce((n, e) => n + e.events.length, 0);

describe('the local Step Functions, after many executions', () => {
  it('keeps the history of the most recent finished executions, a summary of older ones, and forgets the oldest', async () => {
    const runner = new LocalWorkflowRunner({ definition, routes: {}, keep: { histories: 3, finished: 10 } });
    for (let i = 0; i < 40; i++) await runner.run(`e-${i}`, { i, fail: i === 31 }).done;

    expect([...runner.executions.keys()]).toEqual(Array.from({ length: 10 }, (_, k) => `e-${30 + k}`));
    const whole = [...runner.executions.values()].filter((e) => !e.summaryOnly);
    expect(whole.map((e) => e.name)).toEqual(['e-37', 'e-38', 'e-39']);
    for (const e of whole) expect(e).toMatchObject({ status: 'SUCCEEDED', input: { i: expect.any(Number) as number }, output: { i: expect.any(Number) as number } });
    const oneHistory = whole[0]!.events.length;
    expect(oneHistory).toBeGreaterThan(2);
    expect(retainedEvents(runner)).toBe(3 * oneHistory);

    const failed = runner.executions.get('e-31')!;
    expect(failed).toMatchObject({ name: 'e-31', status: 'FAILED', error: { error: 'Local.Boom', cause: 'asked to fail' }, summaryOnly: true, events: [] });
    expect(failed.startedAt).toBeInstanceOf(Date);
    expect(failed.stoppedAt).toBeInstanceOf(Date);
    expect(failed.input).toBeUndefined();
    expect(failed.transitions).toBeGreaterThan(0); // counted while it ran, kept in its summary
  });

  it('never drops a running execution, and keeps the bounds as executions finish in any order', async () => {
    const release: (() => void)[] = [];
    const slowDefinition = { StartAt: 'Slow', States: { Slow: { Type: 'Task', Resource: '${SlowFunctionArn}', End: true } } };
    const runner = new LocalWorkflowRunner({
      definition: slowDefinition,
      routes: { SlowFunctionArn: (input) => new Promise((resolve) => release.push(() => resolve(input))) },
      keep: { histories: 1, finished: 2 },
    });
    const running = Array.from({ length: 6 }, (_, i) => runner.run(`r-${i}`, { i }));
    while (release.length < 6) await new Promise((r) => setTimeout(r, 5));
    expect(runner.executions.size).toBe(6);
    expect([...runner.executions.values()].every((e) => e.status === 'RUNNING' && !e.summaryOnly)).toBe(true);

    // Finishing in reverse order: the last to finish keeps its history, the one before it a summary.
    for (let i = 5; i >= 0; i--) {
      release[i]!();
      await running[i]!.done;
    }
    expect([...runner.executions.keys()].sort()).toEqual(['r-0', 'r-1']);
    expect(runner.executions.get('r-1')).toMatchObject({ status: 'SUCCEEDED', summaryOnly: true, events: [] });
    expect(runner.executions.get('r-0')!.summaryOnly).toBeUndefined();
  });

  it('through the API, a summary still describes, still clashes with a new start of its name, and shows its start and end', async () => {
    const runner = new LocalWorkflowRunner({ definition, routes: {}, keep: { histories: 1, finished: 2 } });
    const sfn = new LocalStepFunctions(MACHINE, runner, { roleArn: 'arn:aws:iam::123456789012:role/machine', creationDate: new Date() });
    for (const name of ['a', 'b', 'c']) {
      sfn.startExecution({ stateMachineArn: MACHINE, name, input: JSON.stringify({ name, fail: name === 'b' }) });
      await runner.executions.get(name)!.done;
    }
    // 'a' is forgotten, 'b' is a summary, 'c' is whole.
    expect(() => sfn.describeExecution({ executionArn: arn('a') })).toThrow(LocalServiceError);
    expect(sfn.describeExecution({ executionArn: arn('c') })).toMatchObject({ status: 'SUCCEEDED', input: JSON.stringify({ name: 'c', fail: false }), output: JSON.stringify({ name: 'c', fail: false }) });
    const b = sfn.describeExecution({ executionArn: arn('b') });
    expect(b).toMatchObject({ name: 'b', status: 'FAILED', error: 'Local.Boom', cause: 'asked to fail', inputDetails: { included: false }, startDate: expect.any(Number) as number, stopDate: expect.any(Number) as number });
    expect(b).not.toHaveProperty('input');
    expect(b).not.toHaveProperty('output');
    const history = sfn.getExecutionHistory({ executionArn: arn('b') }).events as { type: string; executionFailedEventDetails?: unknown }[];
    expect(history.map((e) => e.type)).toEqual(['ExecutionStarted', 'ExecutionFailed']);
    expect(history[1]!.executionFailedEventDetails).toEqual({ error: 'Local.Boom', cause: 'asked to fail' });
    expect(() => sfn.startExecution({ stateMachineArn: MACHINE, name: 'b', input: JSON.stringify({ name: 'b', fail: true }) })).toThrow(/Execution Already Exists/);
    expect((sfn.listExecutions({ stateMachineArn: MACHINE }).executions as { name: string }[]).map((e) => e.name).sort()).toEqual(['b', 'c']);
    // A forgotten name starts anew, as one Step Functions no longer keeps.
    sfn.startExecution({ stateMachineArn: MACHINE, name: 'a', input: JSON.stringify({ name: 'a', fail: false }) });
    expect((await runner.executions.get('a')!.done).status).toBe('SUCCEEDED');
  });

  it('keeps 1,000 histories and 10,000 finished executions unless told otherwise', () => {
    expect([KEEP_HISTORIES, KEEP_FINISHED]).toEqual([1000, 10_000]);
  });
});
