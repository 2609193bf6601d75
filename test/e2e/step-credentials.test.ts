/**
 * Steps run with their runtime role's credentials, obtained as EMR obtains them (issue 12 item 3): alice's job,
 * through the gateway, runs a step whose process asks the local AWS port who it is (`aws sts get-caller-identity`
 * with Debian's /usr/bin/aws, and the AWS SDK v3 with nothing but the standard variables) and sees the runtime
 * role, with alice as the session's source identity, which the step cannot change. A step on a cluster without
 * runtime roles runs as the instance profile role. A broken prerequisite (the runtime role's trust, the instance
 * profile role's AllowRuntimeRoleUsage) fails the next job as EMR fails it, with FailureDetails naming the role and
 * IAM's denial; restored, jobs run again. The credentials expire, and after a restart new steps get credentials the
 * new stack knows. The AWS CLI tests are skipped, with the reason printed, where it is not installed.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { AddJobFlowStepsCommand, EMRClient } from '@aws-sdk/client-emr';
import { DeleteRolePolicyCommand, GetRolePolicyCommand, GetRoleCommand, IAMClient, PutRolePolicyCommand, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { GatewayClient } from '../../src/client';
import type { LocalStack } from '../../src/local/stack';
import { AWS_CLI, awsCliEnv } from '../support/aws-cli';
import { captureOutput, type CapturedOutput } from '../support/logs';
import { clientFor, finished, KEYS, newDataDir, startStack, until } from '../support/local-stack';

jest.setTimeout(180_000);

const hasCli = existsSync(AWS_CLI);
if (!hasCli) console.warn(`SKIPPED: the AWS CLI parts of the step credential tests: ${AWS_CLI} is not installed (apt-get install -y awscli)`);
const itCli = hasCli ? it : it.skip;

const ACCOUNT = '123456789012';
const CLUSTER = 'j-2AXXXXXXGAPLF';
const LEGACY = 'j-1LEGACYNORUNTIME';
const ETL = `arn:aws:iam::${ACCOUNT}:role/CallerTeamRoleETL`;
/** A long-term key the stack does not know: the account root on the local AWS port (the admin of these tests). */
const ADMIN = { accessKeyId: 'AKIALOCALCLI00000000', secretAccessKey: 'local-cli-secret' };
const STS_SDK = require.resolve('@aws-sdk/client-sts');

let stack: LocalStack;
let alice: GatewayClient;
let output: CapturedOutput | undefined;
const dataDir = newDataDir();
/** Every secret the tests saw handed to a step: none may appear in what the stack wrote. */
const secrets = new Set<string>();

beforeAll(async () => {
  stack = await startStack(dataDir);
  alice = clientFor(stack, 'alice');
});
afterAll(async () => {
  output?.restore();
  await stack?.stop();
});

const iam = () => new IAMClient({ region: 'us-east-1', endpoint: stack.awsUrl, credentials: ADMIN });

async function logOf(stepId: string, stream = 'stdout'): Promise<string> {
  return (await fetch(`${stack.awsUrl}/_local/emr/steps/${stepId}/${stream}`)).text();
}

/** The step's AWS_ACCESS_KEY_ID, which it printed as `key=...`, and the session the local STS issued with it. */
function sessionOf(log: string) {
  const key = /^key=(\S+)$/m.exec(log)?.[1];
  expect(key).toMatch(/^ASIA/);
  const session = stack.sts.session(key);
  expect(session).toBeDefined();
  secrets.add(session!.secretAccessKey).add(session!.sessionToken);
  return session!;
}

/** Alice's command step on the analytics cluster, as CallerTeamRoleETL, run to its end. */
async function aliceRuns(args: string[]) {
  const { jobId } = await alice.submit({ clusterId: CLUSTER, executionRoleArn: ETL, name: 'step credentials', step: { type: 'command', args } });
  return finished(alice, jobId, 60_000);
}

/** A step that prints its access key id, then who the local AWS port says it is, then tries to change its source identity. */
const CLI_STEP = [
  'set -u',
  'echo "key=$AWS_ACCESS_KEY_ID"',
  'echo "endpoint=$AWS_ENDPOINT_URL region=$AWS_REGION/$AWS_DEFAULT_REGION"',
  'env | grep -c AKIALOCAL || true',
  // Debian's AWS CLI (2.9) predates AWS_ENDPOINT_URL (2.13): it is given the same URL as an option.
  'aws --endpoint-url "$AWS_ENDPOINT_URL" sts get-caller-identity --output json',
  `aws --endpoint-url "$AWS_ENDPOINT_URL" sts assume-role --role-arn ${ETL} --role-session-name chained --source-identity mallory --output json 2>&1 && echo chained-allowed || echo chained-refused`,
].join('\n');

