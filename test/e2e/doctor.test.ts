/**
 * `emr-gateway doctor` (the real CLI, a child process) against the local stack's AWS port (AWS_ENDPOINT_URL): the
 * documentation's setup as the stack seeds it passes; then each prerequisite is broken in turn through the local
 * IAM API (Debian's AWS CLI, /usr/bin/aws, where it is installed; the AWS SDK v3 otherwise, saying so), doctor
 * exits 1 naming exactly that check and resource, and applying the finding's fixes as they say (the command with
 * fix.json, or the configuration edit) makes doctor pass again. Configurations whose clusters EMR describes as
 * an old release, without Spark or Hive, with three primary nodes, or whose propagateSourceIdentity differs
 * from the cluster's, fail the check of each.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  AddRoleToInstanceProfileCommand,
  DeleteRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  PutRolePolicyCommand,
  RemoveRoleFromInstanceProfileCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { parseDocument } from 'yaml';
import type { Finding } from '../../src/doctor/checks';
import type { Fix } from '../../src/doctor/fixes';
import type { LocalStack } from '../../src/local/stack';
import { AWS_CLI, awsCliEnv } from '../support/aws-cli';
import { EXAMPLE, newDataDir, startStack } from '../support/local-stack';

jest.setTimeout(180_000);

const BIN = resolve(__dirname, '../../bin/emr-gateway.js');
const hasCli = existsSync(AWS_CLI);
if (!hasCli) console.warn(`doctor e2e: ${AWS_CLI} is not installed (apt-get install -y awscli): the prerequisites are broken and repaired with the AWS SDK instead`);

const ACCOUNT = '123456789012';
const CLUSTER = 'j-2AXXXXXXGAPLF';
const CLUSTER_ARN = `arn:aws:elasticmapreduce:us-east-1:123456789012:cluster/${CLUSTER}`;
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const ETL = role('CallerTeamRoleETL');
const IP_ROLE = role('EMR_EC2_DefaultRole');
const SUBMITTER = role('emr-gateway-submitter');
const PROFILE = `arn:aws:iam::${ACCOUNT}:instance-profile/EMR_EC2_DefaultRole`;
/** A long-term key the stack does not know: the account root, who may read and change IAM. */
const ADMIN = { accessKeyId: 'AKIALOCALDOCTOR00000', secretAccessKey: 'local-doctor-secret' };
/** The stack's own key: a session of the gateway's functions role, which the partner account's access role trusts. */
const GATEWAY = { accessKeyId: 'AKIALOCALGATEWAY0000', secretAccessKey: 'local-gateway-secret' };
const PARTNER = 'j-3BXXXXXXPARTNR';
const OTHER = '210987654321';
const ACCESS_ROLE = `arn:aws:iam::${OTHER}:role/emr-gateway-access`;

interface DoctorRun {
  code: number | null;
  stdout: string;
  stderr: string;
  report?: { summary: { pass: number; fail: number; warn: number }; findings: Finding[] };
}

let stack: LocalStack;
const work = mkdtempSync(join(tmpdir(), 'emr-gateway-doctor-'));

