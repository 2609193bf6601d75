/**
 * The local IAM and STS against clients the project did not write: the AWS CLI v2 (Debian's, /usr/bin/aws) and the
 * AWS SDK v3 (@aws-sdk/client-iam, @aws-sdk/client-sts), with --endpoint-url / endpoint on the local AWS port.
 * The seeded runtime-role setup as IAM shows it; the instance profile role (EC2's credentials of an EMR node)
 * assuming a runtime role, refused once `aws iam update-assume-role-policy` breaks its trust and allowed again
 * once restored; the gateway's own flow on the seeded roles; and every change kept over a restart of the stack.
 * The AWS CLI tests are skipped, with the reason printed, where it is not installed.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolesCommand,
  paginateListRoles,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { externalIdFor } from '../../src/local/emr/external-id';
import type { LocalStack } from '../../src/local/stack';
import { AWS_CLI, awsCliEnv, type AwsKeys } from '../support/aws-cli';
import { clientFor, finished, KEYS, newDataDir, startStack } from '../support/local-stack';

jest.setTimeout(120_000);

const AWS = AWS_CLI;
const hasCli = existsSync(AWS);
if (!hasCli) console.warn(`SKIPPED: the AWS CLI parts of the IAM/STS tests: ${AWS} is not installed (apt-get install -y awscli)`);
const itCli = hasCli ? it : it.skip;

const ACCOUNT = '123456789012';
const CLUSTER = 'j-2AXXXXXXGAPLF';
const ETL = `arn:aws:iam::${ACCOUNT}:role/CallerTeamRoleETL`;
const INSTANCE_PROFILE = `arn:aws:iam::${ACCOUNT}:role/EMR_EC2_DefaultRole`;
/** A long-term key the stack does not know: the account root, as any such key on the local AWS port. */
const ADMIN = { accessKeyId: 'AKIALOCALCLI00000000', secretAccessKey: 'local-cli-secret' };

type Keys = AwsKeys;

let stack: LocalStack;
const dataDir = newDataDir();

/** `aws ... --output json` against the local port, signed with `keys`; rejects with stderr on a non-zero exit. */
function aws(keys: Keys, ...args: string[]): Promise<Record<string, unknown>> {
  const env = awsCliEnv(keys);
  return new Promise((resolve, reject) =>
    execFile(AWS, ['--endpoint-url', stack.awsUrl, '--output', 'json', ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`aws ${args.slice(0, 2).join(' ')} failed: ${stderr || error.message}`));
      else resolve(stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : {});
    }),
  );
}

/** The credentials EC2 gives an EMR node of the analytics cluster (its instance profile role's session). */
function instanceKeys(): Keys {
  const session = stack.sts.instanceProfileSession(INSTANCE_PROFILE, 'i-0abc');
  return { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken };
}
/** The ExternalId of the analytics cluster's security configuration. */
function externalId(): string {
  const name = stack.emr.clusters.get(CLUSTER)!.securityConfiguration!;
  return externalIdFor(stack.emr.securityConfigurations.get(name)!, ACCOUNT)!;
}
const iamClient = (keys: Keys = ADMIN) => new IAMClient({ region: 'us-east-1', endpoint: stack.awsUrl, credentials: keys });
const stsClient = (keys: Keys) => new STSClient({ region: 'us-east-1', endpoint: stack.awsUrl, credentials: keys });

beforeAll(async () => {
  stack = await startStack(dataDir);
});
afterAll(() => stack?.stop());

