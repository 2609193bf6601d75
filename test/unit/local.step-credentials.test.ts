/**
 * A step's credentials, obtained as EMR obtains them (src/local/emr/step-credentials.ts), on the local IAM seeded for
 * the example configuration and the local STS with a fake clock: the node's instance profile session (one per
 * cluster, renewed before it runs short), the runtime role assumed as it with the ExternalId, the propagated source
 * identity and EMR's session tag; IAM's refusals as typed denials naming the role; and credentials that expire, as
 * the AWS port's STS answers them (through its Query wire). End to end, with real step processes: e2e/step-credentials.test.ts.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfigFile } from '../../src/config-file/load';
import type { LocalCluster, LocalStep, SecurityConfiguration } from '../../src/local/emr/model';
import { StepCredentialsDeniedError } from '../../src/local/emr/model';
import { EmrStepCredentials, instanceIdOf } from '../../src/local/emr/step-credentials';
import { LocalIam } from '../../src/local/iam';
import { seedLocalIam } from '../../src/local/iam-seed';
import { answerQuery } from '../../src/local/query-protocol';
import { LocalSts } from '../../src/local/sts';
import { stsQueryService } from '../../src/local/sts-query';
import { childrenNamed, parseXml } from '../../src/local/xml';
import { thrown } from '../support/thrown';

const ACCOUNT = '123456789012';
const CONFIG = loadConfigFile(resolve(__dirname, '../../config/example.yaml')).config;
const ANALYTICS = 'j-2AXXXXXXGAPLF';
const LEGACY = 'j-1LEGACYNORUNTIME';
const EXTERNAL_ID = 'FXH5TSACFDWUCDSR3YQE2O7ETPUSM4OBCGLYWODSCUZDNZ4Y';
const ETL = `arn:aws:iam::${ACCOUNT}:role/CallerTeamRoleETL`;
const INSTANCE_PROFILE = `arn:aws:iam::${ACCOUNT}:role/EMR_EC2_DefaultRole`;
const HOUR = 3600_000;

const securityConfiguration = (iamConfiguration: Record<string, unknown>, extra: Record<string, unknown> = {}): SecurityConfiguration => ({
  name: `emr-gateway-${ANALYTICS}`,
  json: JSON.stringify({ AuthorizationConfiguration: { IAMConfiguration: iamConfiguration, ...extra } }),
  created: 0,
});
const RUNTIME_ROLES = securityConfiguration({ EnableApplicationScopedIAMRole: true, ApplicationScopedIAMRoleConfiguration: { PropagateSourceIdentity: true, ExternalId: EXTERNAL_ID } });
const analytics: LocalCluster = { id: ANALYTICS, name: 'analytics', securityConfiguration: RUNTIME_ROLES.name, stepConcurrencyLevel: 4, state: 'WAITING', created: 0 };
const legacy: LocalCluster = { id: LEGACY, name: 'legacy', stepConcurrencyLevel: 1, state: 'WAITING', created: 0 };
const step = (extra: Partial<LocalStep> = {}): LocalStep => ({
  id: 's-1STEPCREDTEST',
  clusterId: ANALYTICS,
  name: 'unit',
  actionOnFailure: 'CONTINUE',
  jar: { Jar: 'command-runner.jar', Args: ['true'] },
  executionRoleArn: ETL,
  sourceIdentity: 'alice',
  state: 'RUNNING',
  created: 0,
  ...extra,
});

let now: number;
let iam: LocalIam;
let sts: LocalSts;
let credentials: EmrStepCredentials;
beforeEach(() => {
  now = Date.parse('2025-06-15T12:00:00Z');
  iam = new LocalIam({ dataDir: mkdtempSync(join(tmpdir(), 'local-step-credentials-')), partition: 'aws', account: ACCOUNT });
  seedLocalIam(iam, CONFIG, (id) => (id === ANALYTICS ? EXTERNAL_ID : undefined));
  sts = new LocalSts({ account: ACCOUNT, partition: 'aws', iam, now: () => now });
  credentials = new EmrStepCredentials({ sts, iam, account: ACCOUNT, now: () => now });
});

/** GetCallerIdentity on the AWS port's STS (its Query wire), signed with `key`: the ARN, or the error code. */
function callerIdentity(key: string): { arn?: string; code?: string } {
  const answer = answerQuery(stsQueryService(sts), new URLSearchParams({ Action: 'GetCallerIdentity', Version: '2011-06-15' }), key);
  const root = parseXml(answer.body);
  const first = (name: string, at = root) => childrenNamed(at, name)[0];
  const result = first('GetCallerIdentityResult');
  if (result) return { arn: first('Arn', result)?.text };
  const error = first('Error');
  return { code: error && first('Code', error)?.text };
}

