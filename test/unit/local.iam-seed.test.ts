/**
 * What the local IAM holds at start for the example configuration (src/local/iam-seed.ts): the documentation's
 * runtime-role setup and the gateway's own roles, decided by the local STS as the flows that use them need
 * (EMR's instance profile assuming a runtime role; the gateway assuming its submitter role with the caller's
 * source identity), and a user's changes kept over later starts while untouched documents follow the config.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfigFile } from '../../src/config-file/load';
import type { GatewayConfig } from '../../src/config/validate';
import { LocalIam } from '../../src/local/iam';
import { LOCAL_GATEWAY_ROLE, seedLocalIam } from '../../src/local/iam-seed';
import { LocalSts } from '../../src/local/sts';

const ACCOUNT = '123456789012';
const CONFIG = loadConfigFile(resolve(__dirname, '../../config/example.yaml')).config;
/** The catalogue roles of the gateway's account (the partner account's role is seeded in that account's IAM). */
const HOME_ROLES = CONFIG.runtimeRoles.filter((arn) => arn.startsWith(`arn:aws:iam::${ACCOUNT}:`));
const ANALYTICS = 'j-2AXXXXXXGAPLF';
const EXTERNAL_ID = 'FXH5TSACFDWUCDSR3YQE2O7ETPUSM4OBCGLYWODSCUZDNZ4Y';
const ETL = `arn:aws:iam::${ACCOUNT}:role/CallerTeamRoleETL`;
const INSTANCE_PROFILE = `arn:aws:iam::${ACCOUNT}:role/EMR_EC2_DefaultRole`;
const GATEWAY_KEY = 'AKIALOCALGATEWAY0000';
const externalIds = (id: string) => (id === ANALYTICS ? EXTERNAL_ID : undefined);

