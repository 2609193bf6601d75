import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLE, cli } from '../support/cli';

const ALICE = 'arn:aws:sts::123456789012:assumed-role/DataTeamA/alice';
const BOB = 'arn:aws:sts::123456789012:assumed-role/Analysts/bob';
const CAROL = 'arn:aws:sts::123456789012:assumed-role/Contractors/carol';
const role = (name: string) => `arn:aws:iam::123456789012:role/${name}`;
const CLUSTER = 'j-2AXXXXXXGAPLF';
const check = (...args: string[]) => cli('policy', 'check', '--config', EXAMPLE, '--cluster', CLUSTER, ...args);

describe('emr-gateway policy check', () => {
  it('allowed: exit 0, the decision and the statement behind it', () => {
    const r = check('--principal', ALICE, '--role', role('CallerTeamRoleETL'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Decision\s+Allowed$/m);
    expect(r.stdout).toMatch(/^Allowed by\s+team-a statement 0 \(Sid SubmitAsTeamRoles\)$/m);
    expect(r.stdout).toMatch(/^Principal\s+arn:aws:iam::123456789012:role\/DataTeamA \(session alice\)$/m);
  });
  it('explicitly denied: exit 3, naming the Deny', () => {
    const r = check('--principal', ALICE, '--role', role('CallerTeamRoleAdmin'));
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^Decision\s+ExplicitlyDenied$/m);
    expect(r.stdout).toMatch(/^Denied by\s+team-a statement 2 \(Sid NeverAsAdmin\)$/m);
  });
  it('implicitly denied: exit 3, with the near miss and the failed condition', () => {
    const r = check('--principal', BOB, '--role', role('Caller'), '--context', 'emr-gateway:StepType=command');
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^Decision\s+ImplicitlyDenied$/m);
    expect(r.stdout).toMatch(/^Near miss\s+analyst statement 0 \(Sid SubmitSparkOrHiveAsCaller\): StringEquals emr-gateway:StepType$/m);
  });
  it('GetClusterSessionCredentials (POST /sessions) with the example: alice for her team roles, never as *Admin*; carol never', () => {
    const session = (principal: string, name: string) => check('--principal', principal, '--action', 'GetClusterSessionCredentials', '--role', role(name));
    const allowed = session(ALICE, 'CallerTeamRoleETL');
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toMatch(/^Allowed by\s+team-a statement 3 \(Sid SessionsAsTeamRoles\)$/m);
    expect(session(ALICE, 'CallerTeamRoleAdmin').stdout).toMatch(/^Denied by\s+team-a statement 2 \(Sid NeverAsAdmin\)$/m);
    expect(session(ALICE, 'Caller').code).toBe(3);
    expect(session(CAROL, 'CallerTeamRoleETL').code).toBe(3);
    // A submission's Allow is no session's: bob may submit as Caller, not open a session as it.
    expect(session(BOB, 'Caller').code).toBe(3);
  });
  it('a principal with no policy is implicitly denied', () => {
    expect(check('--principal', CAROL, '--role', role('Caller')).code).toBe(3);
  });
  it('--output json is the whole decision, for programs', () => {
    const r = check('--principal', BOB, '--role', role('Caller'), '--context', 'emr-gateway:StepType=spark', '--output', 'json');
    expect(r.code).toBe(0);
    const decision = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(decision).toMatchObject({
      result: 'Allowed',
      action: 'elasticmapreduce:AddJobFlowSteps',
      resource: `arn:aws:elasticmapreduce:us-east-1:123456789012:cluster/${CLUSTER}`,
      context: { 'elasticmapreduce:ExecutionRoleArn': role('Caller'), 'emr-gateway:StepType': 'spark' },
      allowedBy: [{ policy: 'analyst', index: 0, sid: 'SubmitSparkOrHiveAsCaller', effect: 'Allow' }],
    });
  });
  it('takes --action and --resource explicitly, and bare EMR action names', () => {
    const resource = `arn:aws:elasticmapreduce:us-east-1:123456789012:cluster/${CLUSTER}`;
    expect(cli('policy', 'check', '--config', EXAMPLE, '--principal', BOB, '--action', 'DescribeStep', '--resource', resource).code).toBe(0);
    expect(cli('policy', 'check', '--config', EXAMPLE, '--principal', BOB, '--action', 'elasticmapreduce:CancelSteps', '--resource', resource).code).toBe(3);
  });
  it.each([
    [['--principal', ALICE, '--bogus'], /unknown flag --bogus\n/],
    [['--principal', 'alice'], /--principal must be an IAM principal ARN/],
    [['--role', role('X')], /--principal is required/],
    [['--principal', ALICE, '--context', 'novalue'], /--context takes KEY=VALUE/],
    [['--principal', ALICE, '--context', 'aws:PrincipalTag/team=admins'], /cannot set aws:PrincipalTag\/team/],
    // The session name comes from --principal, and whether it is a person from the principals rule.
    [['--principal', BOB, '--context', 'emr-gateway:SessionName=alice'], /cannot set emr-gateway:SessionName/],
    [['--principal', BOB, '--context', 'aws:SourceIdentity=alice'], /cannot set aws:SourceIdentity/],
    [['--principal', ALICE, '--output', 'yaml'], /--output must be json or table/],
    [['--principal', ALICE, '--resource', 'arn:x'], /give --resource or --cluster, not both/],
  ])('bad usage %j → exit 2 and a message on stderr', (args, message) => {
    const r = check(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });
  it('a bad configuration is exit 2 with the file, line and path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-cli-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'account: "123456789012"\nregion: us-east-1\nclusters: []\n');
    const r = cli('policy', 'check', '--config', file, '--principal', ALICE, '--resource', 'arn:aws:elasticmapreduce:us-east-1:1:cluster/j-1');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:3:1: clusters: at least one cluster is needed`);
  });
});

describe('emr-gateway policy lint', () => {
  it('the example configuration is clean: exit 0', () => {
    const r = cli('policy', 'lint', '--config', EXAMPLE);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('no findings');
  });
  it("the EMR documentation's statement: exit 1, the error and the suggestion", () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-cli-'));
    const file = join(dir, 'doc.yaml');
    writeFileSync(
      file,
      `account: "123456789012"
region: us-east-1
clusters: [{ id: j-ABC, name: a, runtimeRoles: true }]
principals: [{ match: "arn:aws:iam::123456789012:role/A", policies: [doc] }]
policies:
  doc:
    Version: "2012-10-17"
    Statement:
      - Sid: AddStepsWithSpecificExecRoleArn
        Effect: Allow
        Action: [elasticmapreduce:AddJobFlowSteps]
        Resource: "*"
        Condition:
          StringEquals: { elasticmapreduce:ExecutionRoleArn: ["arn:aws:iam::123456789012:role/Caller"] }
          StringLike: { elasticmapreduce:ExecutionRoleArn: ["arn:aws:iam::123456789012:role/CallerTeamRole*"] }
`,
    );
    const r = cli('policy', 'lint', '--config', file);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^error\s+policies\.doc\.Statement\[0\]\s+doc statement 0 \(Sid AddStepsWithSpecificExecRoleArn\) can never match/m);
    expect(r.stdout).toContain('split it into two statements');
    expect(r.stdout).toContain('1 error(s), 0 warning(s)');
    const asJson = JSON.parse(cli('policy', 'lint', '--config', file, '--output', 'json').stdout) as { errors: number; findings: unknown[] };
    expect(asJson.errors).toBe(1);
  });
});

describe('emr-gateway roles (offline)', () => {
  it('lists the roles a caller may use, with step types', () => {
    const r = cli('roles', '--config', EXAMPLE, '--principal', BOB, '--cluster', CLUSTER, '--output', 'json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      { roleArn: role('Caller'), usable: true, stepTypes: ['spark', 'hive'], reason: 'allowed by analyst statement 0 (Sid SubmitSparkOrHiveAsCaller)' },
    ]);
    const table = cli('roles', '--config', EXAMPLE, '--principal', ALICE, '--cluster', CLUSTER);
    expect(table.stdout.split('\n')[0]).toMatch(/^ROLE\s+STEP TYPES\s+WHY$/);
    expect(table.stdout).toContain('CallerTeamRoleETL');
    expect(table.stdout).not.toContain('CallerTeamRoleAdmin');
  });
  it('says so when none is usable', () => {
    const r = cli('roles', '--config', EXAMPLE, '--principal', CAROL, '--cluster', CLUSTER);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('may use none of the 6 catalogued runtime roles');
  });
});

describe('emr-gateway', () => {
  it('no command: usage and exit 2; --help: exit 0; unknown command: exit 2', () => {
    expect(cli().code).toBe(2);
    expect(cli('--help')).toMatchObject({ code: 0, stdout: expect.stringContaining('policy check') });
    expect(cli('frobnicate')).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command "frobnicate"') });
  });
  it('`local` refuses bad flags with exit 2', () => {
    expect(cli('local', '--port', 'http')).toMatchObject({ code: 2, stderr: expect.stringContaining('--port must be a port number') });
    expect(cli('local', '--faults', 'emr.explode=1')).toMatchObject({ code: 2, stderr: expect.stringContaining('fault "emr.explode=1"') });
  });
});