/** The CLI's `doctor`, as a child process (the stack runs in this one: nothing here may block its event loop). */
function doctor(config: string, ...args: string[]): Promise<DoctorRun> {
  return doctorAs(ADMIN, config, ...args);
}
function doctorAs(credentials: { accessKeyId: string; secretAccessKey: string }, config: string, ...args: string[]): Promise<DoctorRun> {
  const env = { ...awsCliEnv(credentials), AWS_ENDPOINT_URL: stack.awsUrl, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  return new Promise((done) =>
    execFile(process.execPath, [BIN, 'doctor', '--config', config, ...args], { env, timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      let report: DoctorRun['report'];
      if (args.includes('json')) report = JSON.parse(stdout) as DoctorRun['report'];
      done({ code, stdout, stderr, ...(report ? { report } : {}) });
    }),
  );
}
const json = (config = EXAMPLE, ...args: string[]) => doctor(config, '--output', 'json', ...args);

/** `aws ...` against the local AWS port, as the account root. */
function aws(...args: string[]): Promise<string> {
  return new Promise((done, fail) =>
    execFile(AWS_CLI, ['--endpoint-url', stack.awsUrl, '--output', 'json', ...args], { env: awsCliEnv(ADMIN), timeout: 60_000 }, (error, stdout, stderr) => (error ? fail(new Error(`aws ${args.join(' ')}: ${stderr || error.message}`)) : done(stdout))),
  );
}
const iam = () => new IAMClient({ region: 'us-east-1', endpoint: stack.awsUrl, credentials: ADMIN });

/** A change through the local IAM API: the AWS CLI where installed, else the SDK. */
async function change(cli: string[], sdk: (client: IAMClient) => Promise<unknown>): Promise<void> {
  if (hasCli) await aws(...cli);
  else {
    const client = iam();
    await sdk(client);
    client.destroy();
  }
}

async function trustOf(name: string): Promise<{ Version: string; Statement: Record<string, unknown>[] }> {
  const client = iam();
  const document = (await client.send(new GetRoleCommand({ RoleName: name }))).Role!.AssumeRolePolicyDocument!;
  client.destroy();
  return JSON.parse(decodeURIComponent(document)) as { Version: string; Statement: Record<string, unknown>[] };
}

async function inlinePolicy(roleName: string, policyName: string): Promise<{ Version: string; Statement: Record<string, unknown>[] }> {
  const client = iam();
  const document = (await client.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }))).PolicyDocument!;
  client.destroy();
  return JSON.parse(decodeURIComponent(document)) as { Version: string; Statement: Record<string, unknown>[] };
}

/** A fix applied as it says: its aws command with fix.json (the CLI), or the same call with the SDK. */
async function apply(fix: Fix): Promise<void> {
  const file = join(work, 'fix.json');
  writeFileSync(file, JSON.stringify(fix.document));
  if (hasCli && fix.command) {
    const args = fix.command.split(' ').slice(1).map((a) => (a === 'file://fix.json' ? `file://${file}` : a));
    await aws(...args);
    return;
  }
  const client = iam();
  const p = fix.parameters;
  const document = JSON.stringify(fix.document);
  if (fix.operation === 'iam:PutRolePolicy') await client.send(new PutRolePolicyCommand({ RoleName: p.RoleName, PolicyName: p.PolicyName, PolicyDocument: document }));
  else if (fix.operation === 'iam:UpdateAssumeRolePolicy') await client.send(new UpdateAssumeRolePolicyCommand({ RoleName: p.RoleName, PolicyDocument: document }));
  else if (fix.operation === 'iam:AddRoleToInstanceProfile') await client.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: p.InstanceProfileName, RoleName: p.RoleName }));
  else throw new Error(`the test cannot apply ${fix.operation}`);
  client.destroy();
}

const failures = (run: DoctorRun) => run.report!.findings.filter((f) => f.status === 'fail');
const named = (run: DoctorRun) => [...new Set(failures(run).map((f) => `${f.cluster} ${f.check} ${f.resource}`))].sort();

/** Doctor fails exactly `expected` (cluster check resource); its fixes, applied, make it pass again. */
async function expectNamedAndRepaired(expected: string[], config = EXAMPLE): Promise<Finding[]> {
  const broken = await json(config);
  expect(broken.code).toBe(1);
  expect(named(broken)).toEqual(expected.sort());
  const found = failures(broken);
  const fixes = found.flatMap((f) => f.fixes);
  const unique = [...new Map(fixes.map((f) => [`${f.operation} ${JSON.stringify(f.parameters)} ${JSON.stringify(f.document)}`, f])).values()];
  expect(unique.length).toBeGreaterThan(0);
  for (const fix of unique) await apply(fix);
  const repaired = await json(config);
  expect(named(repaired)).toEqual([]);
  expect(repaired.code).toBe(0);
  return found;
}

beforeAll(async () => {
  stack = await startStack(newDataDir());
});
afterAll(() => stack?.stop());

