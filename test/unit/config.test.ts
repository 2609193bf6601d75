import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfigFile, parseConfig } from '../../src/config-file/load';
import { ConfigError } from '../../src/errors';
import { parseLogUri } from '../../src/identifiers';
import { parseJobRequest } from '../../src/jobs/request';
import { renderTemplate, splitTemplate } from '../../src/triggers/template';

const EXAMPLE = resolve(__dirname, '../../config/example.yaml');

const MINIMAL = `
account: "123456789012"
region: us-east-1
clusters:
  - id: j-ABC123
    name: main
    runtimeRoles: true
`;

/** The issues of a configuration that must not load, as `path: message` lines (file names stripped). */
function problems(text: string, file = '/etc/gw.yaml'): string[] {
  try {
    parseConfig(text, file);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('configuration', () => {
  it('loads the shipped example, with the file policy read and every policy compiled', () => {
    const { config, engine } = loadConfigFile(EXAMPLE);
    expect(config.account).toBe('123456789012');
    expect(config.partition).toBe('aws');
    expect(config.clusters.map((c) => c.id)).toEqual(['j-2AXXXXXXGAPLF', 'j-1LEGACYNORUNTIME', 'j-3BXXXXXXPARTNR']);
    // The partner cluster is of a second account, reached through its access role.
    expect(config.clusters[2]).toMatchObject({ account: '210987654321', accessRole: { arn: 'arn:aws:iam::210987654321:role/emr-gateway-access' } });
    expect(config.runtimeRoles.length).toBeGreaterThanOrEqual(3);
    expect(config.principals).toHaveLength(3);
    expect(Object.keys(config.policies)).toEqual(['team-a', 'analyst', 'read-own-cluster']);
    // Shared clusters: no step may cancel other tenants' pending steps or end the cluster (refused before the policy).
    expect(config.clusters.map((c) => c.allowedActionsOnFailure)).toEqual([['CONTINUE'], ['CONTINUE'], ['CONTINUE']]);
    expect(engine.policies.get('analyst')?.statements[0]?.ref.sid).toBe('SubmitSparkOrHiveAsCaller');
  });

  it('the example has the demo principals the README promises: a role family, a single role, nobody; and a Deny', () => {
    const { engine, config } = loadConfigFile(EXAMPLE);
    const cluster = 'arn:aws:elasticmapreduce:us-east-1:123456789012:cluster/j-2AXXXXXXGAPLF';
    const submit = (who: string, roleName: string, stepType = 'command') =>
      engine.evaluate({
        callerArn: `arn:aws:sts::123456789012:assumed-role/${who}`,
        action: 'elasticmapreduce:AddJobFlowSteps',
        resource: cluster,
        context: {
          'elasticmapreduce:ExecutionRoleArn': `arn:aws:iam::123456789012:role/${roleName}`,
          'emr-gateway:StepType': stepType,
          'emr-gateway:ActionOnFailure': 'CONTINUE',
        },
      }).result;
    expect(submit('DataTeamA/alice', 'CallerTeamRoleETL')).toBe('Allowed');
    expect(submit('DataTeamA/alice', 'CallerTeamRoleAdmin')).toBe('ExplicitlyDenied');
    expect(submit('DataTeamA/alice', 'Caller')).toBe('ImplicitlyDenied');
    expect(submit('Analysts/bob', 'Caller', 'spark')).toBe('Allowed');
    expect(submit('Analysts/bob', 'Caller', 'command')).toBe('ImplicitlyDenied');
    expect(submit('Analysts/bob', 'CallerTeamRoleETL', 'spark')).toBe('ImplicitlyDenied');
    expect(submit('Contractors/carol', 'Caller', 'spark')).toBe('ImplicitlyDenied');
    expect(config.local.credentials.map((c) => c.principal.split('/').pop())).toEqual(['alice', 'bob', 'carol']);
    // alice (the quickstart's caller) is a verified person; bob's session name is only his claim.
    expect(config.principals.map((p) => p.sessionNames)).toEqual(['verified', 'caller-chosen', 'caller-chosen']);
    expect(engine.identify('arn:aws:sts::123456789012:assumed-role/DataTeamA/alice')?.sourceIdentity).toBe('alice');
    expect(engine.identify('arn:aws:sts::123456789012:assumed-role/Analysts/bob')).toMatchObject({ sessionName: 'bob' });
    expect(engine.identify('arn:aws:sts::123456789012:assumed-role/Analysts/bob')).not.toHaveProperty('sourceIdentity');
  });

  it('accepts a minimal file and fills the defaults', () => {
    const { config } = parseConfig(MINIMAL, '/etc/gw.yaml');
    expect(config).toMatchObject({ runtimeRoles: [], principals: [], policies: {}, schedules: [], local: { credentials: [] } });
    expect(config.clusters[0]).toMatchObject({ propagateSourceIdentity: false, stepConcurrencyLevel: 1, allowedActionsOnFailure: ['CONTINUE'] });
    expect(parseConfig(MINIMAL.replace('us-east-1', 'cn-north-1'), '/x.yaml').config.partition).toBe('aws-cn');
  });

  it('rejects principal tag keys that differ only in case (aws:PrincipalTag/ keys are case-insensitive)', () => {
    const text = `${MINIMAL}principals:\n  - { match: "arn:aws:iam::123456789012:role/A", tags: { team: a, Team: admins } }\n`;
    expect(problems(text)).toEqual(['principals[0].tags.Team: tag key "Team" differs from "team" only in case: tag keys are compared case-insensitively']);
  });

  it('sessionNames is verified or caller-chosen (the default); a verified rule may match session ARNs', () => {
    const rule = (extra: string) => `${MINIMAL}principals:\n  - { match: "arn:aws:sts::123456789012:assumed-role/DataTeamA/alice"${extra} }\n`;
    expect(parseConfig(rule(', sessionNames: verified'), '/x.yaml').config.principals[0]).toMatchObject({ sessionNames: 'verified' });
    expect(parseConfig(`${MINIMAL}principals:\n  - { match: "arn:aws:iam::123456789012:role/A" }\n`, '/x.yaml').config.principals[0]).toMatchObject({ sessionNames: 'caller-chosen' });
    expect(problems(rule(', sessionNames: yes'))).toEqual(['principals[0].sessionNames: must be verified (AWS sets the session names, as for IAM Identity Center roles) or caller-chosen']);
    // Patterns that also match roles are compared with the role only: no error, and no session name can pick them.
    expect(() => parseConfig(`${MINIMAL}principals:\n  - { match: "arn:aws:*:*:123456789012:*" }\n`, '/x.yaml')).not.toThrow();
    expect(() => parseConfig(`${MINIMAL}principals:\n  - { match: "arn:aws:sts::123456789012:federated-user/*" }\n`, '/x.yaml')).not.toThrow();
  });

  it('rejects a principals rule that matches session names the caller chooses, naming the rule', () => {
    const rule = (match: string) => `${MINIMAL}principals:\n  - { match: "arn:aws:iam::123456789012:role/Other" }\n  - { match: "${match}" }\n`;
    const why = 'matches assumed-role session ARNs, whose session names whoever calls AssumeRole chooses: match the role instead (arn:aws:iam::ACCOUNT:role/ROLE), or mark the rule sessionNames: verified if AWS sets them (IAM Identity Center)';
    expect(problems(rule('arn:aws:sts::123456789012:assumed-role/DataTeamA/alice'))).toEqual([`principals[1].match: ${why}`]);
    expect(problems(rule('arn:aws:sts::*:assumed-role/*'))).toEqual([`principals[1].match: ${why}`]);
  });

  it('names the file, the line and the path of each problem', () => {
    try {
      parseConfig(`${MINIMAL}    bogus: 1\n`, '/etc/gw.yaml');
      throw new Error('expected an error');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toBe('/etc/gw.yaml:8:5: clusters[0].bogus: unknown key: bogus');
    }
  });

  it.each([
    [MINIMAL.replace('"123456789012"', '123456789012'), 'account: '],
    [MINIMAL.replace('"123456789012"', '"12345"'), 'account: must be a 12-digit AWS account id'],
    [MINIMAL.replace('j-ABC123', 'cluster-1'), 'clusters[0].id: must start with "j-"'],
    [MINIMAL.replace('runtimeRoles: true', 'runtimeRoles: "yes"'), 'clusters[0].runtimeRoles: '],
    [`${MINIMAL}extra: true\n`, '(top level)'.length ? 'extra: unknown key: extra' : ''],
    [`${MINIMAL}runtimeRoles: [arn:aws:iam::123456789012:user/bob]\n`, 'runtimeRoles[0]: '],
    [`${MINIMAL}principals:\n  - match: DataTeamA\n    policies: []\n`, 'principals[0].match: must be an ARN'],
    [`${MINIMAL}principals:\n  - match: arn:aws:iam::123456789012:role/A\n    policies: [missing]\n`, 'principals[0].policies[0]: no policy named "missing"'],
    [`${MINIMAL}policies:\n  p:\n    Version: "2012-10-17"\n    Statement: [{ Effect: Allow, Action: "*", Resource: "*", Condition: { StringEqual: { "a:b": c } } }]\n`, 'policies.p.Statement[0].Condition.StringEqual: unknown condition operator'],
    [`${MINIMAL}schedules:\n  - { name: nightly, schedule: "every day", template: t, principal: "arn:aws:iam::123456789012:role/A" }\n`, 'schedules[0].schedule: must be cron(...) or rate(...)'],
    [`${MINIMAL}schedules:\n  - { name: nightly, schedule: "rate(1 day)", template: t, principal: "arn:aws:iam::123456789012:role/A" }\n`, 'schedules[0].template: no template named "t"'],
    [`${MINIMAL}local:\n  credentials:\n    - { accessKeyId: short, secretAccessKey: secret-long, principal: "arn:aws:iam::123456789012:role/A" }\n`, 'local.credentials[0].accessKeyId: must be 16-128'],
    [MINIMAL.replace('clusters:', 'clusters: []\nx:'), 'clusters: at least one cluster'],
    [`${MINIMAL}    allowedActionsOnFailure: [CANCEL_AND_WAIT]\n`, 'clusters[0].allowedActionsOnFailure: must include CONTINUE: it is what a request without actionOnFailure asks for'],
    [`${MINIMAL}    allowedActionsOnFailure: [CONTINUE, CONTINUE]\n`, 'clusters[0].allowedActionsOnFailure[1]: duplicate value CONTINUE'],
    [`${MINIMAL}    allowedActionsOnFailure: [CONTINUE, STOP]\n`, 'clusters[0].allowedActionsOnFailure[1]: must be one of CONTINUE, CANCEL_AND_WAIT, TERMINATE_CLUSTER, TERMINATE_JOB_FLOW (got "STOP")'],
    [`${MINIMAL}    allowedActionsOnFailure: []\n`, 'clusters[0].allowedActionsOnFailure: '],
    [`${MINIMAL}templates:\n  t: { clusterId: j-ABC123, actionOnFailure: TERMINATE_CLUSTER }\n`, 'templates.t.actionOnFailure: TERMINATE_CLUSTER is not allowed on cluster j-ABC123 (main): it allows CONTINUE'],
    [`${MINIMAL}templates: { t: {} }\nschedules:\n  - { name: nightly, schedule: "rate(1 day)", template: t, principal: "arn:aws:iam::123456789012:role/A" }\n  - { name: nightly, schedule: "rate(2 days)", template: t, principal: "arn:aws:iam::123456789012:role/A" }\n`, 'schedules[1].name: duplicate name nightly'],
    [`${MINIMAL}    logUri: https://bucket/logs/\n`, 'clusters[0].logUri: must start with s3:// (or s3n://), not "https://"'],
    [`${MINIMAL}    logUri: aws-logs/elasticmapreduce/\n`, 'clusters[0].logUri: must be an S3 URI such as s3://'],
    [`${MINIMAL}    logUri: s3://Logs_Bucket/emr/\n`, 'clusters[0].logUri: "Logs_Bucket" is not an S3 bucket name'],
    [`${MINIMAL}    logUri: s3://logs//emr/\n`, 'clusters[0].logUri: the key prefix "/emr/" has an empty segment'],
    [`${MINIMAL}    logUri: "s3://logs/emr/*/"\n`, 'clusters[0].logUri: the key prefix may hold only letters, digits, / and ! - _ . \' ( ) (found "*")'],
    [`${MINIMAL}    logUri: "s3://logs/\${stage}/"\n`, 'clusters[0].logUri: the key prefix may hold only letters, digits, / and ! - _ . \' ( ) (found "$")'],
    [`${MINIMAL}    logUri: s3://logs/a/../b/\n`, 'clusters[0].logUri: the key prefix "a/../b/" has a . or .. segment'],
  ])('rejects %#', (text, expected) => {
    expect(problems(text).join('\n')).toContain(expected);
  });

  it('takes a cluster\'s LogUri as EMR writes it (s3:// or s3n://, with or without the trailing slash)', () => {
    for (const uri of ['s3://aws-logs-123456789012-us-east-1/elasticmapreduce/', 's3n://logs.example/emr', 's3://logs', "s3://logs/team-a/(prod)/emr_1!/"]) {
      expect(parseConfig(`${MINIMAL}    logUri: "${uri}"\n`, '/c.yaml').config.clusters[0]?.logUri).toBe(uri);
    }
    expect(parseConfig(MINIMAL, '/c.yaml').config.clusters[0]).not.toHaveProperty('logUri');
    expect(parseLogUri('s3n://logs.example/emr')).toEqual({ bucket: 'logs.example', prefix: 'emr/' });
    expect(parseLogUri('s3://logs')).toEqual({ bucket: 'logs', prefix: '' });
    expect(parseLogUri('s3://logs/')).toEqual({ bucket: 'logs', prefix: '' });
    expect(parseLogUri('s3://aws-logs-1-us-east-1/elasticmapreduce/')).toEqual({ bucket: 'aws-logs-1-us-east-1', prefix: 'elasticmapreduce/' });
  });

  it('reports every problem, not just the first', () => {
    expect(problems(MINIMAL.replace('"123456789012"', '"1"').replace('us-east-1', 'mars'))).toHaveLength(2);
  });

  it('rejects YAML syntax errors and duplicate keys with the line', () => {
    expect(() => parseConfig('account: [\n', '/c.yaml')).toThrow(/^\/c\.yaml:2:1: \(top level\): YAML: Flow sequence .* end with a \]$/);
    expect(() => parseConfig(`${MINIMAL}region: eu-west-1\n`, '/c.yaml')).toThrow(/^\/c\.yaml:8:1: \(top level\): YAML: Map keys must be unique$/);
  });

  it('reads `file:` policies relative to the configuration, and reports their own errors against their file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
    writeFileSync(join(dir, 'good.json'), JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }));
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Maybe', Action: '*', Resource: '*' }] }));
    writeFileSync(join(dir, 'broken.json'), '{ "Version": ');
    const file = join(dir, 'gw.yaml');
    writeFileSync(file, `${MINIMAL}policies:\n  good: { file: good.json }\n`);
    expect(loadConfigFile(file).engine.policies.get('good')?.statements).toHaveLength(1);

    writeFileSync(file, `${MINIMAL}policies:\n  bad: { file: bad.json }\n  broken: { file: broken.json }\n  gone: { file: nope.json }\n`);
    try {
      loadConfigFile(file);
      throw new Error('expected an error');
    } catch (error) {
      const issues = (error as ConfigError).issues;
      expect(issues).toContainEqual({ file: join(dir, 'bad.json'), path: 'Statement[0].Effect', message: 'must be "Allow" or "Deny"' });
      expect(issues.find((i) => i.path === 'policies.broken.file')?.message).toMatch(/not valid JSON/);
      expect(issues.find((i) => i.path === 'policies.gone.file')?.message).toMatch(/cannot read .*ENOENT/);
    }
  });

  it('a cluster in another account names its account and the role the gateway assumes there, checked with their paths', () => {
    const other = (extra: string) => `${MINIMAL}  - id: j-OTHER1\n    name: other\n    runtimeRoles: true\n${extra}`;
    const { config } = parseConfig(other('    account: "210987654321"\n    accessRole: { arn: "arn:aws:iam::210987654321:role/emr-gateway-access", externalId: ops-7Kq2 }\n'), '/x.yaml');
    expect(config.clusters[1]).toMatchObject({ account: '210987654321', accessRole: { arn: 'arn:aws:iam::210987654321:role/emr-gateway-access', externalId: 'ops-7Kq2' } });
    // The gateway's own account by default, with no role to assume.
    expect(config.clusters[0]).not.toHaveProperty('account');
    expect(problems(other('    account: "210987654321"\n'))).toEqual([
      'clusters[1].accessRole: is required: the cluster is in account 210987654321, not the gateway\'s (123456789012); name the IAM role the gateway assumes there',
    ]);
    expect(problems(other('    account: "210987654321"\n    accessRole: { arn: "arn:aws:iam::123456789012:role/emr-gateway-access" }\n'))).toEqual([
      'clusters[1].accessRole.arn: must be a role in the cluster\'s account 210987654321, got one of 123456789012',
    ]);
    expect(problems(other('    accessRole: { arn: "arn:aws:iam::123456789012:role/x" }\n'))).toEqual([
      'clusters[1].accessRole: is only for a cluster in another account: this one is in the gateway\'s (123456789012)',
    ]);
    expect(problems(other('    account: "21098765432"\n    accessRole: { arn: "arn:aws:iam::210987654321:role/x" }\n'))).toEqual([
      'clusters[1].account: must be a 12-digit AWS account id (quote it in YAML)',
    ]);
    expect(problems(other('    account: "210987654321"\n    accessRole: { arn: "arn:aws:s3:::bucket", externalId: "a b" }\n'))).toEqual([
      'clusters[1].accessRole.arn: must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)',
      'clusters[1].accessRole.externalId: must be 2-1224 characters of letters, digits and _+=,.@:/- (STS ExternalId)',
    ]);
  });

  it("a cluster's defaultRetry: the request's retry policy, its defaults filled in, its errors named by path", () => {
    const config = parseConfig(`${MINIMAL}    defaultRetry: { maxAttempts: 3, intervalSeconds: 300 }\n`, '/x.yaml').config;
    expect(config.clusters[0]?.defaultRetry).toEqual({ maxAttempts: 3, intervalSeconds: 300, backoff: 1, on: ['FAILED'] });
    expect(parseConfig(MINIMAL, '/x.yaml').config.clusters[0]?.defaultRetry).toBeUndefined();
    expect(problems(`${MINIMAL}    defaultRetry: { maxAttempts: 20, intervalSeconds: 300, on: [CANCELLED] }\n`)).toEqual([
      'clusters[0].defaultRetry.maxAttempts: must be a whole number from 1 to 10 (got 20)',
      'clusters[0].defaultRetry.on[0]: must be one of FAILED, INTERRUPTED (got "CANCELLED"): a CANCELLED or REJECTED job is never retried',
    ]);
    expect(problems(`${MINIMAL}    defaultRetry: { maxAttempts: 2, interval: 5 }\n`)[0]).toMatch(/^clusters\[0\]\.defaultRetry/);
  });

  it('a template may carry a retry policy: rendered, it is validated as any request', () => {
    const template = (retry: string) => `${MINIMAL}runtimeRoles: ["arn:aws:iam::123456789012:role/R"]\ntemplates:\n  t:\n    clusterId: j-ABC123\n    executionRoleArn: "arn:aws:iam::123456789012:role/R"\n    name: t\n    step: { type: command, args: ["true"] }\n    retry: ${retry}\n`;
    const rendered = (retry: string) => renderTemplate(splitTemplate(parseConfig(template(retry), '/x.yaml').config.templates.t).body, {});
    expect(parseJobRequest(rendered('{ maxAttempts: 3, intervalSeconds: 60 }')).retry).toEqual({ maxAttempts: 3, intervalSeconds: 60, backoff: 1, on: ['FAILED'] });
    expect(() => parseJobRequest(rendered('{ maxAttempts: 3, intervalSeconds: 0 }'))).toThrow('retry.intervalSeconds: must be a whole number of seconds from 1 to 3600 (got 0)');
  });

  it('a missing file is a clear error', () => {
    expect(() => loadConfigFile('/nonexistent/gw.yaml')).toThrow('/nonexistent/gw.yaml: (top level): cannot read the file: ENOENT');
  });
});
