/**
 * The runtime-role checks of `emr-gateway doctor` on facts built here: the documentation's setup passes every
 * check; each prerequisite broken in turn fails exactly its check, on its resource; and the finding's fix, applied
 * to the facts (as IAM would apply the call), makes the check pass when the engine evaluates it again.
 */
import {
  instanceProfileTrustPolicy,
  RUNTIME_ROLE_USAGE_POLICY,
  runtimeRoleTrustPolicy,
  runtimeRoleUsagePolicy,
  SUBMITTER_POLICY,
  submitterAddStepsStatement,
} from '../../src/authz/runtime-role-setup';
import type { ClusterConfig } from '../../src/config/schema';
import { applyFixes, outsideProbes, releaseVersion, runChecks, summarize, type DoctorInput, type Finding } from '../../src/doctor/checks';
import { readFailed, readOk, type ClusterFacts, type PolicyFacts, type Read, type RoleFacts } from '../../src/doctor/facts';
import type { Fix } from '../../src/doctor/fixes';
import type { ClusterEvidence, DoctorFacts } from '../../src/doctor/gather';

const ACCOUNT = '123456789012';
const CLUSTER = 'j-2AXXXXXXGAPLF';
const CLUSTER_ARN = `arn:aws:elasticmapreduce:us-east-1:${ACCOUNT}:cluster/${CLUSTER}`;
const role = (name: string, account = ACCOUNT) => `arn:aws:iam::${account}:role/${name}`;
const IP_ROLE = role('EMR_EC2_DefaultRole');
const SUBMITTER = role('emr-gateway-submitter');
const CALLER = role('Caller');
const ETL = role('CallerTeamRoleETL');
const CATALOGUE = [CALLER, ETL];
const EXTERNAL_ID = 'FXH5TSACFDWUCDSR3YQE2O7ETPUSM4OBCGLYWODSCUZDNZ4Y';
const SC = 'iamconfig-with-lf';
const NOW = new Date('2026-06-01T12:00:00Z');

const clusterConfig = (over: Partial<ClusterConfig> = {}): ClusterConfig => ({
  id: CLUSTER,
  name: 'analytics',
  runtimeRoles: true,
  propagateSourceIdentity: true,
  stepConcurrencyLevel: 1,
  allowedActionsOnFailure: ['CONTINUE'],
  local: { releaseLabel: 'emr-7.5.0', applications: ['Spark', 'Hive'], instanceProfile: 'EMR_EC2_DefaultRole', primaryNodes: 1 },
  ...over,
});

const securityConfiguration = (iam: Record<string, unknown>) => JSON.stringify({ AuthorizationConfiguration: { IAMConfiguration: iam } });
const DOCUMENTED_SC = securityConfiguration({ EnableApplicationScopedIAMRole: true, ApplicationScopedIAMRoleConfiguration: { PropagateSourceIdentity: true, ExternalId: EXTERNAL_ID } });

const clusterFacts = (over: Partial<ClusterFacts> = {}): ClusterFacts => ({
  id: CLUSTER,
  name: 'analytics',
  arn: CLUSTER_ARN,
  state: 'WAITING',
  releaseLabel: 'emr-7.5.0',
  applications: [{ name: 'Spark' }, { name: 'Hive' }],
  instanceProfile: 'EMR_EC2_DefaultRole',
  securityConfiguration: SC,
  collectionType: 'INSTANCE_GROUP',
  primaryNodes: readOk({ count: 1, source: 'instance-group' }),
  ...over,
});

const inline = (name: string, document: unknown): PolicyFacts => ({ name, kind: 'inline', document });
const roleFacts = (arn: string, trustPolicy: unknown, policies: PolicyFacts[] = []): RoleFacts => ({ arn, name: arn.slice(arn.lastIndexOf('/') + 1), id: 'AROAEXAMPLE000000001', trustPolicy, policies });

const documentedTrust = () => runtimeRoleTrustPolicy([{ instanceProfileRoleArn: IP_ROLE, externalIds: [EXTERNAL_ID], sourceIdentityExternalIds: [EXTERNAL_ID] }]);
const documentedIpRole = () => roleFacts(IP_ROLE, instanceProfileTrustPolicy(), [inline(RUNTIME_ROLE_USAGE_POLICY, runtimeRoleUsagePolicy(CATALOGUE, true))]);
const documentedSubmitter = () =>
  roleFacts(SUBMITTER, { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: role('emr-gateway-functions') }, Action: 'sts:AssumeRole' }] }, [
    inline(SUBMITTER_POLICY, { Version: '2012-10-17', Statement: [submitterAddStepsStatement([CLUSTER_ARN], CATALOGUE)] }),
  ]);

