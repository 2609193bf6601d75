/**
 * The local Step Functions' callback pattern (`arn:aws:states:::lambda:invoke.waitForTaskToken`), as Step Functions
 * runs it: the routed handler gets the evaluated Payload with a fresh task token per attempt, and the Task waits
 * for SendTaskSuccess / SendTaskFailure with that token (the token registered before the handler runs, a
 * callback arriving first winning); TimeoutSeconds(Path) and HeartbeatSeconds end the wait with States.Timeout
 * (a heartbeat timeout also matched by States.HeartbeatTimeout, neither by States.TaskFailed); SendTaskHeartbeat
 * keeps the task alive; aborting drops the tokens; and the token errors are AWS's (InvalidToken, TaskTimedOut,
 * InvalidOutput, ValidationException). The definitions are small ASL files of this test's own
 * (test/fixtures/sfn-callback/).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalServiceError } from '../../src/local/errors';
import { LocalWorkflowRunner, type Execution, type RunnerOptions } from '../../src/local/sfn/runner';
import { thrown } from '../support/thrown';
import { until } from '../support/wait';

jest.setTimeout(20_000);

interface StateDefinition {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string }[];
  [field: string]: unknown;
}
interface Definition {
  StartAt: string;
  States: Record<string, StateDefinition>;
}

const fixture = (file: string): Definition => JSON.parse(readFileSync(join(__dirname, '../fixtures/sfn-callback', file), 'utf8')) as Definition;
/** A fixture with some fields of one of its states replaced. */
function variant(file: string, state: string, fields: Partial<StateDefinition>): Definition {
  const definition = fixture(file);
  definition.States[state] = { ...definition.States[state]!, ...fields };
  return definition;
}
/** A fixture without the Catch of `state`, nor the state it led to. */
function uncaught(file: string, state: string): Definition {
  const definition = variant(file, state, { Catch: undefined });
  for (const { Next } of fixture(file).States[state]?.Catch ?? []) delete definition.States[Next];
  return definition;
}

interface NotifyEvent {
  taskToken: string;
  jobId?: string;
}

type Then = (event: NotifyEvent, call: number, runner: LocalWorkflowRunner) => Promise<unknown>;

/** A runner over `definition` whose callback handlers record each event they get, then do what `then` says. */
function runnerWith(definition: Definition, then: Then = () => Promise.resolve({ notified: true }), options: Partial<RunnerOptions> = {}) {
  const events: NotifyEvent[] = [];
  const handler = (input: unknown) => {
    events.push(input as NotifyEvent);
    return then(input as NotifyEvent, events.length, runner);
  };
  const runner: LocalWorkflowRunner = new LocalWorkflowRunner({ definition, routes: { NotifyFunctionArn: handler, StartWorkerFunctionArn: handler }, ...options });
  /** The event of the `n`th handler call (1-based), once it has been made. */
  const event = (n = 1) => until(() => Promise.resolve(events[n - 1]), { what: `handler call ${n}` });
  return { runner, events, event };
}

const runners: LocalWorkflowRunner[] = [];
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
});
function track<T extends { runner: LocalWorkflowRunner }>(made: T): T {
  runners.push(made.runner);
  return made;
}

const stateNames = (execution: Execution) => execution.events.filter((e) => e.type === 'StateEntered').map((e) => (e as { state: { name: string } }).state.name);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TIMED_OUT = { type: 'TaskTimedOut', message: "Task Timed Out: 'Provided task does not exist anymore'" };

