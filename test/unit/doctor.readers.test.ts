/**
 * doctor's SDK adapters, against mocked clients: IAM's URL-encoded documents decoded, every list paginated, managed
 * policies read at their default version, NoSuchEntity / AccessDenied / another account as facts (never thrown);
 * EMR's primary nodes from the MASTER instance group or instance fleet, an unknown cluster as `missing`.
 */
import {
  DescribeClusterCommand,
  DescribeSecurityConfigurationCommand,
  EMRClient,
  InvalidRequestException,
  ListInstanceFleetsCommand,
  ListInstanceGroupsCommand,
} from '@aws-sdk/client-emr';
import {
  GetInstanceProfileCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  IAMServiceException,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { SdkClusterReader } from '../../src/adapters/emr/cluster-reader';
import { decodePolicyDocument, SdkIamReader } from '../../src/adapters/iam/role-reader';

const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/CallerTeamRoleETL`;
const iam = mockClient(IAMClient);
const sts = mockClient(STSClient);
const emr = mockClient(EMRClient);
/** As IAM sends documents: RFC 3986 percent-encoding. */
const encode = (document: unknown) => encodeURIComponent(JSON.stringify(document)).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const doc = (sid: string) => ({ Version: '2012-10-17', Statement: [{ Sid: sid, Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }] });
const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/EMR_EC2_DefaultRole` }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:ExternalId': 'A B+C/é' } } }] };

const reader = () => new SdkIamReader(new IAMClient({ region: 'us-east-1' }), new STSClient({ region: 'us-east-1' }));

