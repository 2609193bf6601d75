/**
 * The Step Functions adapters (src/adapters/sfn/) against a mocked SFNClient: StartExecution by name (a name in use
 * counts as started), and DescribeExecution as the reconciler's port sees it (ExecutionDoesNotExist is "none",
 * retryable errors TransientError). Against the real wire: the local Step Functions in e2e/local-stack.test.ts.
 */
import { DescribeExecutionCommand, ExecutionAlreadyExists, ExecutionDoesNotExist, SFNClient, SFNServiceException, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { SfnWorkflowExecutions } from '../../src/adapters/sfn/workflow-executions';
import { SfnWorkflowStarter } from '../../src/adapters/sfn/workflow-starter';
import { TransientError } from '../../src/errors';
import { DEFAULT_POLLING } from '../../src/jobs/workflow-input';

const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:emr-step-gateway-prod-submit-job';
const JOB = 'job-01m8h0dkf85dkw0bzfa95pqaz6';
const EXECUTION = `arn:aws:states:us-east-1:123456789012:execution:emr-step-gateway-prod-submit-job:${JOB}-2`;

const sfn = mockClient(SFNClient);
beforeEach(() => sfn.reset());
afterAll(() => sfn.restore());
const client = () => new SFNClient({ region: 'us-east-1' });

describe('SfnWorkflowStarter', () => {
  it('names the execution after the job, or as asked; a name in use is already started', async () => {
    sfn.on(StartExecutionCommand).resolvesOnce({ executionArn: 'x', startDate: new Date() }).rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
    const starter = new SfnWorkflowStarter(client(), MACHINE);
    await starter.start({ jobId: JOB, polling: DEFAULT_POLLING });
    await starter.start({ jobId: JOB, polling: DEFAULT_POLLING }, `${JOB}-2`);
    expect(sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input)).toEqual([
      { stateMachineArn: MACHINE, name: JOB, input: JSON.stringify({ jobId: JOB, polling: DEFAULT_POLLING }) },
      { stateMachineArn: MACHINE, name: `${JOB}-2`, input: JSON.stringify({ jobId: JOB, polling: DEFAULT_POLLING }) },
    ]);
  });
});

describe('SfnWorkflowExecutions', () => {
  it("describes the named execution of the state machine: its status, and for an ended one its error and cause", async () => {
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: EXECUTION, stateMachineArn: MACHINE, status: 'FAILED', error: 'Gateway.JobFailed', cause: 'The workflow failed', startDate: new Date() });
    expect(await new SfnWorkflowExecutions(client(), MACHINE).describe(`${JOB}-2`)).toEqual({ status: 'FAILED', error: 'Gateway.JobFailed', cause: 'The workflow failed' });
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]!.args[0].input).toEqual({ executionArn: EXECUTION });
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: EXECUTION, stateMachineArn: MACHINE, status: 'RUNNING', startDate: new Date() });
    expect(await new SfnWorkflowExecutions(client(), MACHINE).describe(`${JOB}-2`)).toEqual({ status: 'RUNNING' });
  });

  it('ExecutionDoesNotExist: none (never started, or no longer kept)', async () => {
    sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${EXECUTION}'`, $metadata: {} }));
    expect(await new SfnWorkflowExecutions(client(), MACHINE).describe(`${JOB}-2`)).toBeUndefined();
  });

  it('throttling is a TransientError; anything else passes on as it is', async () => {
    const throttled = new SFNServiceException({ name: 'ThrottlingException', message: 'Rate exceeded', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    sfn.on(DescribeExecutionCommand).rejectsOnce(throttled).rejects(new SFNServiceException({ name: 'AccessDeniedException', message: 'no', $fault: 'client', $metadata: { httpStatusCode: 400 } }));
    const executions = new SfnWorkflowExecutions(client(), MACHINE);
    await expect(executions.describe(JOB)).rejects.toBeInstanceOf(TransientError);
    await expect(executions.describe(JOB)).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});
