/**
 * The callback pattern through the local Step Functions API: SendTaskSuccess, SendTaskFailure and
 * SendTaskHeartbeat (answering {} as AWS does, their errors AWS's), GetExecutionHistory logging a
 * waitForTaskToken Task as Step Functions logs an optimized integration (TaskScheduled, TaskStarted,
 * TaskSubmitted, then TaskSucceeded, TaskFailed or TaskTimedOut), every answer held against botocore's model; and
 * the three operations through the AWS SDK v3 SFNClient against the local AWS endpoint over loopback.
 */
import { readFileSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import { join } from 'node:path';
import { InvalidOutput, InvalidToken, SendTaskFailureCommand, SendTaskHeartbeatCommand, SendTaskSuccessCommand, SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { startAwsEndpoint, type AwsEndpoint, type AwsEndpointOptions } from '../../src/local/aws-endpoint';
import { LocalStepFunctions } from '../../src/local/sfn/api';
import { LocalWorkflowRunner, type RunnerOptions } from '../../src/local/sfn/runner';
import { BOTOCORE_DATA, checkResponse, loadModel, ModelCheck, modelsInstalled } from '../support/aws-models';
import { thrown } from '../support/thrown';
import { until } from '../support/wait';

jest.setTimeout(20_000);

const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:callbacks';
const arn = (name: string) => `arn:aws:states:eu-west-1:123456789012:execution:callbacks:${name}`;
const FUNCTION = (placeholder: string) => `arn:aws:lambda:eu-west-1:123456789012:function:${placeholder.replace(/FunctionArn$/, '')}`;

interface Definition {
  StartAt: string;
  States: Record<string, Record<string, unknown>>;
}
const fixture = (file: string): Definition => JSON.parse(readFileSync(join(__dirname, '../fixtures/sfn-callback', file), 'utf8')) as Definition;
function variant(file: string, state: string, fields: Record<string, unknown>): Definition {
  const definition = fixture(file);
  definition.States[state] = { ...definition.States[state], ...fields };
  return definition;
}
/** A fixture without the Catch of `state`, nor the state it led to. */
function uncaught(file: string, state: string): Definition {
  const definition = variant(file, state, { Catch: undefined });
  for (const { Next } of (fixture(file).States[state]?.Catch ?? []) as { Next: string }[]) delete definition.States[Next];
  return definition;
}

interface HistoryEvent {
  type: string;
  id: number;
  previousEventId: number;
  [details: string]: unknown;
}

/** A runner over `definition` and the API over it; the handlers record their events and answer `answer`. */
function apiWith(definition: Definition, answer: (call: number) => Promise<unknown> = () => Promise.resolve({ notified: true }), options: Partial<RunnerOptions> = {}) {
  const events: { taskToken: string }[] = [];
  const handler = (input: unknown) => {
    events.push(input as { taskToken: string });
    return answer(events.length);
  };
  const runner = new LocalWorkflowRunner({ definition, routes: { NotifyFunctionArn: handler, StartWorkerFunctionArn: handler }, functionArn: FUNCTION, ...options });
  const sfn = new LocalStepFunctions(MACHINE, runner, { roleArn: 'arn:aws:iam::123456789012:role/machine', creationDate: new Date() });
  runners.push(runner);
  const token = (n = 1) => until(() => Promise.resolve(events[n - 1]?.taskToken), { what: `handler call ${n}` });
  const history = (name: string) => sfn.getExecutionHistory({ executionArn: arn(name) }).events as HistoryEvent[];
  return { runner, sfn, token, history };
}

const runners: LocalWorkflowRunner[] = [];
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
});

const present = modelsInstalled();
if (!present) console.warn(`SKIPPED: the model checks of the callback API: botocore's models are not at ${BOTOCORE_DATA} (apt-get install -y awscli)`);
/** The model's problems with `output` as `operation`'s answer (none where the models are not installed). */
const problems = (operation: string, output: unknown): string[] =>
  present ? checkResponse(loadModel('stepfunctions')!, operation, { status: 200, headers: { 'x-amzn-requestid': 'r' }, body: JSON.stringify(output) }) : [];