describe('the seeded setup', () => {
  it('passes: exit 0, every check of both clusters, each catalogue role, the submitter', async () => {
    const run = await json();
    expect(run.stderr).toMatch(/doctor: reading role arn:aws:iam::123456789012:role\/CallerTeamRoleETL/);
    // The partner cluster is of another account, which the account root cannot get into: not checkable from here.
    expect(run.report!.findings.filter((f) => f.status !== 'pass').map((f) => [f.cluster, f.check, f.status])).toEqual([[PARTNER, 'access-role-trust', 'warn']]);
    expect(run.code).toBe(0);
    const checks = new Set(run.report!.findings.filter((f) => f.cluster === CLUSTER).map((f) => f.check));
    expect([...checks].sort()).toEqual(
      ['applications', 'cluster', 'instance-profile', 'instance-profile-permissions', 'log-uri', 'release', 'security-configuration', 'single-primary', 'source-identity', 'submitter-catalogue', 'submitter-exactly', 'trust-external-id', 'trust-policy'].sort(),
    );
    expect(run.report!.findings.filter((f) => f.check === 'trust-policy').map((f) => f.resource)).toHaveLength(5);
    expect(run.report!.findings.filter((f) => f.cluster === 'j-1LEGACYNORUNTIME').map((f) => f.check)).toEqual(['cluster', 'security-configuration']);
  });

  it('the table, for people: one row per check, and the count', async () => {
    const run = await doctor(EXAMPLE, '--cluster', CLUSTER);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^CLUSTER\s+CHECK\s+STATUS\s+RESOURCE\s+PROBLEM$/m);
    expect(run.stdout).toMatch(new RegExp(`^${CLUSTER}\\s+trust-policy\\s+PASS\\s+${ETL.replace(/[/]/g, '\\/')}$`, 'm'));
    expect(run.stdout).toMatch(/^\d+ passed, 0 failed, 0 warnings$/m);
  });
});