interface Setup {
  config?: Partial<ClusterConfig>;
  cluster?: Read<ClusterFacts>;
  sc?: string;
  ipRole?: Read<RoleFacts>;
  roleArns?: string[];
  catalogue?: Partial<Record<string, Read<RoleFacts>>>;
  runtimeRoles?: string[];
  submitter?: Read<RoleFacts>;
}

/** The documentation's setup, with the changes given. */
function input(setup: Setup = {}): DoctorInput {
  const config = clusterConfig(setup.config);
  const runtimeRoles = setup.runtimeRoles ?? CATALOGUE;
  const evidence: ClusterEvidence = {
    config,
    cluster: setup.cluster ?? readOk(clusterFacts()),
    securityConfiguration: readOk({ name: SC, json: setup.sc ?? DOCUMENTED_SC }),
    instanceProfile: readOk({ name: 'EMR_EC2_DefaultRole', arn: `arn:aws:iam::${ACCOUNT}:instance-profile/EMR_EC2_DefaultRole`, roleArns: setup.roleArns ?? [IP_ROLE] }),
    instanceProfileRole: setup.ipRole ?? readOk(documentedIpRole()),
  };
  const catalogue = new Map<string, Read<RoleFacts>>(runtimeRoles.map((arn) => [arn, setup.catalogue?.[arn] ?? readOk(roleFacts(arn, documentedTrust()))]));
  const facts: DoctorFacts = { callerAccount: readOk(ACCOUNT), clusters: [evidence], catalogue, submitters: [{ requested: 'emr-gateway-submitter', role: setup.submitter ?? readOk(documentedSubmitter()) }] };
  return { config: { partition: 'aws', account: ACCOUNT, region: 'us-east-1', clusters: [config], runtimeRoles, file: '/etc/gateway.yaml' }, facts, now: NOW };
}

const failures = (findings: readonly Finding[]) => findings.filter((f) => f.status === 'fail');
const key = (f: Finding) => `${f.check} ${f.resource}${f.runtimeRole && f.runtimeRole !== f.resource ? ` for ${f.runtimeRole}` : ''}`;

/** The facts with an IAM fix applied as IAM applies it; a config fix as an edit of the configuration. */
function applied(given: DoctorInput, fixes: readonly Fix[]): DoctorInput {
  let next: DoctorInput = { ...given, facts: applyFixes(given.facts, fixes) };
  for (const fix of fixes.filter((f) => f.operation === 'config')) {
    const patch = fix.document as Partial<ClusterConfig>;
    const clusters = next.config.clusters.map((c) => ({ ...c, ...patch }));
    next = { config: { ...next.config, clusters }, facts: { ...next.facts, clusters: next.facts.clusters.map((e) => ({ ...e, config: { ...e.config, ...patch } })) }, now: NOW };
  }
  return next;
}

/** Every failure's fixes applied together: evaluated again, nothing fails. */
function expectRepaired(given: DoctorInput, findings: readonly Finding[]): void {
  const fixes = failures(findings).flatMap((f) => f.fixes);
  expect(fixes.length).toBeGreaterThan(0);
  const again = runChecks(applied(given, fixes));
  expect(failures(again).map(key)).toEqual([]);
}

function trustWith(statements: Record<string, unknown>[]) {
  return readOk(roleFacts(ETL, { Version: '2012-10-17', Statement: statements }));
}

describe('the documentation setup', () => {
  it('passes every check, for every catalogue role, and the submitter checks', () => {
    const findings = runChecks(input());
    expect(failures(findings)).toEqual([]);
    expect(findings.filter((f) => f.status === 'warn')).toEqual([]);
    expect(findings.map((f) => f.check)).toEqual([
      'cluster', 'release', 'applications', 'single-primary', 'security-configuration', 'source-identity', 'instance-profile',
      'instance-profile-permissions', 'trust-policy', 'trust-external-id',
      'instance-profile-permissions', 'trust-policy', 'trust-external-id',
      'submitter-catalogue', 'submitter-exactly',
    ]);
    expect(summarize(findings)).toEqual({ pass: 15, fail: 0, warn: 0 });
    // The reasons are the engine's: which statement allowed what.
    const trust = findings.find((f) => f.check === 'trust-policy' && f.resource === ETL)!;
    expect(trust.detail).toMatch(/sts:AssumeRole: allowed by trust policy statement 0 \(Sid AllowAssumeRole\)/);
    expect(trust.detail).toMatch(/sts:SetSourceIdentity: allowed by trust policy statement 1 \(Sid AllowSetSourceIdentity\)/);
  });

  it('a cluster configured without runtime roles is checked for that only', () => {
    const given = input({ config: { runtimeRoles: false, propagateSourceIdentity: false }, sc: securityConfiguration({ EnableApplicationScopedIAMRole: false }) });
    const findings = runChecks(given);
    expect(findings.map((f) => `${f.check} ${f.status}`)).toEqual(['cluster pass', 'security-configuration pass']);
  });
});

