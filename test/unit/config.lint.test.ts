/**
 * A configuration error is an error everywhere: a lint finding of severity error fails loading the file
 * (so check-config, packaging and the local stack refuse it with the same message), warnings do not.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfigFile, parseConfig } from '../../src/config-file/load';
import { ConfigError } from '../../src/errors';
import { thrown } from '../support/thrown';

const EXAMPLE = resolve(__dirname, '../../config/example.yaml');

const withPolicy = (statement: string, principals = '[{ match: "arn:aws:iam::123456789012:role/A", policies: [guard] }]') => `account: "123456789012"
region: us-east-1
clusters: [{ id: j-2AXXXXXXGAPLF, name: a, runtimeRoles: true }]
principals: ${principals}
policies:
  guard:
    Version: "2012-10-17"
    Statement:
${statement}
`;

/** The Deny the issue names: one letter short of AddJobFlowSteps, so it denies nothing. */
const MISSPELLED_DENY = withPolicy(`      - Sid: NeverAsAdmin
        Effect: Deny
        Action: elasticmapreduce:AddJobFlowStep
        Resource: "*"`);

const issuesOf = (error: unknown) => (error as ConfigError).issues.map((i) => `${i.file}: ${i.path}: ${i.message}`);

describe('lint errors fail the configuration', () => {
  it('a Deny with a misspelled action does not load: the path, the line and the suggestion', () => {
    const error = thrown(() => parseConfig(MISSPELLED_DENY, '/etc/gw.yaml'));
    expect(error).toBeInstanceOf(ConfigError);
    expect(issuesOf(error)).toEqual([
      '/etc/gw.yaml:11:9: policies.guard.Statement[0].Action: "elasticmapreduce:AddJobFlowStep" matches no EMR action (did you mean elasticmapreduce:AddJobFlowSteps?)',
    ]);
  });

  it('loadConfigFile refuses it too, and reports a `file:` policy against its own file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-lint-'));
    const file = join(dir, 'gw.yaml');
    writeFileSync(file, MISSPELLED_DENY);
    expect(() => loadConfigFile(file)).toThrow(/policies\.guard\.Statement\[0\]\.Action: "elasticmapreduce:AddJobFlowStep" matches no EMR action/);

    writeFileSync(join(dir, 'guard.json'), JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'elasticmapreduce:AddJobFlowStep', Resource: '*' }] }));
    writeFileSync(file, withPolicy('').replace(/ {2}guard:\n[\s\S]*$/, '  guard: { file: guard.json }\n'));
    expect(issuesOf(thrown(() => loadConfigFile(file)))).toEqual([
      `${join(dir, 'guard.json')}: Statement[0].Action: "elasticmapreduce:AddJobFlowStep" matches no EMR action (did you mean elasticmapreduce:AddJobFlowSteps?)`,
    ]);
  });

  it('a statement that can never match is an error: contradictory conditions, a key the gateway never sets, no resource that is a cluster', () => {
    const contradictory = withPolicy(`      - Effect: Deny
        Action: elasticmapreduce:AddJobFlowSteps
        Resource: "*"
        Condition:
          StringEquals: { elasticmapreduce:ExecutionRoleArn: arn:aws:iam::123456789012:role/Admin }
          StringLike: { elasticmapreduce:ExecutionRoleArn: "arn:aws:iam::123456789012:role/Team*" }`);
    expect(issuesOf(thrown(() => parseConfig(contradictory, '/c.yaml')))[0]).toMatch(/^\/c\.yaml:9:9: policies\.guard\.Statement\[0\]: guard statement 0 can never match/);
    // A typo in a condition key: the Deny would test a key that is always missing, so it never applies.
    const typoKey = withPolicy(`      - Effect: Deny
        Action: elasticmapreduce:AddJobFlowSteps
        Resource: "*"
        Condition:
          StringLike: { elasticmapreduce:ExecutonRoleArn: "arn:aws:iam::123456789012:role/*Admin*" }`);
    expect(issuesOf(thrown(() => parseConfig(typoKey, '/c.yaml')))).toEqual([
      expect.stringMatching(/policies\.guard\.Statement\[0\]\.Condition\.StringLike\["elasticmapreduce:ExecutonRoleArn"\]: the gateway never sets elasticmapreduce:ExecutonRoleArn: this condition is always false, so guard statement 0 can never match/),
    ]);
    const notACluster = withPolicy(`      - Effect: Deny
        Action: elasticmapreduce:AddJobFlowSteps
        Resource: arn:aws:elasticmapreduce:us-east-1:123456789012:clusters/*`);
    expect(issuesOf(thrown(() => parseConfig(notACluster, '/c.yaml')))[0]).toMatch(/Statement\[0\]\.Resource: "arn:aws:elasticmapreduce:us-east-1:123456789012:clusters\/\*" cannot match an EMR cluster/);
  });

  it('warnings do not fail: they come back with the loaded configuration, with their place in the file', () => {
    // Unused by any principal, and an action the gateway never asks for: two warnings, no error.
    const text = withPolicy(
      `      - Effect: Deny
        Action: [elasticmapreduce:AddJobFlowSteps, elasticmapreduce:RunJobFlow]
        Resource: "*"`,
      '[]',
    );
    const loaded = parseConfig(text, '/c.yaml');
    expect(loaded.findings.map((f) => [f.severity, `${f.file}: ${f.path}`])).toEqual([
      ['warning', '/c.yaml:6:3: policies.guard'],
      ['warning', '/c.yaml:10:52: policies.guard.Statement[0].Action[1]'],
    ]);
    // A condition on a key the gateway never sets that always holds is dead code, not a Deny that does nothing.
    const ifExists = withPolicy(`      - Effect: Deny
        Action: elasticmapreduce:AddJobFlowSteps
        Resource: "*"
        Condition: { StringLikeIfExists: { elasticmapreduce:ExecutonRoleArn: x } }`);
    expect(parseConfig(ifExists, '/c.yaml').findings).toEqual([expect.objectContaining({ severity: 'warning', message: expect.stringMatching(/never sets/) })]);
  });

  it('the example configuration still loads, with no findings at all', () => {
    expect(loadConfigFile(EXAMPLE).findings).toEqual([]);
  });

  it('in report mode (policy lint) the errors come back as findings instead of failing the load', () => {
    const { findings } = parseConfig(MISSPELLED_DENY, '/etc/gw.yaml', { lint: 'report' });
    expect(findings).toEqual([
      {
        severity: 'error',
        file: '/etc/gw.yaml:11:9',
        path: 'policies.guard.Statement[0].Action',
        message: '"elasticmapreduce:AddJobFlowStep" matches no EMR action',
        suggestion: 'did you mean elasticmapreduce:AddJobFlowSteps?',
      },
    ]);
  });
});

