/**
 * A configuration error is an error everywhere: the tools that validate, ship and run a configuration
 * (check-config, package, `emr-gateway local`) refuse one whose lint finds an error, with the same message,
 * and print warnings without failing. Each runs as a child process, as people run them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLE, ROOT, cli } from '../support/cli';

jest.setTimeout(60_000);

const dir = mkdtempSync(join(tmpdir(), 'gw-config-errors-'));
const config = (policies: string, principals = '[{ match: "arn:aws:iam::123456789012:role/A", policies: [guard] }]') => `account: "123456789012"
region: us-east-1
clusters: [{ id: j-2AXXXXXXGAPLF, name: a, runtimeRoles: true }]
runtimeRoles: [arn:aws:iam::123456789012:role/R]
principals: ${principals}
policies:
  guard:
    Version: "2012-10-17"
    Statement:
${policies}
`;
const MISSPELLED = join(dir, 'misspelled.yaml');
writeFileSync(
  MISSPELLED,
  config(`      - Effect: Deny
        Action: elasticmapreduce:AddJobFlowStep
        Resource: "*"`),
);
const MESSAGE = `${MISSPELLED}:11:9: policies.guard.Statement[0].Action: "elasticmapreduce:AddJobFlowStep" matches no EMR action (did you mean elasticmapreduce:AddJobFlowSteps?)`;

/** `npm run <script> -- ARGS`, in the checkout. */
function npmRun(script: string, ...args: string[]) {
  const r = spawnSync('npm', ['run', '--silent', script, '--', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('a lint error fails every tool', () => {
  it('npm run check-config: exit 2 with the lint message', () => {
    const r = npmRun('check-config', '--config', MISSPELLED);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(MESSAGE);
    expect(r.stdout).not.toContain('valid');
  });

  it('npm run package: exit 2 with the same message, before anything is packaged', () => {
    const r = npmRun('package', '--config', MISSPELLED, '--out', join(dir, 'out'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(MESSAGE);
  });

  it('emr-gateway local (npm start): exit 2 with the same message, nothing started', () => {
    const r = cli('local', '--config', MISSPELLED, '--port', '0', '--aws-port', '0', '--data-dir', join(dir, 'data'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(MESSAGE);
    expect(r.stdout).not.toContain('the local stack is up');
  });

  it('policy lint lists it with the warnings: exit 1', () => {
    const r = cli('policy', 'lint', '--config', MISSPELLED);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^error\s+policies\.guard\.Statement\[0\]\.Action\s+"elasticmapreduce:AddJobFlowStep" matches no EMR action \(did you mean elasticmapreduce:AddJobFlowSteps\?\)$/m);
  });
});

describe('a shell-injecting template is a config error in every tool', () => {
  const SHELL = join(dir, 'shell.yaml');
  writeFileSync(
    SHELL,
    `${config(`      - Effect: Allow
        Action: elasticmapreduce:AddJobFlowSteps
        Resource: "*"`)}templates:
  copy:
    clusterId: j-2AXXXXXXGAPLF
    executionRoleArn: arn:aws:iam::123456789012:role/R
    name: copy
    step: { type: command, args: [bash, -c, "aws s3 cp s3://landing/\${key} /tmp/in"] }
triggers:
  - { name: landing, eventPattern: { source: [aws.s3] }, template: copy, params: { key: $.detail.object.key }, principal: "arn:aws:iam::123456789012:role/A" }
`,
  );
  const where = 'templates.copy.step.args[2]';
  it('check-config: exit 2, naming the place, the trigger and the fix', () => {
    const r = npmRun('check-config', '--config', SHELL);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${SHELL}:18:45: ${where}: \${key} is read from the event by triggers[0] (landing: $.detail.object.key) and lands in the command string of bash -c: it has no declared type or pattern`);
  });
  it('policy lint: listed as an error, exit 1', () => {
    const r = cli('policy', 'lint', '--config', SHELL);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^error\s+templates\.copy\.step\.args\[2\]\s+\$\{key\} is read from the event by triggers\[0\]/m);
  });
});

describe('warnings are printed, not fatal', () => {
  const WARNED = join(dir, 'warned.yaml');
  writeFileSync(
    WARNED,
    config(
      `      - Effect: Deny
        Action: elasticmapreduce:AddJobFlowSteps
        Resource: "*"`,
      '[]',
    ),
  );
  it('check-config: exit 0, the warning on stderr with its place', () => {
    const r = npmRun('check-config', '--config', WARNED);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${WARNED}: valid`);
    expect(r.stderr).toContain(`warning: ${WARNED}:7:3: policies.guard: no principal uses this policy`);
  });
  it('the example configuration: no warnings', () => {
    const r = npmRun('check-config', '--config', EXAMPLE);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/^warning: /m);
  });
});