describe('each prerequisite broken through the local IAM API, named, and repaired as its fix says', () => {
  it("update-assume-role-policy without the ExternalId: trust-external-id of that role", async () => {
    const trust = await trustOf('CallerTeamRoleETL');
    const open = { ...trust, Statement: trust.Statement.map(({ Condition: _condition, ...rest }) => rest) };
    await change(['iam', 'update-assume-role-policy', '--role-name', 'CallerTeamRoleETL', '--policy-document', JSON.stringify(open)], (c) =>
      c.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'CallerTeamRoleETL', PolicyDocument: JSON.stringify(open) })),
    );
    const [finding] = await expectNamedAndRepaired([`${CLUSTER} trust-external-id ${ETL}`]);
    expect(finding!.problem).toMatch(/assume it without an ExternalId/);
    expect(finding!.fixes[0]!.command).toBe('aws iam update-assume-role-policy --role-name CallerTeamRoleETL --policy-document file://fix.json');
  });

  it('delete-role-policy AllowRuntimeRoleUsage on EMR_EC2_DefaultRole: instance-profile-permissions, for each catalogue role', async () => {
    await change(['iam', 'delete-role-policy', '--role-name', 'EMR_EC2_DefaultRole', '--policy-name', 'AllowRuntimeRoleUsage'], (c) =>
      c.send(new DeleteRolePolicyCommand({ RoleName: 'EMR_EC2_DefaultRole', PolicyName: 'AllowRuntimeRoleUsage' })),
    );
    const found = await expectNamedAndRepaired([`${CLUSTER} instance-profile-permissions ${IP_ROLE}`]);
    expect(found).toHaveLength(5);
    expect(found[0]!.problem).toMatch(/no statement allows sts:AssumeRole/);
  });

  it('sts:SetSourceIdentity taken out of the instance profile role: instance-profile-permissions, naming it', async () => {
    const policy = await inlinePolicy('EMR_EC2_DefaultRole', 'AllowRuntimeRoleUsage');
    const without = { ...policy, Statement: policy.Statement.filter((s) => s.Sid !== 'PropagateSourceIdentity') };
    expect(without.Statement.length).toBe(policy.Statement.length - 1);
    await change(['iam', 'put-role-policy', '--role-name', 'EMR_EC2_DefaultRole', '--policy-name', 'AllowRuntimeRoleUsage', '--policy-document', JSON.stringify(without)], (c) =>
      c.send(new PutRolePolicyCommand({ RoleName: 'EMR_EC2_DefaultRole', PolicyName: 'AllowRuntimeRoleUsage', PolicyDocument: JSON.stringify(without) })),
    );
    const found = await expectNamedAndRepaired([`${CLUSTER} instance-profile-permissions ${IP_ROLE}`]);
    expect(found[0]!.problem).toMatch(/no statement allows sts:SetSourceIdentity/);
    expect(found[0]!.problem).not.toMatch(/sts:AssumeRole(?!\w)/);
  });

  it("AllowSetSourceIdentity taken out of a catalogue role's trust policy: trust-policy of that role", async () => {
    const trust = await trustOf('CallerTeamRoleETL');
    const without = { ...trust, Statement: trust.Statement.filter((s) => s.Sid !== 'AllowSetSourceIdentity') };
    await change(['iam', 'update-assume-role-policy', '--role-name', 'CallerTeamRoleETL', '--policy-document', JSON.stringify(without)], (c) =>
      c.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'CallerTeamRoleETL', PolicyDocument: JSON.stringify(without) })),
    );
    const [finding] = await expectNamedAndRepaired([`${CLUSTER} trust-policy ${ETL}`]);
    expect(finding!.problem).toMatch(/sts:SetSourceIdentity: no statement of the trust policy/);
  });

  it("the submitter's policy widened to any role: submitter-exactly", async () => {
    const wide = { Version: '2012-10-17', Statement: [{ Sid: 'AddStepsWithCatalogueRuntimeRoles', Effect: 'Allow', Action: 'elasticmapreduce:AddJobFlowSteps', Resource: '*' }] };
    await change(['iam', 'put-role-policy', '--role-name', 'emr-gateway-submitter', '--policy-name', 'add-steps-as-catalogue-roles', '--policy-document', JSON.stringify(wide)], (c) =>
      c.send(new PutRolePolicyCommand({ RoleName: 'emr-gateway-submitter', PolicyName: 'add-steps-as-catalogue-roles', PolicyDocument: JSON.stringify(wide) })),
    );
    const [finding] = await expectNamedAndRepaired([`${CLUSTER} submitter-exactly ${SUBMITTER}`]);
    expect(finding!.problem).toMatch(/roles outside the catalogue/);
  });

  it('remove-role-from-instance-profile: instance-profile', async () => {
    await change(['iam', 'remove-role-from-instance-profile', '--instance-profile-name', 'EMR_EC2_DefaultRole', '--role-name', 'EMR_EC2_DefaultRole'], (c) =>
      c.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: 'EMR_EC2_DefaultRole', RoleName: 'EMR_EC2_DefaultRole' })),
    );
    const [finding] = await expectNamedAndRepaired([`${CLUSTER} instance-profile ${PROFILE}`]);
    expect(finding!.fixes[0]!.command).toBe('aws iam add-role-to-instance-profile --instance-profile-name EMR_EC2_DefaultRole --role-name EMR_EC2_DefaultRole');
  });

  it('an unknown --submitter-role is a finding (exit 1), not a crash', async () => {
    const run = await json(EXAMPLE, '--cluster', CLUSTER, '--submitter-role', 'no-such-submitter');
    expect(run.code).toBe(1);
    expect(named(run)).toEqual([`${CLUSTER} submitter-catalogue no-such-submitter`]);
    expect(failures(run)[0]!.problem).toMatch(/NoSuchEntity/);
  });
});

/** A copy of the example configuration (with its policies/ folder) changed by `edit`. */
function configWith(name: string, edit: (doc: ReturnType<typeof parseDocument>) => void): string {
  const dir = mkdtempSync(join(work, `${name}-`));
  cpSync(resolve(EXAMPLE, '../policies'), join(dir, 'policies'), { recursive: true });
  const doc = parseDocument(readFileSync(EXAMPLE, 'utf8'));
  edit(doc);
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, doc.toString());
  return file;
}

/** A `config` fix applied as it says: the value at its path in the configuration file. */
function applyConfigFix(fix: Fix): void {
  const file = fix.parameters.file!;
  const doc = parseDocument(readFileSync(file, 'utf8'));
  const path = fix.parameters.path!.split(/[.[\]]+/).filter(Boolean).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  doc.setIn(path, Object.values(fix.document as Record<string, unknown>)[0]);
  writeFileSync(file, doc.toString());
}