let dataDir: string;
const open = () => new LocalIam({ dataDir, partition: 'aws', account: ACCOUNT });
const seeded = (config: GatewayConfig = CONFIG): LocalIam => {
  const iam = open();
  seedLocalIam(iam, config, externalIds);
  return iam;
};
const stsOver = (iam: LocalIam) => new LocalSts({ account: ACCOUNT, partition: 'aws', iam, credentials: [{ accessKeyId: GATEWAY_KEY, principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${LOCAL_GATEWAY_ROLE}/local-stack` }, ...CONFIG.local.credentials] });
const json = (text: string | undefined): unknown => (text === undefined ? undefined : JSON.parse(text));

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'local-iam-seed-'));
});

describe('the documentation setup for the example configuration', () => {
  it('the instance profile role: EC2 may assume it; AllowRuntimeRoleUsage (and SetSourceIdentity: analytics propagates it) on the catalogue', () => {
    const iam = seeded();
    const role = iam.getRole('EMR_EC2_DefaultRole');
    expect(json(role.trustPolicy)).toEqual({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
    expect(json(role.inlinePolicies.AllowRuntimeRoleUsage)).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'AllowRuntimeRoleUsage', Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:TagSession'], Resource: HOME_ROLES },
        { Sid: 'PropagateSourceIdentity', Effect: 'Allow', Action: 'sts:SetSourceIdentity', Resource: HOME_ROLES },
      ],
    });
  });

  it('without a runtime-role cluster the instance profile role still exists (steps run as it), with no part in the runtime-role setup', () => {
    const iam = seeded({ ...CONFIG, clusters: CONFIG.clusters.filter((c) => !c.runtimeRoles) });
    expect(json(iam.getRole('EMR_EC2_DefaultRole').trustPolicy)).toMatchObject({ Statement: [{ Principal: { Service: 'ec2.amazonaws.com' } }] });
    expect(iam.getRole('EMR_EC2_DefaultRole').inlinePolicies).toEqual({});
    expect(iam.findRoleByName('CallerTeamRoleETL')).toBeUndefined();
  });

  it("each catalogue role trusts the instance profile role with the runtime-role cluster's ExternalId (legacy has none: no runtime roles)", () => {
    const iam = seeded();
    for (const arn of HOME_ROLES) {
      expect(json(iam.roleByArn(arn)?.trustPolicy)).toEqual({
        Version: '2012-10-17',
        Statement: [
          { Sid: 'AllowAssumeRole', Effect: 'Allow', Principal: { AWS: INSTANCE_PROFILE }, Action: ['sts:AssumeRole', 'sts:TagSession'], Condition: { StringEquals: { 'sts:ExternalId': EXTERNAL_ID } } },
          { Sid: 'AllowSetSourceIdentity', Effect: 'Allow', Principal: { AWS: INSTANCE_PROFILE }, Action: ['sts:SetSourceIdentity', 'sts:AssumeRole'], Condition: { StringEquals: { 'sts:ExternalId': EXTERNAL_ID } } },
        ],
      });
    }
  });

  it('decided by STS: EMR (the instance profile) gets each runtime role with the ExternalId and the source identity, nobody else', () => {
    const sts = stsOver(seeded());
    const ec2 = sts.caller(sts.instanceProfileSession(INSTANCE_PROFILE, 'i-0abc').accessKeyId);
    for (const roleArn of HOME_ROLES) {
      expect(sts.assumeRole({ roleArn, sessionName: 'emr-step', externalId: EXTERNAL_ID, sourceIdentity: 'alice', tags: { LakeFormationAuthorizedCaller: 'Amazon EMR' } }, ec2).sourceIdentity).toBe('alice');
    }
    expect(() => sts.assumeRole({ roleArn: ETL, sessionName: 'emr-step' }, ec2)).toThrow(/not authorized to perform: sts:AssumeRole/);
    expect(() => sts.assumeRole({ roleArn: ETL, sessionName: 'x1', externalId: EXTERNAL_ID }, sts.caller('AKIALOCALALICE000001'))).toThrow(/assumed-role\/DataTeamA\/alice is not authorized/);
    expect(() => sts.assumeRole({ roleArn: ETL, sessionName: 'x1', externalId: EXTERNAL_ID }, sts.caller(GATEWAY_KEY))).toThrow(/not authorized/);
  });

  it("the gateway's own flow: its session assumes the submitter role with the caller's source identity, as emr-steps.ts does", () => {
    const sts = stsOver(seeded());
    const submitter = `arn:aws:iam::${ACCOUNT}:role/emr-gateway-submitter`;
    const session = sts.assumeRole({ roleArn: submitter, sessionName: 'emr-gateway-job-0123456789abcdefghjkmnpqrs', sourceIdentity: 'alice', durationSeconds: 900 }, sts.caller(GATEWAY_KEY));
    expect(session).toMatchObject({ roleArn: submitter, sourceIdentity: 'alice' });
    expect(() => sts.assumeRole({ roleArn: submitter, sessionName: 'x1', sourceIdentity: 'alice' }, sts.caller('AKIALOCALALICE000001'))).toThrow(/not authorized/);
    const addSteps = json(seeded().getRole('emr-gateway-submitter').inlinePolicies['add-steps-as-catalogue-roles']) as { Statement: { Condition: unknown }[] };
    expect(addSteps.Statement[0]!.Condition).toEqual({ StringEquals: { 'elasticmapreduce:ExecutionRoleArn': CONFIG.runtimeRoles } });
  });

  it("interactive sessions: the gateway's session assumes the sessions role with the caller's source identity; that role may only get session credentials with catalogue roles", () => {
    const sts = stsOver(seeded());
    const sessions = `arn:aws:iam::${ACCOUNT}:role/emr-gateway-sessions`;
    expect(sts.assumeRole({ roleArn: sessions, sessionName: 'emr-gateway-ses-0123456789abcdefghjkmnpqrs', sourceIdentity: 'alice', durationSeconds: 900 }, sts.caller(GATEWAY_KEY))).toMatchObject({ roleArn: sessions, sourceIdentity: 'alice' });
    expect(() => sts.assumeRole({ roleArn: sessions, sessionName: 'x1', sourceIdentity: 'alice' }, sts.caller('AKIALOCALALICE000001'))).toThrow(/not authorized/);
    const role = seeded().getRole('emr-gateway-sessions');
    expect(Object.keys(role.inlinePolicies)).toEqual(['session-credentials-as-catalogue-roles']);
    const policy = json(role.inlinePolicies['session-credentials-as-catalogue-roles']) as { Statement: { Action: unknown; Condition: unknown }[] };
    expect(policy.Statement).toEqual([expect.objectContaining({ Action: 'elasticmapreduce:GetClusterSessionCredentials', Condition: { StringEquals: { 'elasticmapreduce:ExecutionRoleArn': CONFIG.runtimeRoles } } })]);
  });
});

describe('later starts', () => {
  it("keep the user's changes and deletions, and bring untouched documents up to the configuration", () => {
    const iam = seeded();
    const broken = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' }] });
    iam.updateAssumeRolePolicy('CallerTeamRoleETL', broken);
    iam.deleteRolePolicy('EMR_EC2_DefaultRole', 'AllowRuntimeRoleUsage');
    iam.deleteRole('AnalystReadOnly');

    const more = { ...CONFIG, runtimeRoles: [...CONFIG.runtimeRoles, `arn:aws:iam::${ACCOUNT}:role/CallerTeamRoleNew`] };
    const again = seeded(more);
    expect(again.getRole('CallerTeamRoleETL').trustPolicy).toBe(broken);
    expect(again.getRole('EMR_EC2_DefaultRole').inlinePolicies.AllowRuntimeRoleUsage).toBeUndefined();
    expect(again.findRoleByName('AnalystReadOnly')).toBeUndefined();
    // A new catalogue role is created; the submitter's untouched policy now names it.
    expect(again.findRoleByName('CallerTeamRoleNew')).toBeDefined();
    expect(again.getRole('emr-gateway-submitter').inlinePolicies['add-steps-as-catalogue-roles']).toContain('CallerTeamRoleNew');
  });
});

describe("the clusters' instance profiles", () => {
  it('holds each configured instance profile with the role of its name; a profile the user emptied or deleted stays so', () => {
    const teamConfig: GatewayConfig = { ...CONFIG, clusters: CONFIG.clusters.map((c, i) => (i === 0 ? { ...c, local: { ...c.local, instanceProfile: 'TeamNodes' } } : c)) };
    let iam = seeded(teamConfig);
    expect(iam.instanceProfileRole('TeamNodes')?.name).toBe('TeamNodes');
    expect(iam.instanceProfileRole('EMR_EC2_DefaultRole')?.name).toBe('EMR_EC2_DefaultRole'); // the legacy cluster's

    iam.removeRoleFromInstanceProfile('TeamNodes', 'TeamNodes');
    iam.removeRoleFromInstanceProfile('EMR_EC2_DefaultRole', 'EMR_EC2_DefaultRole');
    iam.deleteInstanceProfile('EMR_EC2_DefaultRole');
    iam = seeded(teamConfig);
    expect(iam.findInstanceProfile('TeamNodes')?.roles).toEqual([]);
    expect(iam.findInstanceProfile('EMR_EC2_DefaultRole')).toBeUndefined();
  });
});

describe('a second account (the partner cluster of the example)', () => {
  const OTHER = '210987654321';
  const PARTNER = 'j-3BXXXXXXPARTNR';
  const PARTNER_EXTERNAL_ID = 'PARTNERSECURITYCONFIGURATIONEXTERNALID00000000000';
  const ACCESS = `arn:aws:iam::${OTHER}:role/emr-gateway-access`;
  const otherIds = (id: string) => (id === ANALYTICS ? EXTERNAL_ID : id === PARTNER ? PARTNER_EXTERNAL_ID : undefined);

  it("holds that account's instance profile and runtime role, and the access role, which only the gateway's role may assume, with the ExternalId", () => {
    const iam = open();
    const other = new LocalIam({ dataDir: join(dataDir, 'accounts', OTHER), partition: 'aws', account: OTHER });
    seedLocalIam(iam, CONFIG, otherIds, new Map([[OTHER, other]]));
    const otherProfile = `arn:aws:iam::${OTHER}:role/EMR_EC2_DefaultRole`;
    expect(json(other.getRole('PartnerTeamRoleETL').trustPolicy)).toMatchObject({ Statement: [{ Principal: { AWS: otherProfile }, Condition: { StringEquals: { 'sts:ExternalId': PARTNER_EXTERNAL_ID } } }, { Sid: 'AllowSetSourceIdentity' }] });
    expect(json(other.getRole('EMR_EC2_DefaultRole').inlinePolicies.AllowRuntimeRoleUsage)).toMatchObject({ Statement: [{ Resource: [`arn:aws:iam::${OTHER}:role/PartnerTeamRoleETL`] }, { Action: 'sts:SetSourceIdentity' }] });
    expect(json(other.getRole('emr-gateway-access').trustPolicy)).toEqual({
      Version: '2012-10-17',
      Statement: [{ Sid: 'EmrGatewayAssumesAccessRole', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/${LOCAL_GATEWAY_ROLE}` }, Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'], Condition: { StringEquals: { 'sts:ExternalId': 'emr-gateway-7Kq2Xw' } } }],
    });
    const partnerArn = `arn:aws:elasticmapreduce:us-east-1:${OTHER}:cluster/${PARTNER}`;
    const access = json(other.getRole('emr-gateway-access').inlinePolicies['emr-gateway-access']) as { Statement: { Action: unknown; Resource: unknown; Condition?: unknown }[] };
    expect(access.Statement.map((s) => [s.Action, s.Resource, s.Condition])).toEqual([
      ['elasticmapreduce:AddJobFlowSteps', [partnerArn], { StringEquals: { 'elasticmapreduce:ExecutionRoleArn': CONFIG.runtimeRoles } }],
      ['elasticmapreduce:GetClusterSessionCredentials', [partnerArn], { StringEquals: { 'elasticmapreduce:ExecutionRoleArn': CONFIG.runtimeRoles } }],
      [['elasticmapreduce:DescribeCluster', 'elasticmapreduce:DescribeStep', 'elasticmapreduce:ListSteps', 'elasticmapreduce:CancelSteps'], [partnerArn], undefined],
      // The Spark UI links, as the API role's (IfExists where EMR does not send the key), and the cluster's step logs, in that account's bucket.
      ['elasticmapreduce:GetPersistentAppUIPresignedURL', [partnerArn], { StringEquals: { 'elasticmapreduce:ExecutionRoleArn': CONFIG.runtimeRoles } }],
      ['elasticmapreduce:GetOnClusterAppUIPresignedURL', [partnerArn], { StringEqualsIfExists: { 'elasticmapreduce:ExecutionRoleArn': CONFIG.runtimeRoles } }],
      ['elasticmapreduce:CreatePersistentAppUI', [partnerArn], undefined],
      ['s3:GetObject', [`arn:aws:s3:::aws-logs-${OTHER}-us-east-1/elasticmapreduce/${PARTNER}/steps/*`], undefined],
      ['s3:ListBucket', `arn:aws:s3:::aws-logs-${OTHER}-us-east-1`, { StringLike: { 's3:prefix': [`elasticmapreduce/${PARTNER}/steps/*`] } }],
    ]);
    // The gateway's own account: its role may assume exactly that access role, with the ExternalId; no partner role here.
    expect(json(iam.getRole(LOCAL_GATEWAY_ROLE).inlinePolicies['assume-cluster-access-roles'])).toEqual({
      Version: '2012-10-17',
      Statement: [{ Sid: 'AssumeClusterAccessRole1', Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'], Resource: ACCESS, Condition: { StringEquals: { 'sts:ExternalId': 'emr-gateway-7Kq2Xw' } } }],
    });
    expect(iam.findRoleByName('PartnerTeamRoleETL')).toBeUndefined();
    expect(other.findRoleByName(LOCAL_GATEWAY_ROLE)).toBeUndefined();
  });
});