describe('the cluster', () => {
  it.each([
    ['emr-6.5.0', 'fail'],
    ['emr-6.6.9', 'fail'],
    ['emr-5.36.1', 'fail'],
    ['emr-6.7.0', 'pass'],
    ['emr-6.10.0', 'pass'],
    ['emr-7.0.0', 'pass'],
  ] as const)('release %s: %s (versions compare as numbers)', (releaseLabel, status) => {
    const findings = runChecks(input({ cluster: readOk(clusterFacts({ releaseLabel })) }));
    expect(findings.find((f) => f.check === 'release')?.status).toBe(status);
    expect(failures(findings).map((f) => f.check)).toEqual(status === 'fail' ? ['release'] : []);
    if (status === 'fail') expect(failures(findings)[0]!.fixes[0]).toMatchObject({ operation: 'emr:RunJobFlow', document: { ReleaseLabel: 'emr-6.7.0' } });
  });

  it('release labels', () => {
    expect(releaseVersion('emr-6.10.1')).toEqual([6, 10, 1]);
    expect(releaseVersion('emr-7.0.0-latest')).toEqual([7, 0, 0]);
    expect(releaseVersion('6.7.0')).toBeUndefined();
    const findings = runChecks(input({ cluster: readOk(clusterFacts({ releaseLabel: undefined })) }));
    expect(failures(findings).map(key)).toEqual([`release ${CLUSTER_ARN}`]);
  });

  it('without Spark or Hive: applications fails; either one, in any case, passes', () => {
    expect(failures(runChecks(input({ cluster: readOk(clusterFacts({ applications: [{ name: 'Presto' }, { name: 'Livy' }] })) }))).map(key)).toEqual([`applications ${CLUSTER_ARN}`]);
    expect(failures(runChecks(input({ cluster: readOk(clusterFacts({ applications: [{ name: 'hive' }] })) })))).toEqual([]);
  });

  it('three primary nodes (an instance group or an instance fleet): single-primary fails', () => {
    for (const source of ['instance-group', 'instance-fleet'] as const) {
      const findings = runChecks(input({ cluster: readOk(clusterFacts({ primaryNodes: readOk({ count: 3, source }) })) }));
      expect(failures(findings).map(key)).toEqual([`single-primary ${CLUSTER_ARN}`]);
      expect(failures(findings)[0]!.problem).toMatch(/3 primary nodes: a multi-primary \(highly available\) cluster/);
      expect(JSON.stringify(failures(findings)[0]!.fixes[0]!.document)).toContain(source === 'instance-fleet' ? 'InstanceFleets' : 'InstanceGroups');
    }
  });

  it('a cluster EMR does not know: one finding, nothing else is checked', () => {
    const findings = runChecks(input({ cluster: readFailed({ kind: 'missing', operation: 'elasticmapreduce:DescribeCluster', resource: CLUSTER, code: 'InvalidRequestException', message: "Cluster id 'j-2AXXXXXXGAPLF' is not valid." }) }));
    expect(findings.map(key)).toEqual([`cluster ${CLUSTER_ARN}`]);
    expect(findings[0]!.problem).toMatch(/EMR does not know/);
  });

  it('a terminated cluster fails', () => {
    expect(failures(runChecks(input({ cluster: readOk(clusterFacts({ state: 'TERMINATED' })) }))).map(key)).toEqual([`cluster ${CLUSTER_ARN}`]);
  });
});