describe('a waitForTaskToken Task', () => {
  it('invokes its handler with the evaluated Payload and a fresh token, and completes with the output of SendTaskSuccess (ResultPath applies)', async () => {
    const { runner, event } = track(runnerWith(fixture('notify-and-wait.asl.json')));
    const execution = runner.run('approve-1', { jobId: 'job-1' });
    const other = runner.run('approve-2', { jobId: 'job-2' });
    const first = await event(1);
    const second = await event(2);
    expect(first).toEqual({ taskToken: expect.any(String) as string, jobId: 'job-1' });
    // Opaque, URL-safe, unguessable (each execution's its own), within botocore's TaskToken shape.
    expect(first.taskToken).toMatch(/^[A-Za-z0-9_-]{32,1024}$/);
    expect(second.taskToken).not.toBe(first.taskToken);
    expect(runner.pendingTasks()).toEqual(
      expect.arrayContaining([
        { token: first.taskToken, execution: 'approve-1', state: 'AwaitApproval', since: expect.any(Date) as Date },
        { token: second.taskToken, execution: 'approve-2', state: 'AwaitApproval', since: expect.any(Date) as Date },
      ]),
    );
    await sleep(50);
    expect(execution.status).toBe('RUNNING');

    runner.sendTaskSuccess(first.taskToken, JSON.stringify({ approvedBy: 'alice' }));
    await execution.done;
    expect(execution).toMatchObject({ status: 'SUCCEEDED', output: { jobId: 'job-1', approval: { approvedBy: 'alice' } } });
    expect(stateNames(execution)).toEqual(['AwaitApproval', 'Approved']);
    expect(runner.pendingTasks().map((p) => p.execution)).toEqual(['approve-2']);
    // Any JSON value is an output.
    runner.sendTaskSuccess(second.taskToken, '"yes"');
    expect((await other.done).output).toEqual({ jobId: 'job-2', approval: 'yes' });
  });

  it('a token whose task is done is TaskTimedOut; one this runner could not have made is InvalidToken; one of another runner (a restart) TaskTimedOut', async () => {
    const { runner, event } = track(runnerWith(fixture('notify-and-wait.asl.json')));
    const execution = runner.run('twice', { jobId: 'job-1' });
    const { taskToken } = await event();
    runner.sendTaskSuccess(taskToken, '{}');
    await execution.done;
    expect(thrown(() => runner.sendTaskSuccess(taskToken, '{}'))).toMatchObject(TIMED_OUT);
    expect(thrown(() => runner.sendTaskFailure(taskToken, 'Late.Error'))).toMatchObject(TIMED_OUT);
    expect(thrown(() => runner.sendTaskHeartbeat(taskToken))).toMatchObject(TIMED_OUT);
    expect(thrown(() => runner.sendTaskSuccess(taskToken, '{}'))).toBeInstanceOf(LocalServiceError);

    for (const garbage of ['garbage', 'x'.repeat(100), `${taskToken}x`, taskToken.slice(1)]) {
      expect(thrown(() => runner.sendTaskSuccess(garbage, '{}'))).toMatchObject({ type: 'InvalidToken', message: "Invalid Token: 'Invalid token'" });
      expect(thrown(() => runner.sendTaskHeartbeat(garbage))).toMatchObject({ type: 'InvalidToken' });
    }
    const restarted = track(runnerWith(fixture('notify-and-wait.asl.json'))).runner;
    expect(thrown(() => restarted.sendTaskSuccess(taskToken, '{}'))).toMatchObject(TIMED_OUT);
  });

  it('refuses an output that is not JSON or over 256 KiB (InvalidOutput), an error over 256 or a cause over 32768 characters (ValidationException), and keeps waiting', async () => {
    const { runner, event } = track(runnerWith(fixture('notify-and-wait.asl.json')));
    const execution = runner.run('bad-output', { jobId: 'job-1' });
    const { taskToken } = await event();
    expect(thrown(() => runner.sendTaskSuccess(taskToken, '{not json'))).toMatchObject({ type: 'InvalidOutput' });
    expect(thrown(() => runner.sendTaskSuccess(taskToken, JSON.stringify('é'.repeat(140_000))))).toMatchObject({ type: 'InvalidOutput' });
    expect(thrown(() => runner.sendTaskFailure(taskToken, 'E'.repeat(257)))).toMatchObject({ type: 'ValidationException', message: expect.stringMatching(/at 'error' failed to satisfy constraint: Member must have length less than or equal to 256/) as string });
    expect(thrown(() => runner.sendTaskFailure(taskToken, 'E', 'c'.repeat(32_769)))).toMatchObject({ type: 'ValidationException', message: expect.stringMatching(/at 'cause'.*less than or equal to 32768/) as string });
    expect(thrown(() => runner.sendTaskHeartbeat(''))).toMatchObject({ type: 'ValidationException', message: expect.stringMatching(/at 'taskToken'.*greater than or equal to 1/) as string });
    expect(runner.pendingTasks()).toHaveLength(1);
    runner.sendTaskSuccess(taskToken, JSON.stringify({ big: 'x'.repeat(200_000) }));
    expect((await execution.done).status).toBe('SUCCEEDED');
  });

  it('SendTaskFailure with an error and cause fails the task with them, and a Catch takes it', async () => {
    const { runner, event } = track(runnerWith(fixture('notify-and-wait.asl.json')));
    const execution = runner.run('denied', { jobId: 'job-1' });
    const { taskToken } = await event();
    runner.sendTaskFailure(taskToken, 'Approval.Denied', 'alice said no');
    await execution.done;
    expect(execution).toMatchObject({ status: 'SUCCEEDED', output: { jobId: 'job-1', error: { Error: 'Approval.Denied', Cause: 'alice said no' } } });
    expect(stateNames(execution)).toEqual(['AwaitApproval', 'Denied']);
  });

  it('SendTaskFailure without an error fails the task with none (Error and Cause null when caught, none on the execution), as Step Functions does', async () => {
    const caught = track(runnerWith(variant('notify-and-wait.asl.json', 'AwaitApproval', { Catch: [{ ErrorEquals: ['States.TaskFailed'], ResultPath: '$.error', Next: 'Denied' }] })));
    const execution = caught.runner.run('no-error', { jobId: 'job-1' });
    caught.runner.sendTaskFailure((await caught.event()).taskToken);
    expect((await execution.done).output).toEqual({ jobId: 'job-1', error: { Error: null, Cause: null } });

    const bare = track(runnerWith(uncaught('notify-and-wait.asl.json', 'AwaitApproval')));
    const failed = bare.runner.run('no-error-uncaught', { jobId: 'job-1' });
    bare.runner.sendTaskFailure((await bare.event()).taskToken);
    await failed.done;
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toEqual({});
  });

  it('a callback that arrives while the handler runs wins, even when the handler then fails', async () => {
    const { runner } = track(
      runnerWith(fixture('notify-and-wait.asl.json'), (event, _call, self) => {
        self.sendTaskSuccess(event.taskToken, JSON.stringify({ early: true }));
        return Promise.reject(Object.assign(new Error('the mail server went away'), { name: 'Notify.Broken' }));
      }),
    );
    const execution = runner.run('early', { jobId: 'job-1' });
    await execution.done;
    expect(execution).toMatchObject({ status: 'SUCCEEDED', output: { approval: { early: true } } });
  });

  it('a handler failure before any callback fails the task with its error: Retry runs it again with a new token (the old one dead), else the execution fails with it', async () => {
    const { runner, event } = track(
      runnerWith(fixture('notify-and-wait.asl.json'), (_event, call) => (call === 1 ? Promise.reject(Object.assign(new Error('try again'), { name: 'Notify.Flaky' })) : Promise.resolve({ sent: call })), { retryOverrideMs: 0 }),
    );
    const execution = runner.run('retried', { jobId: 'job-1' });
    const first = await event(1);
    const second = await event(2);
    expect(second).toEqual({ taskToken: expect.any(String) as string, jobId: 'job-1' });
    expect(second.taskToken).not.toBe(first.taskToken);
    expect(thrown(() => runner.sendTaskSuccess(first.taskToken, '{}'))).toMatchObject(TIMED_OUT);
    expect(runner.pendingTasks().map((p) => p.token)).toEqual([second.taskToken]);
    runner.sendTaskSuccess(second.taskToken, '{"second":true}');
    await execution.done;
    expect(execution).toMatchObject({ status: 'SUCCEEDED', output: { approval: { second: true } } });
    expect(execution.events.filter((e) => e.type === 'StateRetried')).toHaveLength(1);

    const broken = track(runnerWith(fixture('notify-and-wait.asl.json'), () => Promise.reject(Object.assign(new Error('SMTP is down'), { name: 'Notify.Broken' }))));
    const failed = broken.runner.run('broken', { jobId: 'job-1' });
    const { taskToken } = await broken.event();
    await failed.done;
    expect(failed).toMatchObject({ status: 'FAILED', error: { error: 'Notify.Broken', cause: 'SMTP is down' } });
    expect(thrown(() => broken.runner.sendTaskSuccess(taskToken, '{}'))).toMatchObject(TIMED_OUT);
  });

  it('TimeoutSecondsPath, read from the state input: on expiry the task fails States.Timeout (caught) and its token is dead', async () => {
    const { runner, event } = track(runnerWith(variant('notify-and-wait.asl.json', 'AwaitApproval', { TimeoutSecondsPath: '$.timeoutSeconds' })));
    const execution = runner.run('timed-out', { jobId: 'job-1', timeoutSeconds: 1 });
    const { taskToken } = await event();
    await sleep(300);
    expect(execution.status).toBe('RUNNING');
    await execution.done;
    expect(execution).toMatchObject({ status: 'SUCCEEDED', output: { error: { Error: 'States.Timeout', Cause: '' } } });
    expect(stateNames(execution)).toEqual(['AwaitApproval', 'Denied']);
    expect(thrown(() => runner.sendTaskSuccess(taskToken, '{}'))).toMatchObject(TIMED_OUT);
  });

  it('HeartbeatSecondsPath is read from the state input too; a path to no positive integer fails the execution States.Runtime, which no Catch takes', async () => {
    const byPath = variant('heartbeat.asl.json', 'AwaitWorker', { HeartbeatSeconds: undefined, HeartbeatSecondsPath: '$.heartbeat' });
    const { runner } = track(runnerWith(byPath));
    const lost = runner.run('by-path', { heartbeat: 1 });
    await lost.done;
    expect(stateNames(lost)).toEqual(['AwaitWorker', 'WorkerLost']);

    const everything = variant('heartbeat.asl.json', 'AwaitWorker', { HeartbeatSeconds: undefined, HeartbeatSecondsPath: '$.heartbeat', Catch: [{ ErrorEquals: ['States.ALL'], Next: 'WorkerLost' }] });
    const broken = track(runnerWith(everything));
    const failed = broken.runner.run('bad-path', { heartbeat: 'soon' });
    await failed.done;
    expect(failed).toMatchObject({ status: 'FAILED', error: { error: 'States.Runtime', cause: expect.stringMatching(/HeartbeatSecondsPath '\$\.heartbeat'.*not a positive integer/) as string } });
    expect(broken.events).toHaveLength(0);
  });

  it("without TimeoutSeconds it waits as long as AWS would, not the interpreter's default 60 s", async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] });
    try {
      const { runner, events } = track(runnerWith(fixture('notify-and-wait.asl.json')));
      const execution = runner.run('patient', { jobId: 'job-1' });
      await jest.advanceTimersByTimeAsync(10);
      expect(events).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(24 * 3600 * 1000);
      expect(execution.status).toBe('RUNNING');
      runner.sendTaskSuccess(events[0]!.taskToken, '{}');
      await jest.advanceTimersByTimeAsync(10);
      expect(execution.status).toBe('SUCCEEDED');
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('heartbeats', () => {
  const withCatch = (errorEquals: string[]) => variant('heartbeat.asl.json', 'AwaitWorker', { Catch: [{ ErrorEquals: errorEquals, ResultPath: '$.error', Next: 'WorkerLost' }] });

  it.each([['States.HeartbeatTimeout'], ['States.Timeout'], ['States.ALL']])('a heartbeat timeout is caught by ErrorEquals [%s]', async (name) => {
    const { runner, event } = track(runnerWith(withCatch([name]), undefined, { heartbeatOverrideMs: 0 }));
    const execution = runner.run('lost', {});
    const { taskToken } = await event();
    await execution.done;
    expect(execution.status).toBe('SUCCEEDED');
    expect(stateNames(execution)).toEqual(['AwaitWorker', 'WorkerLost']);
    expect((execution.output as { error: { Error: string; Cause: string } }).error).toEqual({ Error: 'States.HeartbeatTimeout', Cause: '' });
    expect(thrown(() => runner.sendTaskHeartbeat(taskToken))).toMatchObject(TIMED_OUT);
  });

  it('a heartbeat timeout is not a States.TaskFailed: uncaught, the execution fails States.Timeout', async () => {
    const { runner } = track(runnerWith(withCatch(['States.TaskFailed']), undefined, { heartbeatOverrideMs: 0 }));
    const execution = runner.run('lost', {});
    await execution.done;
    expect(execution).toMatchObject({ status: 'FAILED', error: { error: 'States.Timeout' } });
    expect(stateNames(execution)).toEqual(['AwaitWorker']);
  });

  it('a TimeoutSeconds timeout is no heartbeat timeout: ErrorEquals [States.HeartbeatTimeout] lets it through', async () => {
    const definition = variant('heartbeat.asl.json', 'AwaitWorker', { HeartbeatSeconds: undefined, TimeoutSeconds: 1 });
    const { runner } = track(runnerWith(definition));
    const execution = runner.run('too-long', {});
    await execution.done;
    expect(execution).toMatchObject({ status: 'FAILED', error: { error: 'States.Timeout' } });
  });

  it('SendTaskHeartbeat keeps a task alive past HeartbeatSeconds; one without heartbeats is lost after it', async () => {
    const { runner, event } = track(runnerWith(fixture('heartbeat.asl.json')));
    const alive = runner.run('alive', {});
    const token = (await event(1)).taskToken;
    const silent = runner.run('silent', {});
    await event(2);
    const until = Date.now() + 2500;
    while (Date.now() < until) {
      runner.sendTaskHeartbeat(token);
      await sleep(300);
    }
    expect(silent.status).toBe('SUCCEEDED');
    expect(stateNames(silent)).toEqual(['AwaitWorker', 'WorkerLost']);
    expect(alive.status).toBe('RUNNING');
    runner.sendTaskSuccess(token, '{"rows":3}');
    await alive.done;
    expect(alive).toMatchObject({ status: 'SUCCEEDED', output: { result: { rows: 3 } } });
  });

  it('heartbeatOverrideMs replaces every waiting task\'s heartbeat timeout; 0 fires at once, but only after the handler has returned', async () => {
    let during: { status: string; pending: number } | undefined;
    const { runner } = track(
      runnerWith(
        variant('heartbeat.asl.json', 'AwaitWorker', { HeartbeatSeconds: 3600 }),
        async (_event, _call, self) => {
          await sleep(200);
          during = { status: self.executions.get('slow-handler')!.status, pending: self.pendingTasks().length };
          return { started: true };
        },
        { heartbeatOverrideMs: 0 },
      ),
    );
    const execution = runner.run('slow-handler', {});
    await execution.done;
    expect(during).toEqual({ status: 'RUNNING', pending: 1 });
    expect(stateNames(execution)).toEqual(['AwaitWorker', 'WorkerLost']);
  });
});

describe('stopping', () => {
  it('abort (StopExecution) drops the execution\'s tokens: a later callback is TaskTimedOut', async () => {
    const { runner, event } = track(runnerWith(fixture('notify-and-wait.asl.json')));
    const execution = runner.run('stopped', { jobId: 'job-1' });
    const kept = runner.run('kept', { jobId: 'job-2' });
    const { taskToken } = await event(1);
    await event(2);
    runner.abort('stopped');
    await execution.done;
    expect(execution.status).toBe('ABORTED');
    expect(runner.pendingTasks().map((p) => p.execution)).toEqual(['kept']);
    expect(thrown(() => runner.sendTaskSuccess(taskToken, '{}'))).toMatchObject(TIMED_OUT);
    expect(kept.status).toBe('RUNNING');
  });

  it('stop drops every token, promptly', async () => {
    const { runner, event } = track(runnerWith(fixture('notify-and-wait.asl.json')));
    const execution = runner.run('at-stop', { jobId: 'job-1' });
    const { taskToken } = await event();
    const started = Date.now();
    await runner.stop();
    expect(Date.now() - started).toBeLessThan(1500);
    expect(execution.status).toBe('ABORTED');
    expect(runner.pendingTasks()).toEqual([]);
    expect(thrown(() => runner.sendTaskSuccess(taskToken, '{}'))).toMatchObject(TIMED_OUT);
  });
});

describe('the definitions a runner takes', () => {
  const notify = () => Promise.resolve({});
  const make = (definition: Definition, routes: RunnerOptions['routes'] = { NotifyFunctionArn: notify }) => new LocalWorkflowRunner({ definition, routes });

  it('routes the callback resource of any partition, and shows the definition as deployed (FunctionName substituted)', async () => {
    const definition = variant('notify-and-wait.asl.json', 'AwaitApproval', { Resource: 'arn:aws-us-gov:states:::lambda:invoke.waitForTaskToken' });
    const { runner, event } = track(runnerWith(definition, undefined, { functionArn: (p) => `arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:${p}` }));
    const deployed = (runner.definition as Definition).States.AwaitApproval!;
    expect(deployed.Parameters).toEqual({ FunctionName: 'arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:NotifyFunctionArn', Payload: { 'taskToken.$': '$$.Task.Token', 'jobId.$': '$.jobId' } });
    expect(deployed.Resource).toBe('arn:aws-us-gov:states:::lambda:invoke.waitForTaskToken');
    const execution = runner.run('gov', { jobId: 'job-1' });
    runner.sendTaskSuccess((await event()).taskToken, '{}');
    expect((await execution.done).status).toBe('SUCCEEDED');
  });

  it('refuses a callback Task whose FunctionName has no route or is no placeholder, any other states::: integration, and a callback Task inside Parallel or Map', () => {
    expect(() => make(fixture('notify-and-wait.asl.json'), {})).toThrow(/without a local route: AwaitApproval/);
    expect(() => make(variant('notify-and-wait.asl.json', 'AwaitApproval', { Parameters: { FunctionName: 'arn:aws:lambda:us-east-1:123456789012:function:real', Payload: {} } }))).toThrow(/without a local route: AwaitApproval/);
    expect(() => make(variant('notify-and-wait.asl.json', 'AwaitApproval', { Resource: 'arn:aws:states:::lambda:invoke' }))).toThrow(/without a local route: AwaitApproval/);
    expect(() => make(variant('notify-and-wait.asl.json', 'AwaitApproval', { Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken' }))).toThrow(/without a local route: AwaitApproval/);
    const inner = fixture('notify-and-wait.asl.json');
    const parallel: Definition = {
      StartAt: 'Both',
      States: { Both: { Type: 'Parallel', Branches: [{ StartAt: 'AwaitApproval', States: { AwaitApproval: { ...inner.States.AwaitApproval!, Catch: undefined, Retry: undefined, Next: undefined, End: true } } }], End: true } },
    };
    expect(() => make(parallel)).toThrow(/inside a Parallel or Map state.*: AwaitApproval/);
  });
});