const details = (event: HistoryEvent | undefined, key: string) => event?.[key] as Record<string, unknown> | undefined;

describe('the callback operations of the local Step Functions API', () => {
  it('SendTaskSuccess, SendTaskHeartbeat and SendTaskFailure answer {} as AWS does', async () => {
    const { sfn, runner, token } = apiWith(fixture('notify-and-wait.asl.json'));
    sfn.startExecution({ stateMachineArn: MACHINE, name: 'ok', input: JSON.stringify({ jobId: 'job-1' }) });
    const taskToken = await token();
    expect(sfn.sendTaskHeartbeat({ taskToken })).toEqual({});
    expect(problems('SendTaskHeartbeat', {})).toEqual([]);
    expect(sfn.sendTaskSuccess({ taskToken, output: '{"approvedBy":"alice"}' })).toEqual({});
    expect(problems('SendTaskSuccess', {})).toEqual([]);
    expect((await runner.executions.get('ok')!.done).output).toEqual({ jobId: 'job-1', approval: { approvedBy: 'alice' } });

    sfn.startExecution({ stateMachineArn: MACHINE, name: 'no', input: JSON.stringify({ jobId: 'job-2' }) });
    expect(sfn.sendTaskFailure({ taskToken: await token(2), error: 'Approval.Denied', cause: 'no' })).toEqual({});
    expect((await runner.executions.get('no')!.done).output).toMatchObject({ error: { Error: 'Approval.Denied', Cause: 'no' } });
  });

  it('a missing required member is the ValidationException the other operations give; a member of another type a SerializationException', () => {
    const { sfn } = apiWith(fixture('notify-and-wait.asl.json'));
    const missing = (member: string) => ({ type: 'ValidationException', message: `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null` });
    expect(thrown(() => sfn.sendTaskSuccess({ output: '{}' }))).toMatchObject(missing('taskToken'));
    expect(thrown(() => sfn.sendTaskSuccess({ taskToken: 'x' }))).toMatchObject(missing('output'));
    expect(thrown(() => sfn.sendTaskFailure({}))).toMatchObject(missing('taskToken'));
    expect(thrown(() => sfn.sendTaskHeartbeat({}))).toMatchObject(missing('taskToken'));
    expect(thrown(() => sfn.sendTaskHeartbeat({ taskToken: 42 }))).toMatchObject({ type: 'SerializationException' });
    expect(thrown(() => sfn.sendTaskFailure({ taskToken: 'x', error: {} }))).toMatchObject({ type: 'SerializationException' });
    expect(thrown(() => sfn.sendTaskSuccess({ taskToken: 'garbage', output: '{}' }))).toMatchObject({ type: 'InvalidToken' });
  });
});