describe('the seeded runtime-role setup, as IAM shows it', () => {
  itCli('aws iam get-role: the catalogue role trusts the instance profile role with the ExternalId; get-role-policy: AllowRuntimeRoleUsage', async () => {
    const { Role } = (await aws(ADMIN, 'iam', 'get-role', '--role-name', 'CallerTeamRoleETL')) as { Role: Record<string, unknown> };
    expect(Role).toMatchObject({ RoleName: 'CallerTeamRoleETL', Path: '/', Arn: ETL, MaxSessionDuration: 3600, RoleId: expect.stringMatching(/^AROA[A-Z2-7]{17}$/) });
    // The AWS CLI decodes IAM's URL-encoded documents: an object means the wire was IAM's.
    expect(Role.AssumeRolePolicyDocument).toMatchObject({ Statement: [{ Sid: 'AllowAssumeRole', Principal: { AWS: INSTANCE_PROFILE }, Condition: { StringEquals: { 'sts:ExternalId': externalId() } } }, { Sid: 'AllowSetSourceIdentity' }] });
    const names = (await aws(ADMIN, 'iam', 'list-role-policies', '--role-name', 'EMR_EC2_DefaultRole')) as { PolicyNames: string[] };
    expect(names.PolicyNames).toEqual(['AllowRuntimeRoleUsage']);
    const policy = (await aws(ADMIN, 'iam', 'get-role-policy', '--role-name', 'EMR_EC2_DefaultRole', '--policy-name', 'AllowRuntimeRoleUsage')) as { PolicyDocument: { Statement: { Sid: string; Resource: string[] }[] } };
    expect(policy.PolicyDocument.Statement.map((s) => s.Sid)).toEqual(['AllowRuntimeRoleUsage', 'PropagateSourceIdentity']);
    expect(policy.PolicyDocument.Statement[0]!.Resource).toContain(ETL);
    await expect(aws(ADMIN, 'iam', 'get-role', '--role-name', 'NoSuchRole')).rejects.toThrow(/NoSuchEntity.*The role with name NoSuchRole cannot be found/s);
  });

  itCli("the cluster as EMR describes it (its instance profile, release, applications, security configuration with EMR's ExternalId) and its instance profile as IAM shows it", async () => {
    const { Cluster } = (await aws(ADMIN, 'emr', 'describe-cluster', '--cluster-id', CLUSTER)) as { Cluster: Record<string, unknown> & { Ec2InstanceAttributes: { IamInstanceProfile: string }; SecurityConfiguration: string } };
    expect(Cluster).toMatchObject({ ReleaseLabel: 'emr-7.5.0', Applications: [{ Name: 'Spark' }, { Name: 'Hive' }, { Name: 'Livy' }], Ec2InstanceAttributes: { IamInstanceProfile: 'EMR_EC2_DefaultRole' }, SecurityConfiguration: `emr-gateway-${CLUSTER}` });
    const described = (await aws(ADMIN, 'emr', 'describe-security-configuration', '--name', Cluster.SecurityConfiguration)) as { SecurityConfiguration: string };
    expect(JSON.parse(described.SecurityConfiguration)).toMatchObject({ AuthorizationConfiguration: { IAMConfiguration: { EnableApplicationScopedIAMRole: true, ApplicationScopedIAMRoleConfiguration: { PropagateSourceIdentity: true, ExternalId: externalId() } } } });
    const { InstanceProfile } = (await aws(ADMIN, 'iam', 'get-instance-profile', '--instance-profile-name', Cluster.Ec2InstanceAttributes.IamInstanceProfile)) as { InstanceProfile: { Roles: { Arn: string }[]; InstanceProfileId: string } };
    expect(InstanceProfile.InstanceProfileId).toMatch(/^AIPA/);
    expect(InstanceProfile.Roles.map((r) => r.Arn)).toEqual([INSTANCE_PROFILE]);
  });

  itCli('aws sts get-caller-identity as the instance profile role and as the account root: the UserIds STS gives', async () => {
    const roleId = stack.iam.getRole('EMR_EC2_DefaultRole').id;
    expect(await aws(instanceKeys(), 'sts', 'get-caller-identity')).toEqual({ UserId: `${roleId}:i-0abc`, Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/EMR_EC2_DefaultRole/i-0abc` });
    expect(await aws(ADMIN, 'sts', 'get-caller-identity')).toEqual({ UserId: ACCOUNT, Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:root` });
  });
});