beforeEach(() => {
  iam.reset();
  sts.reset();
  emr.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/doctor` });
});

describe('the IAM reader', () => {
  it('reads a role: trust policy, every page of inline and attached policies, managed ones at their default version, documents decoded', async () => {
    iam.on(GetRoleCommand).resolves({ Role: { RoleName: 'CallerTeamRoleETL', Arn: ROLE, RoleId: 'AROAEXAMPLE', Path: '/', CreateDate: new Date(), AssumeRolePolicyDocument: encode(trust) } });
    iam.on(ListRolePoliciesCommand, { RoleName: 'CallerTeamRoleETL' }).resolves({ PolicyNames: ['one'], IsTruncated: true, Marker: 'm1' });
    iam.on(ListRolePoliciesCommand, { RoleName: 'CallerTeamRoleETL', Marker: 'm1' }).resolves({ PolicyNames: ['two'], IsTruncated: false });
    iam.on(GetRolePolicyCommand, { PolicyName: 'one' }).resolves({ RoleName: 'CallerTeamRoleETL', PolicyName: 'one', PolicyDocument: encode(doc('One')) });
    iam.on(GetRolePolicyCommand, { PolicyName: 'two' }).resolves({ RoleName: 'CallerTeamRoleETL', PolicyName: 'two', PolicyDocument: encode(doc('Two')) });
    const managed = `arn:aws:iam::${ACCOUNT}:policy/Managed`;
    iam.on(ListAttachedRolePoliciesCommand, { RoleName: 'CallerTeamRoleETL' }).resolves({ AttachedPolicies: [{ PolicyName: 'Managed', PolicyArn: managed }], IsTruncated: false });
    iam.on(GetPolicyCommand, { PolicyArn: managed }).resolves({ Policy: { PolicyName: 'Managed', Arn: managed, DefaultVersionId: 'v3' } });
    iam.on(GetPolicyVersionCommand, { PolicyArn: managed, VersionId: 'v3' }).resolves({ PolicyVersion: { VersionId: 'v3', IsDefaultVersion: true, Document: encode(doc('Three')) } });

    const read = await reader().role(ROLE);
    expect(read).toEqual({
      ok: true,
      value: {
        arn: ROLE,
        name: 'CallerTeamRoleETL',
        id: 'AROAEXAMPLE',
        trustPolicy: trust,
        policies: [
          { name: 'one', kind: 'inline', document: doc('One') },
          { name: 'two', kind: 'inline', document: doc('Two') },
          { name: 'Managed', kind: 'managed', arn: managed, versionId: 'v3', document: doc('Three') },
        ],
      },
    });
  });

  it('NoSuchEntity is `missing`, AccessDenied `denied`, with the operation and the service message', async () => {
    iam.on(GetRoleCommand).rejects(new NoSuchEntityException({ message: 'The role with name CallerTeamRoleETL cannot be found.', $metadata: {} }));
    expect(await reader().role(ROLE)).toEqual({ ok: false, failure: { kind: 'missing', operation: 'iam:GetRole', resource: ROLE, code: 'NoSuchEntity', message: 'The role with name CallerTeamRoleETL cannot be found.' } });

    iam.reset();
    iam.on(GetRoleCommand).resolves({ Role: { RoleName: 'CallerTeamRoleETL', Arn: ROLE, Path: '/', RoleId: 'AROAEXAMPLE', CreateDate: new Date(), AssumeRolePolicyDocument: encode(trust) } });
    iam.on(ListRolePoliciesCommand).rejects(new IAMServiceException({ name: 'AccessDenied', $fault: 'client', message: 'User: doctor is not authorized to perform: iam:ListRolePolicies', $metadata: {} }));
    const denied = await reader().role(ROLE);
    expect(denied).toMatchObject({ ok: false, failure: { kind: 'denied', operation: 'iam:ListRolePolicies', code: 'AccessDenied' } });
  });

  it('a role of another account is `unreadable` without a call; one found by name at another path is not it', async () => {
    const foreign = await reader().role('arn:aws:iam::210987654321:role/CallerTeamRoleETL');
    expect(foreign).toMatchObject({ ok: false, failure: { kind: 'unreadable', code: 'OtherAccount' } });
    expect(iam.commandCalls(GetRoleCommand)).toHaveLength(0);

    iam.on(GetRoleCommand).resolves({ Role: { RoleName: 'CallerTeamRoleETL', Arn: `arn:aws:iam::${ACCOUNT}:role/team/CallerTeamRoleETL`, Path: '/team/', RoleId: 'AROAEXAMPLE', CreateDate: new Date(), AssumeRolePolicyDocument: encode(trust) } });
    expect(await reader().role(ROLE)).toMatchObject({ ok: false, failure: { kind: 'missing', message: expect.stringMatching(/at another path/) } });
  });

  it('an instance profile and its roles', async () => {
    iam.on(GetInstanceProfileCommand, { InstanceProfileName: 'EMR_EC2_DefaultRole' }).resolves({
      InstanceProfile: {
        InstanceProfileName: 'EMR_EC2_DefaultRole',
        Arn: `arn:aws:iam::${ACCOUNT}:instance-profile/EMR_EC2_DefaultRole`,
        Path: '/',
        InstanceProfileId: 'AIPAEXAMPLE',
        CreateDate: new Date(),
        Roles: [{ RoleName: 'EMR_EC2_DefaultRole', Arn: `arn:aws:iam::${ACCOUNT}:role/EMR_EC2_DefaultRole`, Path: '/', RoleId: 'AROA', CreateDate: new Date() }],
      },
    });
    expect(await reader().instanceProfile('EMR_EC2_DefaultRole')).toEqual({
      ok: true,
      value: { name: 'EMR_EC2_DefaultRole', arn: `arn:aws:iam::${ACCOUNT}:instance-profile/EMR_EC2_DefaultRole`, roleArns: [`arn:aws:iam::${ACCOUNT}:role/EMR_EC2_DefaultRole`] },
    });
  });

  it('documents: URL-encoded as IAM sends them, or plain', () => {
    expect(decodePolicyDocument(encode(trust))).toEqual(trust);
    expect(decodePolicyDocument(JSON.stringify(trust))).toEqual(trust);
  });
});

describe('the EMR reader', () => {
  const cluster = (over: Record<string, unknown> = {}) => ({
    Cluster: {
      Id: 'j-2AXXXXXXGAPLF',
      Name: 'analytics',
      ClusterArn: `arn:aws:elasticmapreduce:us-east-1:${ACCOUNT}:cluster/j-2AXXXXXXGAPLF`,
      Status: { State: 'WAITING' as const },
      ReleaseLabel: 'emr-6.7.0',
      Applications: [{ Name: 'Spark', Version: '3.2.1' }],
      Ec2InstanceAttributes: { IamInstanceProfile: `arn:aws:iam::${ACCOUNT}:instance-profile/EMR_EC2_DefaultRole` },
      SecurityConfiguration: 'sc',
      InstanceCollectionType: 'INSTANCE_GROUP' as const,
      ...over,
    },
  });
  const clusterReader = () => new SdkClusterReader(new EMRClient({ region: 'us-east-1' }));

  it('DescribeCluster with the MASTER instance group, on any page; an instance profile ARN becomes its name', async () => {
    emr.on(DescribeClusterCommand).resolves(cluster());
    emr.on(ListInstanceGroupsCommand, { ClusterId: 'j-2AXXXXXXGAPLF' }).resolves({ InstanceGroups: [{ InstanceGroupType: 'CORE', RequestedInstanceCount: 4 }], Marker: 'next' });
    emr.on(ListInstanceGroupsCommand, { ClusterId: 'j-2AXXXXXXGAPLF', Marker: 'next' }).resolves({ InstanceGroups: [{ InstanceGroupType: 'MASTER', RequestedInstanceCount: 3, RunningInstanceCount: 3 }] });
    expect(await clusterReader().describeCluster('j-2AXXXXXXGAPLF')).toEqual({
      ok: true,
      value: {
        id: 'j-2AXXXXXXGAPLF',
        name: 'analytics',
        arn: `arn:aws:elasticmapreduce:us-east-1:${ACCOUNT}:cluster/j-2AXXXXXXGAPLF`,
        state: 'WAITING',
        releaseLabel: 'emr-6.7.0',
        applications: [{ name: 'Spark', version: '3.2.1' }],
        instanceProfile: 'EMR_EC2_DefaultRole',
        securityConfiguration: 'sc',
        collectionType: 'INSTANCE_GROUP',
        primaryNodes: { ok: true, value: { count: 3, source: 'instance-group' } },
      },
    });
  });

  it('an instance-fleet cluster: the MASTER fleet, on-demand and spot targets added', async () => {
    emr.on(DescribeClusterCommand).resolves(cluster({ InstanceCollectionType: 'INSTANCE_FLEET' }));
    emr.on(ListInstanceFleetsCommand).resolves({ InstanceFleets: [{ InstanceFleetType: 'MASTER', TargetOnDemandCapacity: 2, TargetSpotCapacity: 1 }] });
    const read = await clusterReader().describeCluster('j-2AXXXXXXGAPLF');
    expect(read.ok && read.value.primaryNodes).toEqual({ ok: true, value: { count: 3, source: 'instance-fleet' } });
    expect(emr.commandCalls(ListInstanceGroupsCommand)).toHaveLength(0);
  });

  it("an unknown cluster or security configuration is `missing` (EMR's InvalidRequestException)", async () => {
    emr.on(DescribeClusterCommand).rejects(new InvalidRequestException({ message: "Cluster id 'j-NOPE' is not valid.", $metadata: {} }));
    emr.on(DescribeSecurityConfigurationCommand).rejects(new InvalidRequestException({ message: "Security configuration 'x' does not exist.", $metadata: {} }));
    expect(await clusterReader().describeCluster('j-NOPE')).toMatchObject({ ok: false, failure: { kind: 'missing', operation: 'elasticmapreduce:DescribeCluster', code: 'InvalidRequestException' } });
    expect(await clusterReader().describeSecurityConfiguration('x')).toMatchObject({ ok: false, failure: { kind: 'missing' } });
  });
});