describe('the history of a waitForTaskToken Task', () => {
  const model = () => expect(problems('GetExecutionHistory', { events: [] })).toEqual([]);

  it('succeeded: TaskStateEntered, TaskScheduled (the evaluated Parameters), TaskStarted, TaskSubmitted (the invoke\'s result), TaskSucceeded (the callback\'s output), TaskStateExited', async () => {
    model();
    const { sfn, runner, token, history } = apiWith(fixture('notify-and-wait.asl.json'), () => Promise.resolve({ notified: 'alice' }));
    sfn.startExecution({ stateMachineArn: MACHINE, name: 'approved', input: JSON.stringify({ jobId: 'job-1' }) });
    const taskToken = await token();
    await until(() => Promise.resolve(history('approved').some((e) => e.type === 'TaskSubmitted') || undefined), { what: 'TaskSubmitted' });
    // While it waits: the task is submitted, not yet done.
    expect(history('approved').map((e) => e.type)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSubmitted']);
    sfn.sendTaskHeartbeat({ taskToken });
    sfn.sendTaskSuccess({ taskToken, output: JSON.stringify({ approvedBy: 'alice' }) });
    await runner.executions.get('approved')!.done;

    const answer = sfn.getExecutionHistory({ executionArn: arn('approved') });
    expect(problems('GetExecutionHistory', answer)).toEqual([]);
    const events = answer.events as HistoryEvent[];
    // Heartbeats add no events.
    expect(events.map((e) => e.type)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSubmitted', 'TaskSucceeded', 'TaskStateExited', 'PassStateEntered', 'PassStateExited', 'ExecutionSucceeded']);
    expect(events.map((e) => [e.id, e.previousEventId])).toEqual(events.map((_, i) => [i + 1, i]));
    const lambda = { resourceType: 'lambda', resource: 'invoke.waitForTaskToken' };
    const scheduled = details(events[2], 'taskScheduledEventDetails')!;
    expect(scheduled).toEqual({ ...lambda, region: 'eu-west-1', parameters: expect.any(String) as string });
    expect(JSON.parse(scheduled.parameters as string)).toEqual({ FunctionName: 'arn:aws:lambda:eu-west-1:123456789012:function:Notify', Payload: { taskToken, jobId: 'job-1' } });
    expect(details(events[3], 'taskStartedEventDetails')).toEqual(lambda);
    const submitted = details(events[4], 'taskSubmittedEventDetails')!;
    expect(submitted).toMatchObject({ ...lambda, output: expect.any(String) as string });
    expect(JSON.parse(submitted.output as string)).toMatchObject({ Payload: { notified: 'alice' }, StatusCode: 200 });
    expect(details(events[5], 'taskSucceededEventDetails')).toMatchObject({ ...lambda, output: JSON.stringify({ approvedBy: 'alice' }) });
    expect(details(events[6], 'stateExitedEventDetails')).toEqual({ name: 'AwaitApproval', output: JSON.stringify({ jobId: 'job-1', approval: { approvedBy: 'alice' } }) });
    // As deployed: no Lambda function events for an optimized integration.
    expect(events.some((e) => e.type.startsWith('LambdaFunction'))).toBe(false);
    expect(runner.executions.get('approved')!.transitions).toBe(2);
  });

  it('failed, retried, then failed by the callback: TaskFailed with the handler\'s error, a new TaskScheduled, then TaskFailed with the callback\'s; the execution fails with it', async () => {
    const definition = uncaught('notify-and-wait.asl.json', 'AwaitApproval');
    const { sfn, runner, token, history } = apiWith(definition, (call) => (call === 1 ? Promise.reject(Object.assign(new Error('try again'), { name: 'Notify.Flaky' })) : Promise.resolve(null)), { retryOverrideMs: 0 });
    sfn.startExecution({ stateMachineArn: MACHINE, name: 'refused', input: JSON.stringify({ jobId: 'job-1' }) });
    const second = await token(2);
    sfn.sendTaskFailure({ taskToken: second, error: 'Approval.Denied', cause: 'alice said no' });
    await runner.executions.get('refused')!.done;

    const answer = sfn.getExecutionHistory({ executionArn: arn('refused') });
    expect(problems('GetExecutionHistory', answer)).toEqual([]);
    const events = answer.events as HistoryEvent[];
    expect(events.map((e) => e.type)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskFailed', 'TaskScheduled', 'TaskStarted', 'TaskSubmitted', 'TaskFailed', 'ExecutionFailed']);
    expect(details(events[4], 'taskFailedEventDetails')).toEqual({ resourceType: 'lambda', resource: 'invoke.waitForTaskToken', error: 'Notify.Flaky', cause: 'try again' });
    expect(JSON.parse(details(events[5], 'taskScheduledEventDetails')!.parameters as string)).toMatchObject({ Payload: { taskToken: second } });
    expect(details(events[8], 'taskFailedEventDetails')).toEqual({ resourceType: 'lambda', resource: 'invoke.waitForTaskToken', error: 'Approval.Denied', cause: 'alice said no' });
    expect(details(events[9], 'executionFailedEventDetails')).toEqual({ error: 'Approval.Denied', cause: 'alice said no' });
    expect(sfn.describeExecution({ executionArn: arn('refused') })).toMatchObject({ status: 'FAILED', error: 'Approval.Denied', cause: 'alice said no' });
    expect(history('refused')).toHaveLength(10);
    // StateEntered + StateRetried, as today.
    expect(runner.executions.get('refused')!.transitions).toBe(2);
  });

  it('timed out by its heartbeat: TaskScheduled with timeoutInSeconds and heartbeatInSeconds, TaskTimedOut States.Timeout without a cause', async () => {
    const definition = uncaught('heartbeat.asl.json', 'AwaitWorker');
    definition.States.AwaitWorker!.TimeoutSeconds = 600;
    const { sfn, runner } = apiWith(definition, () => Promise.resolve({}), { heartbeatOverrideMs: 0 });
    sfn.startExecution({ stateMachineArn: MACHINE, name: 'lost', input: '{}' });
    await until(() => Promise.resolve(runner.executions.get('lost')?.stoppedAt), { what: 'the end of the execution' });

    const answer = sfn.getExecutionHistory({ executionArn: arn('lost') });
    expect(problems('GetExecutionHistory', answer)).toEqual([]);
    const events = answer.events as HistoryEvent[];
    expect(events.map((e) => e.type)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSubmitted', 'TaskTimedOut', 'ExecutionFailed']);
    expect(details(events[2], 'taskScheduledEventDetails')).toMatchObject({ timeoutInSeconds: 600, heartbeatInSeconds: 1 });
    expect(details(events[5], 'taskTimedOutEventDetails')).toEqual({ resourceType: 'lambda', resource: 'invoke.waitForTaskToken', error: 'States.Timeout' });
    expect(details(events[6], 'executionFailedEventDetails')).toEqual({ error: 'States.Timeout' });
    const described = sfn.describeExecution({ executionArn: arn('lost') });
    expect(problems('DescribeExecution', described)).toEqual([]);
    expect(described).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
    expect(described).not.toHaveProperty('cause');
  });

  it('failed by a SendTaskFailure without an error: TaskFailed and ExecutionFailed without error or cause', async () => {
    const { sfn, runner, token } = apiWith(uncaught('notify-and-wait.asl.json', 'AwaitApproval'));
    sfn.startExecution({ stateMachineArn: MACHINE, name: 'bare', input: '{"jobId":"job-1"}' });
    sfn.sendTaskFailure({ taskToken: await token() });
    await runner.executions.get('bare')!.done;
    const answer = sfn.getExecutionHistory({ executionArn: arn('bare') });
    expect(problems('GetExecutionHistory', answer)).toEqual([]);
    const events = answer.events as HistoryEvent[];
    expect(events.slice(-2).map((e) => [e.type, e.taskFailedEventDetails ?? e.executionFailedEventDetails])).toEqual([
      ['TaskFailed', { resourceType: 'lambda', resource: 'invoke.waitForTaskToken' }],
      ['ExecutionFailed', {}],
    ]);
    const described = sfn.describeExecution({ executionArn: arn('bare') });
    expect(problems('DescribeExecution', described)).toEqual([]);
    expect(described).not.toHaveProperty('error');
  });

  it('called back before its function returned (here, at once on the start): TaskSucceeded without TaskSubmitted, in its place', async () => {
    const { sfn, runner } = apiWith(fixture('notify-and-wait.asl.json'), () => new Promise((resolve) => setTimeout(() => resolve('late'), 50)));
    sfn.startExecution({ stateMachineArn: MACHINE, name: 'quick', input: '{"jobId":"job-1"}' });
    sfn.sendTaskSuccess({ taskToken: runner.pendingTasks()[0]!.token, output: '{"quick":true}' });
    await runner.executions.get('quick')!.done;
    await new Promise((r) => setTimeout(r, 100));
    const answer = sfn.getExecutionHistory({ executionArn: arn('quick') });
    expect(problems('GetExecutionHistory', answer)).toEqual([]);
    expect((answer.events as HistoryEvent[]).map((e) => e.type)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSucceeded', 'TaskStateExited', 'PassStateEntered', 'PassStateExited', 'ExecutionSucceeded']);
  });

  it('stopped while waiting: the history ends ExecutionAborted after the submitted task', async () => {
    const { sfn, runner, token } = apiWith(fixture('notify-and-wait.asl.json'));
    sfn.startExecution({ stateMachineArn: MACHINE, name: 'halted', input: '{"jobId":"job-1"}' });
    await token();
    await until(() => Promise.resolve(runner.executions.get('halted')!.callbackTasks[0]?.submitted), { what: 'the handler to return' });
    sfn.stopExecution({ executionArn: arn('halted') });
    await runner.executions.get('halted')!.done;
    const answer = sfn.getExecutionHistory({ executionArn: arn('halted') });
    expect(problems('GetExecutionHistory', answer)).toEqual([]);
    expect((answer.events as HistoryEvent[]).map((e) => e.type)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSubmitted', 'ExecutionAborted']);
  });
});

describe('through the AWS SDK v3 against the local AWS endpoint', () => {
  let endpoint: AwsEndpoint;
  let client: SFNClient;
  let made: ReturnType<typeof apiWith>;
  const check = new ModelCheck();

  beforeAll(async () => {
    made = apiWith(fixture('notify-and-wait.asl.json'));
    runners.splice(runners.indexOf(made.runner), 1); // it lives as long as the endpoint
    // Only Step Functions is asked here; the other services are never reached.
    const none = {} as never;
    const notFound: RequestListener = (_req, res) => res.writeHead(404).end();
    const options: AwsEndpointOptions = { port: 0, sfn: made.sfn, emr: none, sts: none, iam: none, kms: none, s3: none, sns: none, events: none, account: '123456789012', dynamo: notFound, onExchange: (exchange) => check.record(exchange) };
    endpoint = await startAwsEndpoint(options);
    client = new SFNClient({ region: 'eu-west-1', endpoint: endpoint.url, credentials: { accessKeyId: 'AKIACALLBACK00000000', secretAccessKey: 'x' } });
  });
  afterAll(async () => {
    client.destroy();
    await made.runner.stop();
    await endpoint.close();
  });

  it('SendTaskHeartbeat, SendTaskSuccess and SendTaskFailure; a dead token is TaskTimedOut, garbage InvalidToken, bad output InvalidOutput; every answer as the model says', async () => {
    const { sfn, runner } = made;
    sfn.startExecution({ stateMachineArn: MACHINE, name: 'sdk-ok', input: '{"jobId":"job-1"}' });
    const taskToken = await until(() => Promise.resolve(runner.pendingTasks()[0]?.token), { what: 'the task token' });
    expect(await client.send(new SendTaskHeartbeatCommand({ taskToken }))).toMatchObject({ $metadata: { httpStatusCode: 200 } });
    await expect(client.send(new SendTaskSuccessCommand({ taskToken, output: 'not json' }))).rejects.toBeInstanceOf(InvalidOutput);
    await client.send(new SendTaskSuccessCommand({ taskToken, output: '{"via":"sdk"}' }));
    expect((await runner.executions.get('sdk-ok')!.done).output).toEqual({ jobId: 'job-1', approval: { via: 'sdk' } });
    await expect(client.send(new SendTaskSuccessCommand({ taskToken, output: '{}' }))).rejects.toBeInstanceOf(TaskTimedOut);
    await expect(client.send(new SendTaskHeartbeatCommand({ taskToken: 'garbage' }))).rejects.toBeInstanceOf(InvalidToken);

    sfn.startExecution({ stateMachineArn: MACHINE, name: 'sdk-denied', input: '{"jobId":"job-2"}' });
    const second = await until(() => Promise.resolve(runner.pendingTasks()[0]?.token), { what: 'the second task token' });
    await client.send(new SendTaskFailureCommand({ taskToken: second, error: 'Approval.Denied', cause: 'via the SDK' }));
    expect((await runner.executions.get('sdk-denied')!.done).output).toMatchObject({ error: { Error: 'Approval.Denied', Cause: 'via the SDK' } });
    await expect(client.send(new SendTaskFailureCommand({ taskToken: second }))).rejects.toBeInstanceOf(TaskTimedOut);

    if (present) expect(check.checked).toBe(7);
    check.assertNone();
  });
});