describe("configurations that do not match the clusters", () => {
  it('propagateSourceIdentity false where the security configuration propagates it: source-identity; the configuration edit its fix says passes', async () => {
    const file = configWith('propagate', (doc) => doc.setIn(['clusters', 0, 'propagateSourceIdentity'], false));
    const broken = await json(file);
    expect(broken.code).toBe(1);
    expect(named(broken)).toEqual([`${CLUSTER} source-identity emr-gateway-${CLUSTER}`]);
    const [fix] = failures(broken)[0]!.fixes;
    expect(fix).toMatchObject({ operation: 'config', parameters: { file, path: 'clusters[0].propagateSourceIdentity' }, document: { propagateSourceIdentity: true } });
    applyConfigFix(fix!);
    const repaired = await json(file);
    expect(named(repaired)).toEqual([]);
    expect(repaired.code).toBe(0);
  });

  it("a logUri that is not the cluster's LogUri: log-uri fails naming the cluster's, and the configuration edit its fix says passes", async () => {
    const file = configWith('log-uri', (doc) => doc.setIn(['clusters', 0, 'logUri'], 's3://aws-logs-123456789012-us-east-1/elsewhere/'));
    const broken = await json(file);
    expect(broken.code).toBe(1);
    expect(named(broken)).toEqual([`${CLUSTER} log-uri ${CLUSTER_ARN}`]);
    const found = failures(broken)[0]!;
    expect(found.problem).toContain('s3://aws-logs-123456789012-us-east-1/elasticmapreduce/');
    expect(found.fixes[0]).toMatchObject({ operation: 'config', parameters: { file, path: 'clusters[0].logUri' }, document: { logUri: 's3://aws-logs-123456789012-us-east-1/elasticmapreduce/' } });
    applyConfigFix(found.fixes[0]!);
    expect(named(await json(file))).toEqual([]);
  });

  it('no logUri where the cluster has one: log-uri warns (its step logs cannot be read through the gateway), with the edit', async () => {
    const file = configWith('no-log-uri', (doc) => doc.deleteIn(['clusters', 0, 'logUri']));
    const run = await json(file);
    const warned = run.report!.findings.filter((f) => f.check === 'log-uri' && f.cluster === CLUSTER);
    expect(warned).toMatchObject([{ status: 'warn', problem: expect.stringContaining('GET /jobs/{id}/logs'), fixes: [{ operation: 'config', document: { logUri: 's3://aws-logs-123456789012-us-east-1/elasticmapreduce/' } }] }]);
    // The example as it is: the cluster's LogUri, so it passes.
    const example = await json(EXAMPLE);
    expect(example.report!.findings.find((f) => f.check === 'log-uri' && f.cluster === CLUSTER)).toMatchObject({ status: 'pass' });
  });
});