/** The same with the SDK, configured by nothing but the standard environment variables (AWS_ENDPOINT_URL too). */
const sdkStep = (roleArn: string) => `
const { STSClient, GetCallerIdentityCommand, AssumeRoleCommand } = require(${JSON.stringify(STS_SDK)});
(async () => {
  const sts = new STSClient({});
  console.log('key=' + process.env.AWS_ACCESS_KEY_ID);
  console.log('identity=' + JSON.stringify(await sts.send(new GetCallerIdentityCommand({}))));
  try {
    await sts.send(new AssumeRoleCommand({ RoleArn: ${JSON.stringify(roleArn)}, RoleSessionName: 'chained', SourceIdentity: 'mallory' }));
    console.log('chained-allowed');
  } catch (error) {
    console.log('chained-refused ' + error.name + ': ' + error.message);
  }
})().catch((error) => { console.error(error); process.exit(1); });`;

const identityIn = (log: string): { Arn: string; UserId: string; Account: string } => JSON.parse(/^identity=(.*)$/m.exec(log)![1]!) as { Arn: string; UserId: string; Account: string };

describe("a step's process has its runtime role's credentials", () => {
  beforeAll(() => {
    output = captureOutput();
  });

  itCli("aws sts get-caller-identity in alice's step: assumed-role/CallerTeamRoleETL, its session carrying SourceIdentity alice, which the step cannot change", async () => {
    const job = await aliceRuns(['bash', '-c', CLI_STEP]);
    const log = await logOf(job.step.id!);
    expect({ status: job.status, log }).toMatchObject({ status: 'COMPLETED' });
    const json = log.slice(log.indexOf('{'), log.indexOf('}') + 1);
    const identity = JSON.parse(json) as { Arn: string; UserId: string; Account: string };
    expect(identity).toEqual({ Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/CallerTeamRoleETL/${job.step.id}`, UserId: `${stack.iam.getRole('CallerTeamRoleETL').id}:${job.step.id}`, Account: ACCOUNT });
    expect(log).toContain(`endpoint=${stack.awsUrl} region=us-east-1/us-east-1`);
    // None of the stack's own keys (nor the demo users') is in the step's environment.
    expect(log).toMatch(/^0$/m);
    const session = sessionOf(log);
    expect(session).toMatchObject({ roleArn: ETL, sourceIdentity: 'alice', tags: { LakeFormationAuthorizedCaller: 'Amazon EMR' } });
    // Role chaining's longest: an hour from when the step started.
    expect(Math.abs(session.expires.getTime() - (Date.parse(job.createdAt) + 3600_000))).toBeLessThan(60_000);
    expect(log).toMatch(/AccessDenied.*sts:SetSourceIdentity on resource: .*CallerTeamRoleETL: the session's source identity cannot be changed/);
    expect(log).toContain('chained-refused');
    expect(log).not.toContain('chained-allowed');
  });

  it('the AWS SDK in a node step, configured by the standard variables only (credentials, region, AWS_ENDPOINT_URL): the same identity', async () => {
    const job = await aliceRuns([process.execPath, '-e', sdkStep(ETL)]);
    const log = await logOf(job.step.id!);
    expect({ status: job.status, log }).toMatchObject({ status: 'COMPLETED' });
    expect(identityIn(log).Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/CallerTeamRoleETL/${job.step.id}`);
    expect(sessionOf(log)).toMatchObject({ roleArn: ETL, sourceIdentity: 'alice' });
    expect(log).toMatch(/chained-refused AccessDenied: .*the session's source identity cannot be changed/);
  });

  it("a step on a cluster without runtime roles runs as the cluster's instance profile role (its node's session)", async () => {
    const emr = new EMRClient({ region: 'us-east-1', endpoint: stack.awsUrl, credentials: ADMIN });
    const { StepIds } = await emr.send(new AddJobFlowStepsCommand({ JobFlowId: LEGACY, Steps: [{ Name: 'as the node', HadoopJarStep: { Jar: 'command-runner.jar', Args: [process.execPath, '-e', sdkStep(ETL)] } }] }));
    emr.destroy();
    const stepId = StepIds![0]!;
    await until(() => Promise.resolve(['COMPLETED', 'FAILED'].includes(stack.emr.steps.get(stepId)!.state) ? true : undefined), 60_000);
    const log = await logOf(stepId);
    expect({ state: stack.emr.steps.get(stepId)!.state, log }).toMatchObject({ state: 'COMPLETED' });
    expect(identityIn(log).Arn).toMatch(new RegExp(`^arn:aws:sts::${ACCOUNT}:assumed-role/EMR_EC2_DefaultRole/i-[0-9a-f]{17}$`));
    expect(sessionOf(log).sourceIdentity).toBeUndefined();
  });

  itCli('the credentials expire: once past their expiry the AWS port answers ExpiredToken', async () => {
    const job = await aliceRuns(['bash', '-c', 'echo "key=$AWS_ACCESS_KEY_ID"']);
    const session = sessionOf(await logOf(job.step.id!));
    const keys = { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken };
    const whoAmI = () => promisify(execFile)(AWS_CLI, ['--endpoint-url', stack.awsUrl, 'sts', 'get-caller-identity', '--output', 'json'], { env: awsCliEnv(keys), timeout: 60_000 });
    expect((await whoAmI()).stdout).toContain(`assumed-role/CallerTeamRoleETL/${job.step.id}`);
    // An hour is too long to wait: the session's expiry is moved to the past (the fake clock of the unit test, in effect).
    session.expires = new Date(Date.now() - 1000);
    await expect(whoAmI()).rejects.toMatchObject({ stderr: expect.stringContaining('(ExpiredToken) when calling the GetCallerIdentity operation: The security token included in the request is expired') });
  });

  it('no secret handed to a step is in any line the stack wrote', () => {
    expect(secrets.size).toBeGreaterThan(0);
    const written = output!.text();
    output!.restore();
    output = undefined;
    for (const secret of secrets) expect(written).not.toContain(secret);
  });
});

describe('a broken prerequisite fails the job as EMR would; restored, jobs run again', () => {
  const nodeArn = () => `arn:aws:sts::${ACCOUNT}:assumed-role/EMR_EC2_DefaultRole/i-`;

  it("the runtime role's trust broken (UpdateAssumeRolePolicy): the next job FAILED, naming the role and IAM's denial, in GET /jobs/{id}, emr-gateway status and the step's stderr", async () => {
    const client = iam();
    const original = decodeURIComponent((await client.send(new GetRoleCommand({ RoleName: 'CallerTeamRoleETL' }))).Role!.AssumeRolePolicyDocument!);
    const broken = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/emr-gateway-submitter` }, Action: 'sts:AssumeRole' }] };
    await client.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'CallerTeamRoleETL', PolicyDocument: JSON.stringify(broken) }));
    try {
      const job = await aliceRuns(['bash', '-c', 'echo ran; touch /dev/null']);
      expect(job.status).toBe('FAILED');
      expect(job.failureDetails?.reason).toContain(ETL);
      expect(job.failureDetails?.message).toContain(`${nodeArn()}`);
      expect(job.failureDetails?.message).toMatch(new RegExp(`User: arn:aws:sts::${ACCOUNT}:assumed-role/EMR_EC2_DefaultRole/i-[0-9a-f]{17} is not authorized to perform: sts:AssumeRole on resource: ${ETL}`));
      expect(job.failureDetails?.logFile).toContain(`${job.step.id}/stderr`);
      // The step never ran: its stderr says why, its stdout is empty.
      expect(await logOf(job.step.id!, 'stderr')).toContain(`is not authorized to perform: sts:AssumeRole on resource: ${ETL}`);
      expect(await logOf(job.step.id!)).toBe('');
      expect(stack.emr.steps.get(job.step.id!)?.state).toBe('FAILED');
      expect(stack.emr.steps.get(job.step.id!)?.pid).toBeUndefined();

      const env = { PATH: process.env.PATH, HOME: process.env.HOME, EMR_GATEWAY_ENDPOINT: stack.apiUrl, AWS_REGION: stack.region, AWS_ACCESS_KEY_ID: KEYS.alice.accessKeyId, AWS_SECRET_ACCESS_KEY: KEYS.alice.secretAccessKey };
      // Not spawnSync: the stack answering it runs in this process.
      const status = await promisify(execFile)(process.execPath, [resolve(__dirname, '../../bin/emr-gateway.js'), 'status', job.jobId], { encoding: 'utf8', env, timeout: 30_000 }).catch((e: { stdout: string }) => e);
      expect(status.stdout).toMatch(/^Status +FAILED$/m);
      expect(status.stdout).toMatch(new RegExp(`^Failure +.*CallerTeamRoleETL.*is not authorized to perform: sts:AssumeRole on resource: ${ETL}`, 'm'));
    } finally {
      await client.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'CallerTeamRoleETL', PolicyDocument: original }));
    }
    // The cluster went on: restored, the next job runs as the role.
    const again = await aliceRuns([process.execPath, '-e', sdkStep(ETL)]);
    expect(again.status).toBe('COMPLETED');
    expect(identityIn(await logOf(again.step.id!)).Arn).toContain('assumed-role/CallerTeamRoleETL/');
    client.destroy();
  });

  it("the instance profile role's AllowRuntimeRoleUsage deleted (DeleteRolePolicy): FAILED, propagating alice's source identity is refused; put back, it runs", async () => {
    const client = iam();
    const policy = decodeURIComponent((await client.send(new GetRolePolicyCommand({ RoleName: 'EMR_EC2_DefaultRole', PolicyName: 'AllowRuntimeRoleUsage' }))).PolicyDocument!);
    await client.send(new DeleteRolePolicyCommand({ RoleName: 'EMR_EC2_DefaultRole', PolicyName: 'AllowRuntimeRoleUsage' }));
    try {
      const job = await aliceRuns(['true']);
      expect(job.status).toBe('FAILED');
      expect(job.failureDetails?.reason).toContain(ETL);
      expect(job.failureDetails?.message).toMatch(new RegExp(`User: arn:aws:sts::${ACCOUNT}:assumed-role/EMR_EC2_DefaultRole/i-[0-9a-f]{17} is not authorized to perform: sts:SetSourceIdentity on resource: ${ETL}`));
    } finally {
      await client.send(new PutRolePolicyCommand({ RoleName: 'EMR_EC2_DefaultRole', PolicyName: 'AllowRuntimeRoleUsage', PolicyDocument: policy }));
    }
    expect((await aliceRuns(['true'])).status).toBe('COMPLETED');
    client.destroy();
  });
});

describe('a restart', () => {
  it("a step pending at the stop starts after the restart with credentials of the new stack's STS; a key of the old stack is no credential now", async () => {
    // The legacy cluster runs one step at a time: the second waits, PENDING, while the first sleeps.
    const emr = new EMRClient({ region: 'us-east-1', endpoint: stack.awsUrl, credentials: ADMIN });
    const { StepIds } = await emr.send(
      new AddJobFlowStepsCommand({
        JobFlowId: LEGACY,
        Steps: [
          { Name: 'holds the slot', HadoopJarStep: { Jar: 'command-runner.jar', Args: ['sleep', '300'] } },
          { Name: 'after the restart', HadoopJarStep: { Jar: 'command-runner.jar', Args: [process.execPath, '-e', sdkStep(ETL)] } },
        ],
      }),
    );
    emr.destroy();
    const [sleeper, pending] = [StepIds![0]!, StepIds![1]!];
    await until(() => Promise.resolve(stack.emr.steps.get(sleeper)!.pid ? true : undefined));
    const before = await aliceRuns([process.execPath, '-e', sdkStep(ETL)]);
    const old = sessionOf(await logOf(before.step.id!));
    await stack.stop();
    expect(stack.emr.steps.get(pending)!.state).toBe('PENDING');

    stack = await startStack(dataDir);
    alice = clientFor(stack, 'alice');
    await until(() => Promise.resolve(['COMPLETED', 'FAILED'].includes(stack.emr.steps.get(pending)!.state) ? true : undefined), 60_000);
    const log = await logOf(pending);
    expect({ state: stack.emr.steps.get(pending)!.state, log }).toMatchObject({ state: 'COMPLETED' });
    expect(identityIn(log).Arn).toMatch(/assumed-role\/EMR_EC2_DefaultRole\/i-[0-9a-f]{17}$/);
    expect(stack.emr.steps.get(sleeper)!.state).toBe('INTERRUPTED');

    // The old stack's sessions were in its memory only: their keys are none of this STS's.
    const sts = new STSClient({ region: 'us-east-1', endpoint: stack.awsUrl, credentials: { accessKeyId: old.accessKeyId, secretAccessKey: old.secretAccessKey, sessionToken: old.sessionToken } });
    await expect(sts.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name: 'InvalidClientTokenId' });
    sts.destroy();
    // A job after the restart runs as its runtime role again.
    const after = await aliceRuns([process.execPath, '-e', sdkStep(ETL)]);
    expect(after.status).toBe('COMPLETED');
    expect(sessionOf(await logOf(after.step.id!))).toMatchObject({ roleArn: ETL, sourceIdentity: 'alice' });
  });
});