describe("a runtime-role step's credentials", () => {
  it("are the runtime role's, assumed as the cluster's instance profile role (its node's session) with the ExternalId, alice's source identity and EMR's session tag, for an hour", () => {
    const c = credentials.forStep(step(), analytics, RUNTIME_ROLES);
    expect(c.accessKeyId).toMatch(/^ASIA/);
    expect(c.expiration.getTime()).toBe(now + HOUR);
    expect(callerIdentity(c.accessKeyId)).toEqual({ arn: `arn:aws:sts::${ACCOUNT}:assumed-role/CallerTeamRoleETL/s-1STEPCREDTEST` });
    expect(sts.session(c.accessKeyId)).toMatchObject({ roleArn: ETL, sourceIdentity: 'alice', tags: { LakeFormationAuthorizedCaller: 'Amazon EMR' }, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken });
    // The node: EC2's session of the instance profile role, named after an instance id of EC2's form, stable per cluster.
    const node = credentials.nodeSession(analytics);
    expect(instanceIdOf(ACCOUNT, ANALYTICS)).toMatch(/^i-[0-9a-f]{17}$/);
    expect(instanceIdOf(ACCOUNT, LEGACY)).not.toBe(instanceIdOf(ACCOUNT, ANALYTICS));
    expect(callerIdentity(node.accessKeyId)).toEqual({ arn: `arn:aws:sts::${ACCOUNT}:assumed-role/EMR_EC2_DefaultRole/${instanceIdOf(ACCOUNT, ANALYTICS)}` });
  });

  it('carry no source identity where the security configuration does not propagate it; the session tag is the one LakeFormationConfiguration names', () => {
    const config = securityConfiguration(
      { EnableApplicationScopedIAMRole: true, ApplicationScopedIAMRoleConfiguration: { PropagateSourceIdentity: false, ExternalId: EXTERNAL_ID } },
      { LakeFormationConfiguration: { AuthorizedSessionTagValue: 'Our EMR' } },
    );
    const c = credentials.forStep(step(), analytics, config);
    expect(sts.session(c.accessKeyId)?.sourceIdentity).toBeUndefined();
    expect(sts.session(c.accessKeyId)?.tags).toEqual({ LakeFormationAuthorizedCaller: 'Our EMR' });
  });

  it('expire: an hour later the AWS port answers ExpiredToken', () => {
    const c = credentials.forStep(step(), analytics, RUNTIME_ROLES);
    now += HOUR - 1000;
    expect(callerIdentity(c.accessKeyId).arn).toMatch(/assumed-role\/CallerTeamRoleETL\//);
    now += 1000;
    expect(callerIdentity(c.accessKeyId)).toEqual({ code: 'ExpiredToken' });
  });
});

describe("the node's session", () => {
  it('is one per cluster, renewed once less than an hour of it is left (so that no step gets credentials that outlive it), with the same instance id', () => {
    const first = credentials.nodeSession(analytics);
    expect(credentials.forStep(step(), analytics, RUNTIME_ROLES)).toBeDefined();
    expect(credentials.nodeSession(analytics).accessKeyId).toBe(first.accessKeyId);
    expect(credentials.nodeSession(legacy).accessKeyId).not.toBe(first.accessKeyId);
    const lasts = first.expires.getTime() - now;
    now += lasts - HOUR - 1000;
    expect(credentials.nodeSession(analytics).accessKeyId).toBe(first.accessKeyId);
    now += 2000;
    const renewed = credentials.nodeSession(analytics);
    expect(renewed.accessKeyId).not.toBe(first.accessKeyId);
    expect(renewed.sessionName).toBe(first.sessionName);
    expect(renewed.expires.getTime() - now).toBeGreaterThan(HOUR);
    // A runtime-role step now gets its credentials through the renewed session; the old one still works until it expires.
    const c = credentials.forStep(step(), analytics, RUNTIME_ROLES);
    expect(callerIdentity(c.accessKeyId).arn).toMatch(/assumed-role\/CallerTeamRoleETL\//);
    expect(callerIdentity(first.accessKeyId).arn).toMatch(/assumed-role\/EMR_EC2_DefaultRole\//);
  });

  it("are the credentials of a step on a cluster without runtime roles (EMR runs those as the instance profile role), at least an hour's", () => {
    const c = credentials.forStep(step({ clusterId: LEGACY, executionRoleArn: undefined, sourceIdentity: undefined }), legacy, undefined);
    expect(callerIdentity(c.accessKeyId)).toEqual({ arn: `arn:aws:sts::${ACCOUNT}:assumed-role/EMR_EC2_DefaultRole/${instanceIdOf(ACCOUNT, LEGACY)}` });
    expect(c.expiration.getTime() - now).toBeGreaterThan(HOUR);
  });
});

describe('IAM says no: a typed denial naming the role, with STS’s message', () => {
  const nodeArn = () => `arn:aws:sts::${ACCOUNT}:assumed-role/EMR_EC2_DefaultRole/${instanceIdOf(ACCOUNT, ANALYTICS)}`;

  it('the runtime role no longer trusts the instance profile role', () => {
    iam.updateAssumeRolePolicy('CallerTeamRoleETL', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/emr-gateway-submitter` }, Action: 'sts:AssumeRole' }] }));
    const denial = thrown(() => credentials.forStep(step(), analytics, RUNTIME_ROLES));
    expect(denial).toBeInstanceOf(StepCredentialsDeniedError);
    expect(denial).toMatchObject({ roleArn: ETL });
    expect((denial as Error).message).toContain(`User: ${nodeArn()} is not authorized to perform: sts:AssumeRole on resource: ${ETL}`);
    expect((denial as StepCredentialsDeniedError).reason).toContain(ETL);
  });

  it("the instance profile role lost AllowRuntimeRoleUsage: propagating the source identity needs the caller's own permission too", () => {
    iam.deleteRolePolicy('EMR_EC2_DefaultRole', 'AllowRuntimeRoleUsage');
    expect(thrown(() => credentials.forStep(step(), analytics, RUNTIME_ROLES))).toMatchObject({
      roleArn: ETL,
      message: expect.stringContaining(`User: ${nodeArn()} is not authorized to perform: sts:SetSourceIdentity on resource: ${ETL}`),
    });
  });

  it("another ExternalId than the trust policy's (a security configuration made again)", () => {
    const other = securityConfiguration({ EnableApplicationScopedIAMRole: true, ApplicationScopedIAMRoleConfiguration: { PropagateSourceIdentity: true, ExternalId: 'SOMEONEELSE' } });
    expect(thrown(() => credentials.forStep(step(), analytics, other))).toMatchObject({ roleArn: ETL, message: expect.stringContaining('sts:AssumeRole on resource') });
  });

  it('EC2 may not assume the instance profile role: the denial names that role', () => {
    iam.updateAssumeRolePolicy('EMR_EC2_DefaultRole', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }));
    expect(thrown(() => credentials.forStep(step(), analytics, RUNTIME_ROLES))).toMatchObject({ roleArn: INSTANCE_PROFILE, message: expect.stringContaining(`sts:AssumeRole on resource: ${INSTANCE_PROFILE}`) });
  });
});

describe("the node's role: the one the cluster's instance profile holds in IAM", () => {
  it("is the role of the cluster's own instance profile, and a profile without a role (or none at all) fails the step naming the profile", () => {
    iam.createRole({ name: 'TeamNodeRole', trustPolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] }) });
    iam.createInstanceProfile({ name: 'TeamNodes' });
    iam.addRoleToInstanceProfile('TeamNodes', 'TeamNodeRole');
    const team = { ...legacy, instanceProfile: 'TeamNodes' };
    expect(credentials.nodeSession(team).roleArn).toBe(`arn:aws:iam::${ACCOUNT}:role/TeamNodeRole`);

    iam.removeRoleFromInstanceProfile('EMR_EC2_DefaultRole', 'EMR_EC2_DefaultRole');
    const denied = thrown(() => credentials.forStep(step(), analytics, RUNTIME_ROLES));
    expect(denied).toBeInstanceOf(StepCredentialsDeniedError);
    expect((denied as Error).message).toMatch(/instance profile EMR_EC2_DefaultRole holds no role/);
    expect(thrown(() => credentials.nodeSession({ ...legacy, instanceProfile: 'Missing' }))).toMatchObject({ message: expect.stringMatching(/instance profile Missing does not exist/) });
  });
});
