import fc from 'fast-check';
import { AWS_PARTITIONS } from '../../src/identifiers';
import { COMMAND_RUNNER_JAR, hadoopJarStep, stepArguments, toAddJobFlowSteps, toStepConfig } from '../../src/jobs/emr-step';
import { ACTIONS_ON_FAILURE, LIMITS, parseJobRequest, type JobRequest } from '../../src/jobs/request';

const ROLE = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';

function request(step: Record<string, unknown>, extra: Record<string, unknown> = {}): JobRequest {
  return parseJobRequest({ clusterId: 'j-2AXXXXXXGAPLF', executionRoleArn: ROLE, name: 'etl', step, ...extra });
}

describe('toAddJobFlowSteps', () => {
  it('submits one step to the cluster under the runtime role, CONTINUE on failure by default', () => {
    expect(toAddJobFlowSteps(request({ type: 'spark', args: ['s3://bucket/app.py', '--day', '2024-01-01'] }))).toEqual({
      JobFlowId: 'j-2AXXXXXXGAPLF',
      ExecutionRoleArn: ROLE,
      Steps: [
        {
          Name: 'etl',
          ActionOnFailure: 'CONTINUE',
          HadoopJarStep: { Jar: 'command-runner.jar', Args: ['spark-submit', 's3://bucket/app.py', '--day', '2024-01-01'] },
        },
      ],
    });
  });

  it.each(ACTIONS_ON_FAILURE)('passes actionOnFailure %s through', (action) => {
    expect(toAddJobFlowSteps(request({ type: 'command', args: ['true'] }, { actionOnFailure: action })).Steps?.[0]?.ActionOnFailure).toBe(action);
  });

  it('leaves the gateway-only fields (timeoutSeconds, tags) out of the EMR call', () => {
    const input = toAddJobFlowSteps(request({ type: 'command', args: ['true'] }, { timeoutSeconds: 60, tags: { team: 'a' } }));
    expect(Object.keys(input).sort()).toEqual(['ExecutionRoleArn', 'JobFlowId', 'Steps']);
    expect(Object.keys(input.Steps?.[0] ?? {}).sort()).toEqual(['ActionOnFailure', 'HadoopJarStep', 'Name']);
  });
});

describe('hadoopJarStep', () => {
  it('spark: spark-submit and the arguments, through command-runner.jar', () => {
    expect(hadoopJarStep(request({ type: 'spark', args: ['--deploy-mode', 'cluster', 's3://b1b/app.py'] }).step)).toEqual({
      Jar: COMMAND_RUNNER_JAR,
      Args: ['spark-submit', '--deploy-mode', 'cluster', 's3://b1b/app.py'],
    });
  });

  it("hive: EMR's hive-script form with the script after -f, then the arguments", () => {
    expect(hadoopJarStep(request({ type: 'hive', script: 's3://b1b/q.sql', args: ['-d', 'DAY=1'] }).step)).toEqual({
      Jar: COMMAND_RUNNER_JAR,
      Args: ['hive-script', '--run-hive-script', '--args', '-f', 's3://b1b/q.sql', '-d', 'DAY=1'],
    });
    expect(hadoopJarStep(request({ type: 'hive', script: '/home/hadoop/q.sql' }).step).Args).toEqual([
      'hive-script',
      '--run-hive-script',
      '--args',
      '-f',
      '/home/hadoop/q.sql',
    ]);
  });

  it('command: the arguments exactly as given', () => {
    expect(hadoopJarStep(request({ type: 'command', args: ['bash', '-c', 'echo hi'] }).step)).toEqual({
      Jar: COMMAND_RUNNER_JAR,
      Args: ['bash', '-c', 'echo hi'],
    });
  });

  it('jar: the JAR, its main class and arguments; no MainClass key when none is given', () => {
    expect(hadoopJarStep(request({ type: 'jar', jar: 's3://b1b/a.jar', mainClass: 'org.example.Main', args: ['1'] }).step)).toEqual({
      Jar: 's3://b1b/a.jar',
      MainClass: 'org.example.Main',
      Args: ['1'],
    });
    const bare = hadoopJarStep(request({ type: 'jar', jar: '/usr/lib/a.jar' }).step);
    expect(bare).toEqual({ Jar: '/usr/lib/a.jar', Args: [] });
    expect(bare).not.toHaveProperty('MainClass');
  });

  it('keeps shell metacharacters inside their own argument: nothing is joined or split', () => {
    const hostile = ['bash', '-c', 'echo "$HOME" && rm -rf /tmp/x; `id` | tee >(cat)\n\techo done', "it's", '--', '-rf', ''];
    expect(hadoopJarStep(request({ type: 'command', args: hostile }).step).Args).toEqual(hostile);
    expect(hadoopJarStep(request({ type: 'spark', args: hostile }).step).Args).toEqual(['spark-submit', ...hostile]);
  });

  it('copies the arguments: changing the EMR input never changes the request', () => {
    const req = request({ type: 'command', args: ['echo', 'a'] });
    hadoopJarStep(req.step).Args?.push('injected');
    toStepConfig(req).HadoopJarStep?.Args?.push('injected');
    expect(req.step).toEqual({ type: 'command', args: ['echo', 'a'] });
  });

  it('stepArguments is the argv EMR receives', () => {
    expect(stepArguments(request({ type: 'spark', args: ['a.py'] }).step)).toEqual(['spark-submit', 'a.py']);
    expect(stepArguments(request({ type: 'jar', jar: '/a.jar' }).step)).toEqual([]);
  });
});