describe('a broken trust policy, with the AWS CLI', () => {
  itCli('assume-role as the instance profile role: allowed; AccessDenied once update-assume-role-policy drops the instance profile; allowed once restored', async () => {
    const ec2 = instanceKeys();
    const assume = () => aws(ec2, 'sts', 'assume-role', '--role-arn', ETL, '--role-session-name', 'emr-step', '--external-id', externalId(), '--source-identity', 'alice');
    const allowed = (await assume()) as { Credentials: Keys & { AccessKeyId: string; SecretAccessKey: string; SessionToken: string }; SourceIdentity: string; AssumedRoleUser: { Arn: string } };
    expect(allowed).toMatchObject({ SourceIdentity: 'alice', AssumedRoleUser: { Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/CallerTeamRoleETL/emr-step` } });
    const step = { accessKeyId: allowed.Credentials.AccessKeyId, secretAccessKey: allowed.Credentials.SecretAccessKey, sessionToken: allowed.Credentials.SessionToken };
    expect(await aws(step, 'sts', 'get-caller-identity')).toMatchObject({ Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/CallerTeamRoleETL/emr-step` });

    const { Role } = (await aws(ADMIN, 'iam', 'get-role', '--role-name', 'CallerTeamRoleETL')) as { Role: { AssumeRolePolicyDocument: unknown } };
    const original = JSON.stringify(Role.AssumeRolePolicyDocument);
    const broken = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/emr-gateway-submitter` }, Action: 'sts:AssumeRole' }] };
    await aws(ADMIN, 'iam', 'update-assume-role-policy', '--role-name', 'CallerTeamRoleETL', '--policy-document', JSON.stringify(broken));
    await expect(assume()).rejects.toThrow(
      `An error occurred (AccessDenied) when calling the AssumeRole operation: User: arn:aws:sts::${ACCOUNT}:assumed-role/EMR_EC2_DefaultRole/i-0abc is not authorized to perform: sts:AssumeRole on resource: ${ETL}`,
    );
    // Without the ExternalId the documentation's trust policy refuses too.
    await aws(ADMIN, 'iam', 'update-assume-role-policy', '--role-name', 'CallerTeamRoleETL', '--policy-document', original);
    await expect(aws(ec2, 'sts', 'assume-role', '--role-arn', ETL, '--role-session-name', 'emr-step')).rejects.toThrow(/AccessDenied/);
    expect(await assume()).toMatchObject({ SourceIdentity: 'alice' });
    await expect(aws(ADMIN, 'iam', 'update-assume-role-policy', '--role-name', 'CallerTeamRoleETL', '--policy-document', '{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*"}]}')).rejects.toThrow(
      /MalformedPolicyDocument.*AssumeRole policy may only specify STS AssumeRole actions/s,
    );
  });
});

describe('with the AWS SDK v3', () => {
  it('IAM: CreateRole, GetRole (URL-encoded document), PutRolePolicy/GetRolePolicy, CreatePolicy/Attach/ListAttached, ListRoles pages; its error classes', async () => {
    const iam = iamClient();
    const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: INSTANCE_PROFILE }, Action: 'sts:AssumeRole' }] });
    const { Role } = await iam.send(new CreateRoleCommand({ RoleName: 'FromTheSdk', Path: '/sdk/', AssumeRolePolicyDocument: trust, Tags: [{ Key: 'team', Value: 'a' }] }));
    expect(Role).toMatchObject({ RoleName: 'FromTheSdk', Path: '/sdk/', Arn: `arn:aws:iam::${ACCOUNT}:role/sdk/FromTheSdk`, CreateDate: expect.any(Date) });
    const got = (await iam.send(new GetRoleCommand({ RoleName: 'FromTheSdk' }))).Role!;
    expect(decodeURIComponent(got.AssumeRolePolicyDocument!)).toBe(trust);
    expect(got).toMatchObject({ MaxSessionDuration: 3600, RoleId: Role!.RoleId, Tags: [{ Key: 'team', Value: 'a' }], RoleLastUsed: {} });
    await expect(iam.send(new CreateRoleCommand({ RoleName: 'fromthesdk', AssumeRolePolicyDocument: trust }))).rejects.toMatchObject({ name: 'EntityAlreadyExistsException', $metadata: { httpStatusCode: 409 } });
    await expect(iam.send(new GetRoleCommand({ RoleName: 'Nobody' }))).rejects.toMatchObject({ name: 'NoSuchEntityException', $metadata: { httpStatusCode: 404 } });
    await expect(iam.send(new CreateRoleCommand({ RoleName: 'Bad', AssumeRolePolicyDocument: '{' }))).rejects.toMatchObject({ name: 'MalformedPolicyDocumentException' });

    const inline = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::bucket/*' }] });
    await iam.send(new PutRolePolicyCommand({ RoleName: 'FromTheSdk', PolicyName: 'read', PolicyDocument: inline }));
    expect(decodeURIComponent((await iam.send(new GetRolePolicyCommand({ RoleName: 'FromTheSdk', PolicyName: 'read' }))).PolicyDocument!)).toBe(inline);
    const { Policy } = await iam.send(new CreatePolicyCommand({ PolicyName: 'sdk-managed', PolicyDocument: inline }));
    expect(Policy).toMatchObject({ DefaultVersionId: 'v1', AttachmentCount: 0, IsAttachable: true, PolicyId: expect.stringMatching(/^ANPA/) });
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'FromTheSdk', PolicyArn: Policy!.Arn }));
    expect((await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'FromTheSdk' }))).AttachedPolicies).toEqual([{ PolicyName: 'sdk-managed', PolicyArn: Policy!.Arn }]);

    const firstPage = await iam.send(new ListRolesCommand({ MaxItems: 2 }));
    expect(firstPage).toMatchObject({ IsTruncated: true, Marker: expect.any(String) });
    const all: string[] = [];
    for await (const page of paginateListRoles({ client: iam, pageSize: 3 }, {})) all.push(...(page.Roles ?? []).map((r) => r.RoleName!));
    expect(all).toEqual(expect.arrayContaining(['EMR_EC2_DefaultRole', 'CallerTeamRoleETL', 'FromTheSdk', 'emr-gateway-submitter']));
    expect(new Set(all).size).toBe(all.length);
  });

  it("STS: AssumeRole as the instance profile role; the runtime role's session; AccessDenied as a principal the trust policy does not name", async () => {
    const out = await stsClient(instanceKeys()).send(new AssumeRoleCommand({ RoleArn: ETL, RoleSessionName: 'sdk-step', ExternalId: externalId(), SourceIdentity: 'alice' }));
    expect(out).toMatchObject({ SourceIdentity: 'alice', AssumedRoleUser: { Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/CallerTeamRoleETL/sdk-step` }, Credentials: { Expiration: expect.any(Date) } });
    const c = out.Credentials!;
    const who = await stsClient({ accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! }).send(new GetCallerIdentityCommand({}));
    expect(who.UserId).toBe(`${stack.iam.getRole('CallerTeamRoleETL').id}:sdk-step`);
    await expect(stsClient(KEYS.alice).send(new AssumeRoleCommand({ RoleArn: ETL, RoleSessionName: 'alice', ExternalId: externalId() }))).rejects.toMatchObject({
      name: 'AccessDenied',
      message: `User: arn:aws:sts::${ACCOUNT}:assumed-role/DataTeamA/alice is not authorized to perform: sts:AssumeRole on resource: ${ETL}`,
      $metadata: { httpStatusCode: 403 },
    });
    await expect(stsClient(ADMIN).send(new AssumeRoleCommand({ RoleArn: ETL, RoleSessionName: 'root' }))).rejects.toMatchObject({ name: 'AccessDenied', message: 'Roles may not be assumed by root accounts.' });
  });
});

