/**
 * The AWS CLI (Debian's v2 at /usr/bin/aws) against the local AWS endpoint: EMR, DynamoDB, Step Functions
 * and STS speak the real protocols. Skipped, with the reason printed, where the AWS CLI is not installed
 * (.ci/run installs it).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { LocalStack } from '../../src/local/stack';
import { clientFor, finished, newDataDir, startStack, until } from '../support/local-stack';

jest.setTimeout(90_000);

const AWS = '/usr/bin/aws';
const present = existsSync(AWS);
if (!present) console.warn(`SKIPPED: AWS CLI tests: ${AWS} is not installed (apt-get install -y awscli)`);
const describeIf = present ? describe : describe.skip;

const CLUSTER = 'j-2AXXXXXXGAPLF';
const ETL = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';

let stack: LocalStack;

function aws(...args: string[]): Promise<Record<string, unknown>> {
  const env = {
    PATH: process.env.PATH,
    HOME: '/nonexistent',
    AWS_ACCESS_KEY_ID: 'AKIALOCALCLI00000000',
    AWS_SECRET_ACCESS_KEY: 'local-cli-secret',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/nonexistent/config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    AWS_PAGER: '',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  return new Promise((resolve, reject) =>
    execFile(AWS, ['--endpoint-url', stack.awsUrl, '--output', 'json', ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`aws ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : {});
    }),
  );
}

describeIf('the AWS CLI against the local endpoint', () => {
  beforeAll(async () => {
    stack = await startStack(newDataDir());
  });
  afterAll(() => stack.stop());

  const stepState = async (stepId: string) => ((await aws('emr', 'describe-step', '--cluster-id', CLUSTER, '--step-id', stepId)) as { Step: { Status: { State: string } } }).Step.Status.State;

  it('emr add-steps with --execution-role-arn, describe-step (showing ExecutionRoleArn), list-steps', async () => {
    const added = (await aws('emr', 'add-steps', '--cluster-id', CLUSTER, '--execution-role-arn', ETL, '--steps', 'Type=CUSTOM_JAR,Name=from-aws-cli,Jar=command-runner.jar,Args=[bash,-c,echo hi]')) as { StepIds: string[] };
    expect(added.StepIds).toHaveLength(1);
    const stepId = added.StepIds[0]!;
    await until(async () => ((await stepState(stepId)) === 'COMPLETED' ? true : undefined));
    const described = (await aws('emr', 'describe-step', '--cluster-id', CLUSTER, '--step-id', stepId)) as { Step: Record<string, unknown> };
    expect(described.Step).toMatchObject({ Id: stepId, Name: 'from-aws-cli', ExecutionRoleArn: ETL, Config: { Jar: 'command-runner.jar', Args: ['bash', '-c', 'echo hi'] } });
    const listed = (await aws('emr', 'list-steps', '--cluster-id', CLUSTER)) as { Steps: { Id: string }[] };
    expect(listed.Steps.map((s) => s.Id)).toContain(stepId);
  });

  it('emr add-steps without a role on a runtime-role cluster: EMR\'s own refusal', async () => {
    await expect(aws('emr', 'add-steps', '--cluster-id', CLUSTER, '--steps', 'Type=CUSTOM_JAR,Name=x,Jar=command-runner.jar,Args=[true]')).rejects.toThrow(
      /ValidationException.*Runtime roles are required for this cluster/s,
    );
  });

  it('emr cancel-steps stops a running step', async () => {
    const { StepIds } = (await aws('emr', 'add-steps', '--cluster-id', CLUSTER, '--execution-role-arn', ETL, '--steps', 'Type=CUSTOM_JAR,Name=sleeper,Jar=command-runner.jar,Args=[sleep,300]')) as { StepIds: string[] };
    const stepId = StepIds[0]!;
    await until(async () => ((await stepState(stepId)) === 'RUNNING' ? true : undefined));
    const cancelled = (await aws('emr', 'cancel-steps', '--cluster-id', CLUSTER, '--step-ids', stepId, '--step-cancellation-option', 'TERMINATE_PROCESS')) as { CancelStepsInfoList: unknown[] };
    expect(cancelled.CancelStepsInfoList).toEqual([{ StepId: stepId, Status: 'SUBMITTED' }]);
    await until(async () => ((await stepState(stepId)) === 'CANCELLED' ? true : undefined));
  });

  it('dynamodb scan of the audit table and stepfunctions describe-execution of a gateway job', async () => {
    const alice = clientFor(stack, 'alice');
    const { jobId } = await alice.submit({ clusterId: CLUSTER, executionRoleArn: ETL, name: 'via gateway', step: { type: 'command', args: ['true'] } });
    await finished(alice, jobId);
    const scan = (await aws('dynamodb', 'scan', '--table-name', 'emr-gateway-audit')) as { Items: Record<string, { S?: string; N?: string }>[] };
    const events = scan.Items.filter((i) => i.jobId?.S === jobId).sort((a, b) => Number(a.seq?.N) - Number(b.seq?.N));
    const types = events.map((e) => e.type?.S);
    expect([types[0], types[1], types.at(-1)]).toEqual(['DECISION', 'SUBMITTED', 'COMPLETED']); // STATE_CHANGED between, as the step events arrive
    expect(events.every((e) => /^[0-9a-f]{64}$/.test(e.hash?.S ?? ''))).toBe(true);
    const executionArn = `arn:aws:states:us-east-1:123456789012:execution:emr-gateway-submit-job:${jobId}`;
    await until(async () => (((await aws('stepfunctions', 'describe-execution', '--execution-arn', executionArn)) as { status: string }).status === 'SUCCEEDED' ? true : undefined));
    const described = (await aws('stepfunctions', 'describe-execution', '--execution-arn', executionArn));
    expect(described).toMatchObject({ name: jobId, status: 'SUCCEEDED', stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:emr-gateway-submit-job' });
    const history = (await aws('stepfunctions', 'get-execution-history', '--execution-arn', executionArn)) as { events: { type: string }[] };
    expect(history.events[0]?.type).toBe('ExecutionStarted');
    expect(history.events.map((e) => e.type)).toEqual(expect.arrayContaining(['TaskStateEntered', 'ChoiceStateEntered', 'ExecutionSucceeded']));
  });

  it('sts assume-role with a source identity', async () => {
    const out = (await aws('sts', 'assume-role', '--role-arn', ETL, '--role-session-name', 'cli', '--source-identity', 'alice')) as { Credentials: { AccessKeyId: string }; SourceIdentity: string };
    expect(out.SourceIdentity).toBe('alice');
    expect(out.Credentials.AccessKeyId).toMatch(/^ASIA/);
  });
});
