/**
 * The AWS CLI (Debian's awscli at /usr/bin/aws, v2) against the local AWS endpoint: EMR, DynamoDB, Step
 * Functions, KMS, STS and S3 (s3api and the high-level s3 commands) speak the real protocols; and every `aws`
 * command of the README's local sections runs as written there, with only the environment the README gives.
 * Every response the stack sends here is also checked against AWS's models (test/support/local-stack.ts).
 * Skipped, with the reason printed, where the AWS CLI is not installed (.ci/run installs it).
 */
import { execFile } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { LocalStack } from '../../src/local/stack';
import { AWS_CLI, awsCliEnv } from '../support/aws-cli';
import { clientFor, finished, newDataDir, startStack, until } from '../support/local-stack';

jest.setTimeout(90_000);

const AWS = AWS_CLI;
const present = existsSync(AWS);
if (!present) console.warn(`SKIPPED: AWS CLI tests: ${AWS} is not installed (apt-get install -y awscli)`);
const describeIf = present ? describe : describe.skip;

const CLUSTER = 'j-2AXXXXXXGAPLF';
const ETL = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';

let stack: LocalStack;
const dataDir = newDataDir();

/** What the AWS CLI prints (s3 ls and s3 cp print text, not JSON). */
function awsText(...args: string[]): Promise<string> {
  const env = awsCliEnv({ accessKeyId: 'AKIALOCALCLI00000000', secretAccessKey: 'local-cli-secret' });
  return new Promise((resolve, reject) =>
    execFile(AWS, ['--endpoint-url', stack.awsUrl, '--output', 'json', ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`aws ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(stdout);
    }),
  );
}

async function aws(...args: string[]): Promise<Record<string, unknown>> {
  const stdout = await awsText(...args);
  return stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : {};
}

describeIf('the AWS CLI against the local endpoint', () => {
  beforeAll(async () => {
    stack = await startStack(dataDir);
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

  it('emr describe-cluster (DescribeCluster, ListInstanceGroups, ListBootstrapActions); list-steps newest first; an unknown step state refused as EMR refuses it', async () => {
    const described = (await aws('emr', 'describe-cluster', '--cluster-id', CLUSTER)) as { Cluster: { Id: string; InstanceGroups: { InstanceGroupType: string }[]; BootstrapActions: unknown[] } };
    expect(described.Cluster).toMatchObject({ Id: CLUSTER, BootstrapActions: [] });
    expect(described.Cluster.InstanceGroups.map((g) => g.InstanceGroupType)).toEqual(['MASTER', 'CORE']);
    const { StepIds } = (await aws('emr', 'add-steps', '--cluster-id', CLUSTER, '--execution-role-arn', ETL, '--steps', 'Type=CUSTOM_JAR,Name=one,Jar=command-runner.jar,Args=[true]', 'Type=CUSTOM_JAR,Name=two,Jar=command-runner.jar,Args=[true]')) as { StepIds: string[] };
    const listed = (await aws('emr', 'list-steps', '--cluster-id', CLUSTER)) as { Steps: { Id: string }[] };
    expect(listed.Steps.slice(0, 2).map((s) => s.Id)).toEqual([...StepIds].reverse());
    await expect(aws('emr', 'list-steps', '--cluster-id', CLUSTER, '--step-states', 'DONE')).rejects.toThrow(/ValidationException.*enum value set/s);
  });

  it('stepfunctions describe-state-machine and get-execution-history as Step Functions writes them; dynamodb describe-table; events put-events', async () => {
    const machine = (await aws('stepfunctions', 'describe-state-machine', '--state-machine-arn', 'arn:aws:states:us-east-1:123456789012:stateMachine:emr-gateway-submit-job')) as { definition: string; roleArn: string; creationDate: string };
    expect(machine.definition).not.toContain('${');
    expect(machine.definition).toContain('"arn:aws:lambda:us-east-1:123456789012:function:emr-gateway-SubmitStep"');
    expect(machine.roleArn).toMatch(/^arn:aws:iam::123456789012:role\//);
    expect(new Date(machine.creationDate).getFullYear()).toBeGreaterThanOrEqual(2025);
    const alice = clientFor(stack, 'alice');
    const { jobId } = await alice.submit({ clusterId: CLUSTER, executionRoleArn: ETL, name: 'history', step: { type: 'command', args: ['true'] } });
    await finished(alice, jobId);
    const executionArn = `arn:aws:states:us-east-1:123456789012:execution:emr-gateway-submit-job:${jobId}`;
    await until(async () => (((await aws('stepfunctions', 'describe-execution', '--execution-arn', executionArn)) as { status: string }).status === 'SUCCEEDED' ? true : undefined));
    const history = (await aws('stepfunctions', 'get-execution-history', '--execution-arn', executionArn)) as { events: { type: string; id: number; previousEventId: number }[] };
    const types = history.events.map((e) => e.type);
    expect(types.slice(0, 6)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'LambdaFunctionScheduled', 'LambdaFunctionStarted', 'LambdaFunctionSucceeded', 'TaskStateExited']);
    expect(history.events.every((e, i) => e.id === i + 1 && e.previousEventId === i)).toBe(true);
    const table = (await aws('dynamodb', 'describe-table', '--table-name', 'emr-gateway-jobs')) as { Table: { TableArn: string } };
    expect(table.Table.TableArn).toBe('arn:aws:dynamodb:us-east-1:123456789012:table/emr-gateway-jobs');
    const put = (await aws('events', 'put-events', '--entries', JSON.stringify([{ Source: 'cli.test', DetailType: 'x', Detail: 'not json' }]))) as { Entries: { ErrorCode?: string }[] };
    expect(put.Entries[0]?.ErrorCode).toBe('MalformedDetail');
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

  it("dynamodb query of a principal's denials chain: where an operator reads every denied read of a role", async () => {
    const alice = clientFor(stack, 'alice');
    const { jobId } = await alice.submit({ clusterId: CLUSTER, executionRoleArn: ETL, name: 'not for carol', step: { type: 'command', args: ['true'] } });
    await expect(clientFor(stack, 'carol').getJob(jobId)).rejects.toMatchObject({ status: 403 });
    const chain = 'denials:arn:aws:iam::123456789012:role/Contractors';
    const out = (await aws('dynamodb', 'query', '--table-name', 'emr-gateway-audit', '--key-condition-expression', 'jobId = :c', '--expression-attribute-values', JSON.stringify({ ':c': { S: chain } }))) as {
      Items: { type?: { S?: string }; subject?: { M?: { jobId?: { S?: string } } }; actor?: { M?: { callerArn?: { S?: string } } } }[];
    };
    expect(out.Items.map((i) => [i.type?.S, i.subject?.M?.jobId?.S, i.actor?.M?.callerArn?.S])).toContainEqual(['READ_DENIED', jobId, 'arn:aws:sts::123456789012:assumed-role/Contractors/carol']);
  });

  it('kms describe-key, generate-mac and verify-mac with the audit key (HMAC-SHA-256 of the bytes given); create-key; KMS errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emr-gateway-kms-'));
    const file = (name: string, data: string | Buffer): string => {
      writeFileSync(join(dir, name), data);
      return `fileb://${join(dir, name)}`;
    };
    const message = file('message', 'an audit event hash');
    const key = stack.auditKeyArn;
    const described = (await aws('kms', 'describe-key', '--key-id', 'alias/emr-gateway-audit')) as { KeyMetadata: Record<string, unknown> };
    expect(described.KeyMetadata).toMatchObject({ Arn: key, KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', KeyState: 'Enabled', Enabled: true, MacAlgorithms: ['HMAC_SHA_256'] });
    const generated = (await aws('kms', 'generate-mac', '--key-id', key, '--message', message, '--mac-algorithm', 'HMAC_SHA_256')) as { Mac: string; KeyId: string; MacAlgorithm: string };
    expect(generated).toMatchObject({ KeyId: key, MacAlgorithm: 'HMAC_SHA_256' });
    // The key material in the data directory: the MAC is exactly HMAC-SHA-256 of the message's bytes.
    const store = JSON.parse(readFileSync(join(dataDir, 'kms', 'keys.json'), 'utf8')) as { keys: { arn: string; material: string }[] };
    const material = Buffer.from(store.keys.find((k) => k.arn === key)!.material, 'base64');
    expect(generated.Mac).toBe(createHmac('sha256', material).update('an audit event hash').digest('base64'));
    const mac = file('mac', Buffer.from(generated.Mac, 'base64'));
    expect(await aws('kms', 'verify-mac', '--key-id', key, '--message', message, '--mac', mac, '--mac-algorithm', 'HMAC_SHA_256')).toEqual({ KeyId: key, MacValid: true, MacAlgorithm: 'HMAC_SHA_256' });
    await expect(aws('kms', 'verify-mac', '--key-id', key, '--message', file('other', 'another hash'), '--mac', mac, '--mac-algorithm', 'HMAC_SHA_256')).rejects.toThrow(/KMSInvalidMacException/);
    await expect(aws('kms', 'generate-mac', '--key-id', key, '--message', message, '--mac-algorithm', 'HMAC_SHA_512')).rejects.toThrow(/InvalidKeyUsageException/);
    await expect(aws('kms', 'generate-mac', '--key-id', 'alias/no-such-key', '--message', message, '--mac-algorithm', 'HMAC_SHA_256')).rejects.toThrow(/NotFoundException/);
    const created = (await aws('kms', 'create-key', '--key-spec', 'HMAC_384', '--key-usage', 'GENERATE_VERIFY_MAC', '--description', 'from the AWS CLI')) as { KeyMetadata: { Arn: string; KeyId: string; Description: string } };
    expect(created.KeyMetadata).toMatchObject({ Arn: expect.stringMatching(/^arn:aws:kms:us-east-1:123456789012:key\/[0-9a-f-]{36}$/), Description: 'from the AWS CLI' });
    expect(created.KeyMetadata.Arn).not.toBe(key);
    await expect(aws('kms', 'create-key', '--key-spec', 'SYMMETRIC_DEFAULT')).rejects.toThrow(/UnsupportedOperationException/);
  });

  it('sts assume-role is decided as STS decides: this key (any the stack does not know: the account root) may assume no role', async () => {
    // The runtime roles trust the instance profile role with the ExternalId; that path is e2e/iam-sts.test.ts.
    await expect(aws('sts', 'assume-role', '--role-arn', ETL, '--role-session-name', 'cli', '--source-identity', 'alice')).rejects.toThrow(
      /AccessDenied\) when calling the AssumeRole operation: Roles may not be assumed by root accounts\./,
    );
  });

  describe('S3', () => {
    const dir = mkdtempSync(join(tmpdir(), 'emr-gateway-s3-cli-'));
    const local = (name: string, data?: string): string => {
      if (data !== undefined) writeFileSync(join(dir, name), data);
      return join(dir, name);
    };
    const md5 = (data: string): string => createHash('md5').update(data).digest('hex');

    it('s3api create-bucket, put-object (content type, metadata), list-objects-v2, head-object, get-object; NoSuchKey, NoSuchBucket', async () => {
      expect(await aws('s3api', 'create-bucket', '--bucket', 'cli-step-logs')).toEqual({ Location: '/cli-step-logs' });
      const body = 'step output\nline two\n';
      const put = (await aws('s3api', 'put-object', '--bucket', 'cli-step-logs', '--key', 'logs/j-1/s-1/stdout', '--body', local('stdout', body), '--content-type', 'text/plain', '--metadata', 'job=job-1')) as { ETag: string };
      expect(put.ETag).toBe(`"${md5(body)}"`);
      // --no-paginate: the CLI's paginator merges the pages and drops KeyCount
      const listed = (await aws('s3api', 'list-objects-v2', '--bucket', 'cli-step-logs', '--prefix', 'logs/', '--no-paginate')) as { Contents: { Key: string; Size: number; ETag: string }[]; KeyCount: number };
      expect(listed).toMatchObject({ KeyCount: 1, IsTruncated: false, Prefix: 'logs/', Name: 'cli-step-logs' });
      expect(listed.Contents).toEqual([expect.objectContaining({ Key: 'logs/j-1/s-1/stdout', Size: body.length, ETag: put.ETag, StorageClass: 'STANDARD' })]);
      const head = await aws('s3api', 'head-object', '--bucket', 'cli-step-logs', '--key', 'logs/j-1/s-1/stdout');
      expect(head).toMatchObject({ ContentLength: body.length, ContentType: 'text/plain', ETag: put.ETag, Metadata: { job: 'job-1' } });
      const got = await aws('s3api', 'get-object', '--bucket', 'cli-step-logs', '--key', 'logs/j-1/s-1/stdout', local('got'));
      expect(got).toMatchObject({ ContentLength: body.length, ContentType: 'text/plain', ETag: put.ETag, Metadata: { job: 'job-1' } });
      expect(readFileSync(local('got'), 'utf8')).toBe(body);
      const range = await aws('s3api', 'get-object', '--bucket', 'cli-step-logs', '--key', 'logs/j-1/s-1/stdout', '--range', 'bytes=0-3', local('range'));
      expect(range).toMatchObject({ ContentRange: `bytes 0-3/${body.length}` });
      expect(readFileSync(local('range'), 'utf8')).toBe('step');
      await expect(aws('s3api', 'get-object', '--bucket', 'cli-step-logs', '--key', 'logs/missing', local('missing'))).rejects.toThrow(/NoSuchKey/);
      await expect(aws('s3api', 'list-objects-v2', '--bucket', 'cli-no-such-bucket')).rejects.toThrow(/NoSuchBucket/);
      await expect(aws('s3api', 'create-multipart-upload', '--bucket', 'cli-step-logs', '--key', 'big')).rejects.toThrow(/NotImplemented/);
    });

    it('s3 cp up and down, s3 ls of the buckets, of a prefix and recursively', async () => {
      await aws('s3api', 'create-bucket', '--bucket', 'cli-copies');
      const content = 'copied by aws s3 cp\n'.repeat(100);
      expect(await awsText('s3', 'cp', local('upload.txt', content), 's3://cli-copies/dir/upload.txt', '--only-show-errors')).toBe('');
      await awsText('s3', 'cp', local('other.txt', 'x'), 's3://cli-copies/top.txt', '--only-show-errors');
      expect(await awsText('s3', 'cp', 's3://cli-copies/dir/upload.txt', local('download.txt'), '--only-show-errors')).toBe('');
      expect(readFileSync(local('download.txt'), 'utf8')).toBe(content);
      const head = await aws('s3api', 'head-object', '--bucket', 'cli-copies', '--key', 'dir/upload.txt');
      expect(head).toMatchObject({ ContentType: 'text/plain', ETag: `"${md5(content)}"` });
      expect(await awsText('s3', 'ls')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d cli-copies$/m);
      const top = await awsText('s3', 'ls', 's3://cli-copies/');
      expect(top).toMatch(/^\s+PRE dir\/$/m);
      expect(top).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+1 top\.txt$/m);
      const recursive = await awsText('s3', 'ls', '--recursive', 's3://cli-copies/');
      expect(recursive.trim().split('\n').map((line) => line.trim().split(/\s+/).slice(2))).toEqual([[String(content.length), 'dir/upload.txt'], ['1', 'top.txt']]);
    });

    it('a bucket with Object Lock and a default rule: put-object-lock-configuration (Content-MD5), then no overwrite, no delete', async () => {
      await aws('s3api', 'create-bucket', '--bucket', 'cli-audit-digests', '--object-lock-enabled-for-bucket');
      const configuration = { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } } };
      await aws('s3api', 'put-object-lock-configuration', '--bucket', 'cli-audit-digests', '--object-lock-configuration', JSON.stringify(configuration));
      expect(await aws('s3api', 'get-object-lock-configuration', '--bucket', 'cli-audit-digests')).toEqual({ ObjectLockConfiguration: configuration });
      expect(await aws('s3api', 'get-bucket-versioning', '--bucket', 'cli-audit-digests')).toEqual({ Status: 'Enabled' });
      const put = (await aws('s3api', 'put-object', '--bucket', 'cli-audit-digests', '--key', 'digest-0001.json', '--body', local('digest.json', '{"head":"abc"}'))) as { VersionId?: string };
      expect(put.VersionId).toBeTruthy();
      const head = await aws('s3api', 'head-object', '--bucket', 'cli-audit-digests', '--key', 'digest-0001.json');
      expect(head).toMatchObject({ ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: expect.any(String) });
      await expect(aws('s3api', 'put-object', '--bucket', 'cli-audit-digests', '--key', 'digest-0001.json', '--body', local('forged.json', '{"head":"forged"}'))).rejects.toThrow(/AccessDenied/);
      await expect(aws('s3api', 'delete-object', '--bucket', 'cli-audit-digests', '--key', 'digest-0001.json')).rejects.toThrow(/AccessDenied/);
      await expect(awsText('s3', 'rm', 's3://cli-audit-digests/digest-0001.json')).rejects.toThrow(/AccessDenied/);
      await aws('s3api', 'get-object', '--bucket', 'cli-audit-digests', '--key', 'digest-0001.json', local('kept.json'));
      expect(readFileSync(local('kept.json'), 'utf8')).toBe('{"head":"abc"}');
    });
  });

  describe("the README's local sections", () => {
    const readme = readFileSync(resolve(__dirname, '../../README.md'), 'utf8');
    const local = readme.slice(readme.indexOf('## Quickstart'), readme.indexOf('## HTTP API'));
    /** Each `aws --endpoint-url ...` command: a line of a code block (with its `\` continuations), or inline code. */
    const commands = [
      ...[...local.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((block) => block[1]!.replace(/\\\n\s*/g, ' ').split('\n')),
      ...[...local.matchAll(/`(aws --endpoint-url [^`]+)`/g)].map((inline) => inline[1]!),
    ]
      .map((line) => line.replace(/\s+/g, ' ').trim())
      .filter((line) => line.startsWith('aws --endpoint-url '));
    /** What the README tells a reader to export before them: the Quickstart's second terminal and the AWS CLI's own. */
    const exports = [...local.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((block) => block[1]!.split('\n')).filter((line) => line.startsWith('export '));

    it('has commands to run, and what to export for them', () => {
      expect(commands.length).toBeGreaterThanOrEqual(5);
      expect(exports.join('\n')).toContain('AWS_ACCESS_KEY_ID=');
    });

    it('every one of them succeeds, as written, with only the exports the README gives', async () => {
      const alice = clientFor(stack, 'alice');
      const { jobId } = await alice.submit({ clusterId: CLUSTER, executionRoleArn: ETL, name: 'for the README', step: { type: 'command', args: ['true'] } });
      await finished(alice, jobId);
      const file = join(mkdtempSync(join(tmpdir(), 'emr-gateway-readme-')), 'message');
      writeFileSync(file, 'an audit event hash');
      const port = new URL(stack.awsUrl).port;
      const env = awsCliEnv();
      const failures: string[] = [];
      for (const command of commands) {
        const script = [...exports, command].join('\n').replaceAll('127.0.0.1:4566', `127.0.0.1:${port}`).replaceAll('JOB_ID', jobId).replaceAll('fileb://FILE', `fileb://${file}`);
        const outcome = await new Promise<string | undefined>((done) =>
          execFile('/bin/bash', ['-c', script], { env, timeout: 60_000 }, (error, _stdout, stderr) => done(error ? `${command}\n    ${stderr.trim() || error.message}` : undefined)),
        );
        if (outcome) failures.push(outcome);
      }
      expect(failures).toEqual([]);
    });
  });
});