describe('a cluster of another account (the partner cluster)', () => {
  const partner = (run: DoctorRun) => run.report!.findings.filter((f) => f.cluster === PARTNER);
  const otherIam = () => stack.sts.iamOf(OTHER)!;

  it("as the gateway's role, doctor gets in through the access role and checks that account's setup: all pass", async () => {
    const run = await doctorAs(GATEWAY, EXAMPLE, '--output', 'json', '--cluster', PARTNER);
    expect(partner(run).filter((f) => f.status !== 'pass')).toEqual([]);
    expect(run.code).toBe(0);
    expect(new Set(partner(run).map((f) => f.check))).toEqual(
      new Set(['access-role-trust', 'access-role-external-id', 'access-role-permissions', 'cluster', 'log-uri', 'release', 'applications', 'single-primary', 'security-configuration', 'source-identity', 'instance-profile', 'instance-profile-permissions', 'trust-policy', 'trust-external-id']),
    );
    // The runtime-role checks are of the partner account's own role, its instance profile role that account's.
    expect(partner(run).filter((f) => f.check === 'trust-policy').map((f) => f.resource)).toEqual([`arn:aws:iam::${OTHER}:role/PartnerTeamRoleETL`]);
    expect(partner(run).find((f) => f.check === 'access-role-trust')?.detail).toMatch(/doctor, as arn:aws:sts::123456789012:assumed-role\/emr-gateway-functions\/local-stack, assumed it/);
  });

  it('a wrong ExternalId in the access role\'s trust: access-role-trust fails for the gateway, with the trust to put back', async () => {
    const saved = otherIam().getRole('emr-gateway-access').trustPolicy;
    otherIam().updateAssumeRolePolicy('emr-gateway-access', saved.replace('emr-gateway-7Kq2Xw', 'another-external-id'));
    try {
      const run = await doctorAs(GATEWAY, EXAMPLE, '--output', 'json', '--cluster', PARTNER);
      expect(run.code).toBe(1);
      const [found] = failures(run);
      expect(failures(run)).toHaveLength(1);
      expect(found).toMatchObject({ check: 'access-role-trust', resource: ACCESS_ROLE, problem: expect.stringContaining("the gateway's role may not assume") });
      expect(found!.problem).toContain('AccessDenied');
      expect(found!.fixes[0]).toMatchObject({ operation: 'iam:UpdateAssumeRolePolicy', parameters: { RoleName: 'emr-gateway-access' } });
      expect(JSON.stringify(found!.fixes[0]!.document)).toContain('"sts:ExternalId":"emr-gateway-7Kq2Xw"');
      // Its fix, applied in that account, makes it pass again.
      otherIam().updateAssumeRolePolicy('emr-gateway-access', JSON.stringify(found!.fixes[0]!.document));
      const repaired = await doctorAs(GATEWAY, EXAMPLE, '--output', 'json', '--cluster', PARTNER);
      expect(failures(repaired)).toEqual([]);
    } finally {
      otherIam().updateAssumeRolePolicy('emr-gateway-access', saved);
    }
  });

  it("an access role that may not give Spark UI links or read the cluster's step logs: access-role-permissions names both, and its fix passes", async () => {
    const saved = otherIam().getRole('emr-gateway-access').inlinePolicies['emr-gateway-access']!;
    const narrowed = JSON.parse(saved) as { Statement: { Action: unknown }[] };
    narrowed.Statement = narrowed.Statement.filter((st) => !JSON.stringify(st.Action).includes('AppUI') && !JSON.stringify(st.Action).includes('s3:'));
    otherIam().putRolePolicy('emr-gateway-access', 'emr-gateway-access', JSON.stringify(narrowed));
    try {
      const run = await doctorAs(GATEWAY, EXAMPLE, '--output', 'json', '--cluster', PARTNER);
      expect(named(run)).toEqual([`${PARTNER} access-role-permissions ${ACCESS_ROLE}`]);
      const found = failures(run)[0]!;
      expect(found.problem).toContain('elasticmapreduce:GetOnClusterAppUIPresignedURL refused with');
      expect(found.problem).toContain('elasticmapreduce:CreatePersistentAppUI refused');
      expect(found.problem).toContain(`s3:GetObject of its step logs (s3://aws-logs-${OTHER}-us-east-1/elasticmapreduce/${PARTNER}/steps/) refused`);
      otherIam().putRolePolicy('emr-gateway-access', 'emr-gateway-access', JSON.stringify(found.fixes[0]!.document));
      expect(failures(await doctorAs(GATEWAY, EXAMPLE, '--output', 'json', '--cluster', PARTNER))).toEqual([]);
    } finally {
      otherIam().putRolePolicy('emr-gateway-access', 'emr-gateway-access', saved);
    }
  });

  it('a trust without the ExternalId condition, and an access role that may add steps with any role: both named', async () => {
    const savedTrust = otherIam().getRole('emr-gateway-access').trustPolicy;
    const savedPolicy = otherIam().getRole('emr-gateway-access').inlinePolicies['emr-gateway-access']!;
    const open = JSON.parse(savedTrust) as { Statement: Record<string, unknown>[] };
    delete open.Statement[0]!.Condition;
    otherIam().updateAssumeRolePolicy('emr-gateway-access', JSON.stringify(open));
    otherIam().putRolePolicy('emr-gateway-access', 'emr-gateway-access', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'elasticmapreduce:*', Resource: '*' }] }));
    try {
      const run = await doctorAs(GATEWAY, EXAMPLE, '--output', 'json', '--cluster', PARTNER);
      expect(named(run)).toEqual([`${PARTNER} access-role-external-id ${ACCESS_ROLE}`, `${PARTNER} access-role-permissions ${ACCESS_ROLE}`]);
      expect(failures(run).find((f) => f.check === 'access-role-permissions')?.problem).toMatch(/allowed with roles outside the catalogue/);
    } finally {
      otherIam().updateAssumeRolePolicy('emr-gateway-access', savedTrust);
      otherIam().putRolePolicy('emr-gateway-access', 'emr-gateway-access', savedPolicy);
    }
  });
});