describe('each Lambda bundle carries only what its function runs', () => {
  // The whole validation (config/validate.ts: every policy compiled, the schedules parsed, the event patterns and
  // the templates checked) runs where a configuration is read from YAML: packaging, check-config, the local stack.
  // A deployed function loads the JSON that packaging wrote after that validation, with this same code, checking its
  // schema again (config/packaged.ts); those that decide compile the policy engine, and the trigger functions, which
  // put event values into templates, check the templates again.
  const DECIDE = ['api', 'triggers'];
  it.each(['api', 'workflow', 'triggers', 'step-events', 'digest', 'reconcile'])('%s', async (entry) => {
    const { build } = await import('esbuild');
    const result = await build({ entryPoints: [resolve(__dirname, `../../src/handlers/${entry}.ts`)], bundle: true, platform: 'node', external: ['@aws-sdk/*'], write: false, metafile: true, logLevel: 'silent' });
    const inputs = Object.keys(result.metafile.inputs).filter((i) => !i.includes('node_modules'));
    // The lint and the EMR action list run in the tools only; the whole validation where YAML is read.
    expect(inputs.filter((i) => /src\/(authz\/(lint|emr-actions)|config-file\/|config\/validate\.ts|triggers\/(event-pattern|schedule-expression))/.test(i))).toEqual([]);
    expect(inputs).toContainEqual(expect.stringMatching(/src\/config\/packaged\.ts$/));
    expect(inputs.some((i) => i.endsWith('src/authz/policy.ts'))).toBe(DECIDE.includes(entry));
    expect(inputs.some((i) => i.endsWith('src/triggers/lint.ts'))).toBe(entry === 'triggers');
  });
});