describe('the security configuration', () => {
  it('runtime roles not enabled: security-configuration fails, with the documentation step 1 configuration as the fix', () => {
    const findings = runChecks(input({ sc: securityConfiguration({ EnableApplicationScopedIAMRole: false }) }));
    expect(failures(findings).map(key)).toContain(`security-configuration ${SC}`);
    const fix = failures(findings).find((f) => f.check === 'security-configuration')!.fixes[0]!;
    expect(fix).toMatchObject({
      operation: 'emr:CreateSecurityConfiguration',
      document: { AuthorizationConfiguration: { IAMConfiguration: { EnableApplicationScopedIAMRole: true, ApplicationScopedIAMRoleConfiguration: { PropagateSourceIdentity: true } } } },
    });
  });

  it('runtime roles enabled on a cluster configured without them: fails, the fix is the configuration', () => {
    const findings = runChecks(input({ config: { runtimeRoles: false, propagateSourceIdentity: false } }));
    expect(failures(findings).map(key)).toEqual([`security-configuration ${SC}`]);
    expect(failures(findings)[0]!.fixes).toEqual([expect.objectContaining({ operation: 'config', parameters: { file: '/etc/gateway.yaml', path: 'clusters[0].runtimeRoles' }, document: { runtimeRoles: true } })]);
  });

  it.each([
    [true, false],
    [false, true],
  ])('PropagateSourceIdentity %s, the configuration %s: source-identity fails; the configuration as its fix says passes', (cluster, configured) => {
    const sc = securityConfiguration({ EnableApplicationScopedIAMRole: true, ApplicationScopedIAMRoleConfiguration: { PropagateSourceIdentity: cluster, ExternalId: EXTERNAL_ID } });
    const given = input({ sc, config: { propagateSourceIdentity: configured } });
    const findings = runChecks(given);
    expect(failures(findings).map(key)).toEqual([`source-identity ${SC}`]);
    expect(failures(findings)[0]!.fixes[0]).toMatchObject({ operation: 'config', document: { propagateSourceIdentity: cluster } });
    expectRepaired(given, findings);
  });

  it('no ExternalId shown: trust-external-id is a warning, not a pass', () => {
    const sc = securityConfiguration({ EnableApplicationScopedIAMRole: true, ApplicationScopedIAMRoleConfiguration: { PropagateSourceIdentity: true } });
    // The trust policy without the condition: with no ExternalId to send, EMR's request would carry none.
    const open = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: IP_ROLE }, Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'] }] };
    const findings = runChecks(input({ sc, catalogue: { [CALLER]: readOk(roleFacts(CALLER, open)), [ETL]: readOk(roleFacts(ETL, open)) } }));
    expect(failures(findings)).toEqual([]);
    expect(findings.filter((f) => f.status === 'warn').map(key)).toEqual([`trust-external-id ${CALLER}`, `trust-external-id ${ETL}`]);
  });
});