describe('the gateway on the seeded roles, and a restart', () => {
  it("alice's job on the analytics cluster completes: the gateway assumes its submitter role with her source identity", async () => {
    const alice = clientFor(stack, 'alice');
    const { jobId } = await alice.submit({ clusterId: CLUSTER, executionRoleArn: ETL, name: 'on seeded IAM', step: { type: 'command', args: ['true'] } });
    const job = await finished(alice, jobId);
    expect(job).toMatchObject({ status: 'COMPLETED', caller: { sourceIdentity: 'alice' } });
    // The step was added by a session of the submitter role that carried her source identity (EMR propagates it).
    expect(stack.emr.steps.get(job.step.id!)?.sourceIdentity).toBe('alice');
  });

  it('changes made through the IAM API outlast a restart; the seeding does not undo them', async () => {
    const iam = iamClient();
    const broken = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/emr-gateway-submitter` }, Action: 'sts:AssumeRole' }] });
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'CallerTeamRoleReporting', PolicyDocument: broken }));
    const before = (await iam.send(new GetRoleCommand({ RoleName: 'FromTheSdk' }))).Role!.RoleId;
    iam.destroy();
    await stack.stop();
    stack = await startStack(dataDir);
    const again = iamClient();
    expect((await again.send(new GetRoleCommand({ RoleName: 'FromTheSdk' }))).Role!.RoleId).toBe(before);
    expect(decodeURIComponent((await again.send(new GetRoleCommand({ RoleName: 'CallerTeamRoleReporting' }))).Role!.AssumeRolePolicyDocument!)).toBe(broken);
    expect((await again.send(new ListAttachedRolePoliciesCommand({ RoleName: 'FromTheSdk' }))).AttachedPolicies).toHaveLength(1);
    // The broken trust still decides: the instance profile may not assume the role now.
    await expect(stsClient(instanceKeys()).send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/CallerTeamRoleReporting`, RoleSessionName: 's1', ExternalId: externalId() }))).rejects.toMatchObject({ name: 'AccessDenied' });
    again.destroy();
  });
});