describe('property: every accepted request translates faithfully', () => {
  /** C0, DEL or C1, optionally sparing tab and newline. */
  const hasControl = (s: string, spareTabLf: boolean) =>
    Array.from(s).some((ch) => {
      const code = ch.codePointAt(0) ?? 0;
      if (spareTabLf && (ch === '\t' || ch === '\n')) return false;
      return code <= 0x1f || (code >= 0x7f && code <= 0x9f);
    });
  const printable = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).filter((s) => /\S/.test(s) && !hasControl(s, false));
  const argument = fc.string({ unit: 'binary', maxLength: 30 }).filter((s) => !hasControl(s, true));
  const args = (minLength: number) => fc.array(argument, { minLength, maxLength: 8 });
  const location = fc.oneof(fc.stringMatching(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,10}[a-z0-9]\/[a-zA-Z0-9/._ -]{1,20}$/), fc.stringMatching(/^\/[a-zA-Z0-9/._-]{1,20}$/));
  const step = fc.oneof(
    fc.record({ type: fc.constant('spark'), args: args(1) }),
    fc.record({ type: fc.constant('hive'), script: location, args: args(0) }, { requiredKeys: ['type', 'script'] }),
    fc.record({ type: fc.constant('command'), args: args(1) }),
    fc.record(
      { type: fc.constant('jar'), jar: location, mainClass: fc.stringMatching(/^[A-Za-z_$][\w$]{0,8}(\.[A-Za-z_$][\w$]{0,8}){0,3}$/), args: args(0) },
      { requiredKeys: ['type', 'jar'] },
    ),
  );
  const body = fc.record(
    {
      clusterId: fc.stringMatching(/^j-[0-9A-Z]{1,20}$/),
      executionRoleArn: fc
        .tuple(
          fc.constantFrom(...AWS_PARTITIONS),
          fc.stringMatching(/^\d{12}$/),
          fc.oneof(fc.constant('/'), fc.stringMatching(/^\/([!-.0-~]{1,8}\/){1,3}$/)),
          fc.stringMatching(new RegExp(`^[\\w+=,.@-]{1,${LIMITS.roleNameMaxLength}}$`)),
        )
        .map(([partition, account, path, name]) => `arn:${partition}:iam::${account}:role${path}${name}`),
      name: printable,
      step,
      actionOnFailure: fc.constantFrom(...ACTIONS_ON_FAILURE),
      timeoutSeconds: fc.integer({ min: LIMITS.timeoutSecondsMin, max: LIMITS.timeoutSecondsMax }),
      tags: fc.dictionary(fc.stringMatching(/^[a-z0-9_.:/=+@-]{1,10}$/).filter((k) => !k.startsWith('aws:')), fc.stringMatching(/^[\w .:/=+@-]{0,10}$/), { maxKeys: 5 }),
    },
    { requiredKeys: ['clusterId', 'executionRoleArn', 'name', 'step'] },
  );

  it('parses, and the EMR input keeps the role, the cluster, the name and the arguments in order', () => {
    fc.assert(
      fc.property(body, (raw) => {
        const req = parseJobRequest(raw);
        const input = toAddJobFlowSteps(req);
        expect(input.ExecutionRoleArn).toBe(req.executionRoleArn);
        expect(input.ExecutionRoleArn).toBe(raw.executionRoleArn);
        expect(input.JobFlowId).toBe(raw.clusterId);
        expect(input.Steps).toHaveLength(1);
        const [config] = input.Steps ?? [];
        expect(config?.Name).toBe(raw.name);
        expect(config?.ActionOnFailure).toBe(raw.actionOnFailure ?? 'CONTINUE');
        const given = (raw.step as { args?: string[] }).args ?? [];
        const sent = config?.HadoopJarStep?.Args ?? [];
        expect(sent.slice(sent.length - given.length)).toEqual(given);
      }),
      { numRuns: 300 },
    );
  });
});