describe('the instance profile and its role', () => {
  it('an instance profile without its role: instance-profile fails, fixed by AddRoleToInstanceProfile', () => {
    const findings = runChecks(input({ roleArns: [], ipRole: undefined }));
    const failing = failures(findings);
    expect(failing.map(key)).toEqual([`instance-profile arn:aws:iam::${ACCOUNT}:instance-profile/EMR_EC2_DefaultRole`]);
    expect(failing[0]!.fixes[0]).toMatchObject({ operation: 'iam:AddRoleToInstanceProfile', parameters: { InstanceProfileName: 'EMR_EC2_DefaultRole', RoleName: 'EMR_EC2_DefaultRole' } });
  });

  it('AllowRuntimeRoleUsage deleted: instance-profile-permissions fails for every catalogue role; the fix puts it back', () => {
    const given = input({ ipRole: readOk(roleFacts(IP_ROLE, instanceProfileTrustPolicy(), [])) });
    const findings = runChecks(given);
    expect(failures(findings).map(key)).toEqual([`instance-profile-permissions ${IP_ROLE} for ${CALLER}`, `instance-profile-permissions ${IP_ROLE} for ${ETL}`]);
    const finding = failures(findings)[0]!;
    expect(finding.problem).toMatch(/no statement allows sts:AssumeRole/);
    expect(finding.fixVerified).toBe(true);
    expect(finding.fixes).toEqual([expect.objectContaining({ operation: 'iam:PutRolePolicy', parameters: { RoleName: 'EMR_EC2_DefaultRole', PolicyName: 'AllowRuntimeRoleUsage' }, document: runtimeRoleUsagePolicy(CATALOGUE, true) })]);
    expect(finding.fixes[0]!.command).toBe('aws iam put-role-policy --role-name EMR_EC2_DefaultRole --policy-name AllowRuntimeRoleUsage --policy-document file://fix.json');
    expectRepaired(given, findings);
  });

  it('sts:SetSourceIdentity taken out (the PropagateSourceIdentity statement): fails naming it; the fix adds it, keeping the rest', () => {
    const usage = runtimeRoleUsagePolicy(CATALOGUE, false);
    const extra = { Sid: 'ReadLogs', Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::logs/*' };
    const given = input({ ipRole: readOk(roleFacts(IP_ROLE, instanceProfileTrustPolicy(), [inline(RUNTIME_ROLE_USAGE_POLICY, { ...usage, Statement: [...usage.Statement, extra] })])) });
    const findings = runChecks(given);
    expect(failures(findings).map((f) => f.check)).toEqual(['instance-profile-permissions', 'instance-profile-permissions']);
    expect(failures(findings)[0]!.problem).toMatch(/no statement allows sts:SetSourceIdentity/);
    expect(failures(findings)[0]!.problem).not.toMatch(/sts:AssumeRole/);
    const document = failures(findings)[0]!.fixes[0]!.document as { Statement: { Sid: string }[] };
    expect(document.Statement.map((s) => s.Sid)).toEqual(['ReadLogs', 'AllowRuntimeRoleUsage', 'PropagateSourceIdentity']);
    expectRepaired(given, findings);
  });

  it('without source identity propagation, sts:SetSourceIdentity is not needed', () => {
    const sc = securityConfiguration({ EnableApplicationScopedIAMRole: true, ApplicationScopedIAMRoleConfiguration: { PropagateSourceIdentity: false, ExternalId: EXTERNAL_ID } });
    const trust = runtimeRoleTrustPolicy([{ instanceProfileRoleArn: IP_ROLE, externalIds: [EXTERNAL_ID], sourceIdentityExternalIds: [] }]);
    const findings = runChecks(
      input({
        sc,
        config: { propagateSourceIdentity: false },
        ipRole: readOk(roleFacts(IP_ROLE, instanceProfileTrustPolicy(), [inline(RUNTIME_ROLE_USAGE_POLICY, runtimeRoleUsagePolicy(CATALOGUE, false))])),
        catalogue: { [CALLER]: readOk(roleFacts(CALLER, trust)), [ETL]: readOk(roleFacts(ETL, trust)) },
      }),
    );
    expect(failures(findings)).toEqual([]);
  });

  it('an explicit Deny in an attached managed policy: fails naming it; the fix is a new version without it', () => {
    const managed: PolicyFacts = {
      name: 'NoChaining',
      kind: 'managed',
      arn: `arn:aws:iam::${ACCOUNT}:policy/NoChaining`,
      versionId: 'v3',
      document: { Version: '2012-10-17', Statement: [{ Sid: 'Keep', Effect: 'Allow', Action: 's3:ListBucket', Resource: '*' }, { Sid: 'NoTags', Effect: 'Deny', Action: 'sts:TagSession', Resource: '*' }] },
    };
    const given = input({ ipRole: readOk({ ...documentedIpRole(), policies: [...documentedIpRole().policies, managed] }) });
    const findings = runChecks(given);
    const finding = failures(findings)[0]!;
    expect(failures(findings).map((f) => f.check)).toEqual(['instance-profile-permissions', 'instance-profile-permissions']);
    expect(finding.problem).toMatch(/sts:TagSession is explicitly denied by NoChaining \(managed\) statement 1 \(Sid NoTags\)/);
    expect(finding.fixes).toEqual([expect.objectContaining({ operation: 'iam:CreatePolicyVersion', parameters: { PolicyArn: managed.arn, SetAsDefault: 'true' }, document: { Version: '2012-10-17', Statement: [{ Sid: 'Keep', Effect: 'Allow', Action: 's3:ListBucket', Resource: '*' }] } })]);
    expect(finding.fixVerified).toBe(true);
    expectRepaired(given, findings);
  });

  it('a permissions boundary is a warning: doctor does not evaluate it', () => {
    const findings = runChecks(input({ ipRole: readOk({ ...documentedIpRole(), permissionsBoundaryArn: `arn:aws:iam::${ACCOUNT}:policy/Boundary` }) }));
    expect(failures(findings)).toEqual([]);
    expect(findings.filter((f) => f.status === 'warn').map((f) => f.check)).toEqual(['instance-profile-permissions', 'instance-profile-permissions']);
  });
});

describe("the catalogue roles' trust policies", () => {
  const [assume, setSourceIdentity] = documentedTrust().Statement as [Record<string, unknown>, Record<string, unknown>];

  it('without the ExternalId condition: trust-external-id fails for that role only; the fix restores it', () => {
    const open = { ...assume };
    delete open.Condition;
    const given = input({ catalogue: { [ETL]: trustWith([open, setSourceIdentity]) } });
    const findings = runChecks(given);
    expect(failures(findings).map(key)).toEqual([`trust-external-id ${ETL}`]);
    const finding = failures(findings)[0]!;
    expect(finding.problem).toMatch(/lets arn:aws:iam::123456789012:role\/EMR_EC2_DefaultRole assume it without an ExternalId and with another ExternalId \(allowed by trust policy statement 0 \(Sid AllowAssumeRole\)\)/);
    expect(finding.fixes).toEqual([expect.objectContaining({ operation: 'iam:UpdateAssumeRolePolicy', parameters: { RoleName: 'CallerTeamRoleETL' }, document: documentedTrust() })]);
    expect(finding.fixVerified).toBe(true);
    expectRepaired(given, findings);
  });

  it('an ExternalId of another security configuration: trust-policy fails', () => {
    const other = runtimeRoleTrustPolicy([{ instanceProfileRoleArn: IP_ROLE, externalIds: ['ANOTHERSECURITYCONFIGURATIONEXTERNALID0000000000'], sourceIdentityExternalIds: ['ANOTHERSECURITYCONFIGURATIONEXTERNALID0000000000'] }]);
    const given = input({ catalogue: { [ETL]: readOk(roleFacts(ETL, other)) } });
    const findings = runChecks(given);
    expect(failures(findings).map(key)).toEqual([`trust-policy ${ETL}`]);
    expect(failures(findings)[0]!.problem).toMatch(/sts:AssumeRole: no statement of the trust policy of .* allows it; closest: trust policy statement 0 \(Sid AllowAssumeRole\) failed StringEquals sts:ExternalId/);
    expectRepaired(given, findings);
  });

  it('AllowSetSourceIdentity taken out: trust-policy fails on sts:SetSourceIdentity', () => {
    const given = input({ catalogue: { [ETL]: trustWith([assume]) } });
    const findings = runChecks(given);
    expect(failures(findings).map(key)).toEqual([`trust-policy ${ETL}`]);
    expect(failures(findings)[0]!.problem).toMatch(/sts:SetSourceIdentity: no statement of the trust policy/);
    expectRepaired(given, findings);
  });

  it('another principal: trust-policy fails', () => {
    const given = input({ catalogue: { [ETL]: trustWith([{ ...assume, Principal: { AWS: role('SomeoneElse') } }, { ...setSourceIdentity, Principal: { AWS: role('SomeoneElse') } }]) } });
    const findings = runChecks(given);
    expect(failures(findings).map(key)).toEqual([`trust-policy ${ETL}`]);
    expectRepaired(given, findings);
  });

  it('an explicit Deny: trust-policy fails naming it; the fix takes it out', () => {
    const deny = { Sid: 'NoSourceIdentity', Effect: 'Deny', Principal: { AWS: '*' }, Action: 'sts:SetSourceIdentity' };
    const given = input({ catalogue: { [ETL]: trustWith([assume, setSourceIdentity, deny]) } });
    const findings = runChecks(given);
    expect(failures(findings).map(key)).toEqual([`trust-policy ${ETL}`]);
    expect(failures(findings)[0]!.problem).toMatch(/explicitly denied by trust policy statement 2 \(Sid NoSourceIdentity\)/);
    const document = failures(findings)[0]!.fixes[0]!.document as { Statement: { Sid: string }[] };
    expect(document.Statement.map((s) => s.Sid)).toEqual(['AllowAssumeRole', 'AllowSetSourceIdentity']);
    expectRepaired(given, findings);
  });

  it('trusting the whole account without the ExternalId: the instance profile role can assume it without one (its identity policy allows it)', () => {
    const given = input({ catalogue: { [ETL]: trustWith([assume, setSourceIdentity, { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' }]) } });
    const findings = runChecks(given);
    expect(failures(findings).map(key)).toEqual([`trust-external-id ${ETL}`]);
    expect(failures(findings)[0]!.problem).toMatch(/allowed by trust policy statement 2\)/);
    expectRepaired(given, findings);
  });

  it('a catalogue role that does not exist: trust-policy fails with CreateRole as the fix', () => {
    const findings = runChecks(input({ catalogue: { [ETL]: readFailed({ kind: 'missing', operation: 'iam:GetRole', resource: ETL, code: 'NoSuchEntity', message: 'The role with name CallerTeamRoleETL cannot be found.' }) } }));
    expect(failures(findings).map(key)).toEqual([`trust-policy ${ETL}`]);
    expect(failures(findings)[0]!.fixes[0]).toMatchObject({ operation: 'iam:CreateRole', parameters: { RoleName: 'CallerTeamRoleETL', Path: '/' }, document: documentedTrust() });
  });

  it('a role of another account: its trust checks are warnings ("not checkable"), the rest is checked; AccessDenied is a failure with the permission doctor needs', () => {
    const foreign = role('CrossAccountRole', '210987654321');
    const catalogue = [...CATALOGUE, foreign];
    const unreadable = readFailed<RoleFacts>({ kind: 'unreadable', operation: 'iam:GetRole', resource: foreign, code: 'OtherAccount', message: 'IAM reads only the roles of the credentials account' });
    const ipRole = readOk(roleFacts(IP_ROLE, instanceProfileTrustPolicy(), [inline(RUNTIME_ROLE_USAGE_POLICY, runtimeRoleUsagePolicy(catalogue, true))]));
    const submitter = readOk({ ...documentedSubmitter(), policies: [inline(SUBMITTER_POLICY, { Version: '2012-10-17', Statement: [submitterAddStepsStatement([CLUSTER_ARN], catalogue)] })] });
    const findings = runChecks(input({ runtimeRoles: catalogue, catalogue: { [foreign]: unreadable }, ipRole, submitter }));
    expect(failures(findings)).toEqual([]);
    expect(findings.filter((f) => f.status === 'warn').map(key)).toEqual([`trust-policy ${foreign}`, `trust-external-id ${foreign}`]);
    expect(findings.find((f) => f.check === 'instance-profile-permissions' && f.runtimeRole === foreign)?.status).toBe('pass');

    const denied = readFailed<RoleFacts>({ kind: 'denied', operation: 'iam:GetRole', resource: ETL, code: 'AccessDenied', message: 'User: x is not authorized to perform: iam:GetRole' });
    const refused = runChecks(input({ catalogue: { [ETL]: denied } }));
    expect(failures(refused).map(key)).toEqual([`trust-policy ${ETL}`, `trust-external-id ${ETL}`]);
    expect(failures(refused)[0]!.problem).toBe(`cannot read ${ETL} (iam:GetRole): AccessDenied: User: x is not authorized to perform: iam:GetRole`);
    expect(failures(refused)[0]!.fixes[0]).toMatchObject({ operation: 'doctor-permissions', document: { Statement: [{ Effect: 'Allow', Action: 'iam:GetRole', Resource: ETL }] } });
  });
});

describe("the gateway's submitter role", () => {
  const submitterWith = (statement: Record<string, unknown>) => readOk({ ...documentedSubmitter(), policies: [inline(SUBMITTER_POLICY, { Version: '2012-10-17', Statement: [statement] })] });

  it('widened to any role (no condition): submitter-exactly fails; the fix is the catalogue statement again', () => {
    const given = input({ submitter: submitterWith({ Sid: 'AddStepsWithCatalogueRuntimeRoles', Effect: 'Allow', Action: 'elasticmapreduce:AddJobFlowSteps', Resource: '*' }) });
    const findings = runChecks(given);
    expect(failures(findings).map(key)).toEqual([`submitter-exactly ${SUBMITTER}`]);
    const finding = failures(findings)[0]!;
    expect(finding.problem).toMatch(/with roles outside the catalogue, e\.g\. arn:aws:iam::123456789012:role\/emr-gateway-doctor-not-in-the-catalogue \(allowed by add-steps-as-catalogue-roles statement 0/);
    expect(finding.fixes).toEqual([expect.objectContaining({ operation: 'iam:PutRolePolicy', parameters: { RoleName: 'emr-gateway-submitter', PolicyName: SUBMITTER_POLICY }, document: { Version: '2012-10-17', Statement: [submitterAddStepsStatement([CLUSTER_ARN], CATALOGUE)] } })]);
    expect(finding.fixVerified).toBe(true);
    expectRepaired(given, findings);
  });

  it('a prefix wildcard (StringLike CallerTeamRole*) lets other roles through: submitter-exactly fails', () => {
    const findings = runChecks(
      input({ submitter: submitterWith({ Effect: 'Allow', Action: 'elasticmapreduce:AddJobFlowSteps', Resource: CLUSTER_ARN, Condition: { StringLike: { 'elasticmapreduce:ExecutionRoleArn': [CALLER, `${role('CallerTeamRole')}*`] } } }) }),
    );
    expect(failures(findings).map(key)).toEqual([`submitter-exactly ${SUBMITTER}`]);
    expect(failures(findings)[0]!.problem).toMatch(/CallerTeamRoleETLDoctorProbe/);
  });

  it('any account (ArnLike on *): submitter-exactly fails on the other account probe', () => {
    const findings = runChecks(
      input({ submitter: submitterWith({ Effect: 'Allow', Action: 'elasticmapreduce:AddJobFlowSteps', Resource: CLUSTER_ARN, Condition: { ArnLike: { 'elasticmapreduce:ExecutionRoleArn': ['arn:aws:iam::*:role/Caller', 'arn:aws:iam::*:role/CallerTeamRoleETL'] } } }) }),
    );
    expect(failures(findings).map(key)).toEqual([`submitter-exactly ${SUBMITTER}`]);
    expect(failures(findings)[0]!.problem).toMatch(/arn:aws:iam::000000000000:role\/Caller /);
  });

  it('a catalogue role missing from its condition: submitter-catalogue fails naming it', () => {
    const given = input({ submitter: submitterWith(submitterAddStepsStatement([CLUSTER_ARN], [CALLER])) });
    const findings = runChecks(given);
    expect(failures(findings).map(key)).toEqual([`submitter-catalogue ${SUBMITTER}`]);
    expect(failures(findings)[0]!.problem).toBe(`${SUBMITTER} may not add steps to ${CLUSTER} with ${ETL}: the gateway cannot submit as that role`);
    expectRepaired(given, findings);
  });

  it('an unknown submitter role is a finding, not an exception', () => {
    const findings = runChecks(input({ submitter: readFailed({ kind: 'missing', operation: 'iam:GetRole', resource: 'emr-gateway-submitter', code: 'NoSuchEntity', message: 'The role with name emr-gateway-submitter cannot be found.' }) }));
    expect(failures(findings).map(key)).toEqual(['submitter-catalogue emr-gateway-submitter']);
    expect(failures(findings)[0]!.problem).toMatch(/NoSuchEntity.*--submitter-role names it/);
  });

  it('the probes are never catalogue roles, and include a prefix and another account', () => {
    const probes = outsideProbes('aws', ACCOUNT, CATALOGUE);
    expect(probes).toEqual(expect.arrayContaining([`${ETL}DoctorProbe`, role('Caller', '000000000000'), role('emr-gateway-doctor-not-in-the-catalogue')]));
    expect(probes.filter((p) => CATALOGUE.includes(p))).toEqual([]);
  });
});

describe('clusters that share an instance profile role', () => {
  it("a trust policy with one cluster's ExternalId fails for the other; the fix serves both", () => {
    const OTHER = 'j-3BXXXXXXOTHER';
    const otherId = 'SECONDSECURITYCONFIGURATIONEXTERNALID00000000000';
    const given = input({ catalogue: {} });
    const otherSc = securityConfiguration({ EnableApplicationScopedIAMRole: true, ApplicationScopedIAMRoleConfiguration: { PropagateSourceIdentity: false, ExternalId: otherId } });
    const second: ClusterEvidence = {
      ...given.facts.clusters[0]!,
      config: clusterConfig({ id: OTHER, name: 'other', propagateSourceIdentity: false }),
      cluster: readOk(clusterFacts({ id: OTHER, arn: `arn:aws:elasticmapreduce:us-east-1:${ACCOUNT}:cluster/${OTHER}`, securityConfiguration: 'other-sc' })),
      securityConfiguration: readOk({ name: 'other-sc', json: otherSc }),
    };
    const submitter = readOk({
      ...documentedSubmitter(),
      policies: [inline(SUBMITTER_POLICY, { Version: '2012-10-17', Statement: [submitterAddStepsStatement([CLUSTER_ARN, `arn:aws:elasticmapreduce:us-east-1:${ACCOUNT}:cluster/${OTHER}`], CATALOGUE)] })],
    });
    const both: DoctorInput = {
      ...given,
      config: { ...given.config, clusters: [...given.config.clusters, second.config] },
      facts: { ...given.facts, clusters: [...given.facts.clusters, second], submitters: [{ requested: 'emr-gateway-submitter', role: submitter }] },
    };
    const findings = runChecks(both);
    expect(failures(findings).map((f) => `${f.cluster} ${key(f)}`)).toEqual([`${OTHER} trust-policy ${CALLER}`, `${OTHER} trust-policy ${ETL}`]);
    const document = failures(findings)[0]!.fixes[0]!.document as { Statement: { Sid: string; Condition: unknown }[] };
    expect(document.Statement).toEqual([
      expect.objectContaining({ Sid: 'AllowAssumeRole', Condition: { StringEquals: { 'sts:ExternalId': [EXTERNAL_ID, otherId] } } }),
      expect.objectContaining({ Sid: 'AllowSetSourceIdentity', Condition: { StringEquals: { 'sts:ExternalId': EXTERNAL_ID } } }),
    ]);
    expectRepaired(both, findings);
  });
});

describe('log-uri', () => {
  const logUri = (config: string | undefined, cluster: string | undefined) =>
    runChecks(input({ config: config === undefined ? {} : { logUri: config }, cluster: readOk(clusterFacts(cluster === undefined ? {} : { logUri: cluster })) })).filter((f) => f.check === 'log-uri');

  it("passes where they name the same place, as EMR answers it (s3n://, without the last slash); none where neither has one", () => {
    expect(logUri('s3://logs/emr/', 's3n://logs/emr/')).toMatchObject([{ status: 'pass' }]);
    expect(logUri('s3://logs/emr/', 's3://logs/emr')).toMatchObject([{ status: 'pass' }]);
    expect(logUri('s3://logs/', 's3n://logs')).toMatchObject([{ status: 'pass' }]);
    expect(logUri(undefined, undefined)).toEqual([]);
  });

  it("fails where they differ, with the cluster's as the fix; warns where only the cluster has one; fails where only the configuration has one", () => {
    const [differs] = logUri('s3://logs/emr/', 's3n://logs/other/');
    expect(differs).toMatchObject({ status: 'fail', fixes: [{ operation: 'config', parameters: { path: 'clusters[0].logUri' }, document: { logUri: 's3://logs/other/' } }] });
    expect(logUri('s3://logs/emr/', 's3n://other-bucket/emr/')).toMatchObject([{ status: 'fail' }]);
    expect(logUri(undefined, 's3n://logs/emr')).toMatchObject([{ status: 'warn', fixes: [{ document: { logUri: 's3://logs/emr/' } }] }]);
    expect(logUri('s3://logs/emr/', undefined)).toMatchObject([{ status: 'fail', problem: expect.stringContaining('no LogUri') }]);
  });
});
