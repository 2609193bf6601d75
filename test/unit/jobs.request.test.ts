import fc from 'fast-check';
import { z } from 'zod';
import { ValidationError, type FieldIssue } from '../../src/errors';
import { AWS_PARTITIONS, clusterIdProblem, roleArnProblem } from '../../src/identifiers';
import { ACTIONS_ON_FAILURE, LIMITS, jobRequestSchema, parseJobRequest } from '../../src/jobs/request';
import { formatPath } from '../../src/util/format';

const ROLE = 'arn:aws:iam::123456789012:role/Caller';
const VALID = {
  clusterId: 'j-2AXXXXXXGAPLF',
  executionRoleArn: ROLE,
  name: 'nightly etl',
  step: { type: 'spark', args: ['--class', 'org.example.Main', 's3://bucket/app.jar'] },
} as const;

/** A valid body with some fields replaced (undefined removes a field). */
function body(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = { ...VALID, ...overrides };
  for (const [key, value] of Object.entries(out)) if (value === undefined) delete out[key];
  return out;
}

/** The issues of a body that must be rejected. */
function issuesOf(input: unknown): FieldIssue[] {
  try {
    parseJobRequest(input);
  } catch (error) {
    if (error instanceof ValidationError) return [...error.issues];
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(input)?.slice(0, 200)} to be rejected`);
}

/** The issues as `field: message` lines. */
function problems(input: unknown): string[] {
  return issuesOf(input).map((i) => `${i.field}: ${i.message}`);
}

describe('parseJobRequest: valid bodies', () => {
  it('accepts the minimal body and defaults actionOnFailure to CONTINUE', () => {
    expect(parseJobRequest(body())).toEqual({ ...VALID, step: { ...VALID.step }, actionOnFailure: 'CONTINUE' });
  });

  it('keeps every optional field as given', () => {
    const full = body({ actionOnFailure: 'CANCEL_AND_WAIT', timeoutSeconds: 3600, tags: { team: 'a', 'cost-centre': '' } });
    expect(parseJobRequest(full)).toEqual(full);
  });

  it.each([
    ['spark', { type: 'spark', args: ['s3://bucket/app.py'] }],
    ['hive without args', { type: 'hive', script: 's3://bucket/queries/q.sql' }],
    ['hive with args', { type: 'hive', script: '/home/hadoop/q.sql', args: ['-d', 'INPUT=s3://bucket/in'] }],
    ['command', { type: 'command', args: ['bash', '-c', 'echo hi'] }],
    ['jar with a main class', { type: 'jar', jar: 's3://bucket/app.jar', mainClass: 'org.example.Main$Inner', args: ['10'] }],
    ['jar with neither', { type: 'jar', jar: '/usr/lib/hadoop-mapreduce/hadoop-mapreduce-examples.jar' }],
  ])('accepts a %s step as given', (_label, step) => {
    expect(parseJobRequest(body({ step })).step).toEqual(step);
  });

  it('accepts multi-line scripts with tabs for bash -c, and arguments starting with "-"', () => {
    const script = 'set -e\nfor i in 1 2; do\n\techo "$i"\ndone';
    expect(parseJobRequest(body({ step: { type: 'command', args: ['bash', '-c', script] } })).step).toEqual({
      type: 'command',
      args: ['bash', '-c', script],
    });
  });

  it.each(AWS_PARTITIONS)('accepts a role in partition %s', (partition) => {
    const arn = `arn:${partition}:iam::123456789012:role/Caller`;
    expect(parseJobRequest(body({ executionRoleArn: arn })).executionRoleArn).toBe(arn);
  });

  it.each(ACTIONS_ON_FAILURE)('accepts actionOnFailure %s', (action) => {
    expect(parseJobRequest(body({ actionOnFailure: action })).actionOnFailure).toBe(action);
  });

  it('accepts every limit exactly', () => {
    const path = `/${'p'.repeat(LIMITS.rolePathMaxLength - 2)}/`;
    const accepted = parseJobRequest(
      body({
        clusterId: `j-${'A'.repeat(LIMITS.clusterIdMaxSuffixLength)}`,
        executionRoleArn: `arn:aws:iam::123456789012:role${path}${'n'.repeat(LIMITS.roleNameMaxLength)}`,
        name: 'x'.repeat(LIMITS.stepNameMaxLength),
        timeoutSeconds: LIMITS.timeoutSecondsMax,
        tags: Object.fromEntries(
          Array.from({ length: LIMITS.maxTags }, (_, i) => [`${i}`.padEnd(LIMITS.tagKeyMaxLength, 'k'), 'v'.repeat(LIMITS.tagValueMaxLength)]),
        ),
      }),
    );
    expect(Object.keys(accepted.tags ?? {})).toHaveLength(LIMITS.maxTags);
    expect(parseJobRequest(body({ timeoutSeconds: LIMITS.timeoutSecondsMin })).timeoutSeconds).toBe(LIMITS.timeoutSecondsMin);
  });

  it('accepts the argument limits exactly: 1000 arguments, 10240 characters each, 102400 in all', () => {
    const many = Array.from({ length: LIMITS.maxArguments }, () => 'a');
    expect(parseJobRequest(body({ step: { type: 'command', args: many } })).step).toEqual({ type: 'command', args: many });
    const full = Array.from({ length: 10 }, () => 'b'.repeat(LIMITS.argumentMaxLength));
    expect(full.join('')).toHaveLength(LIMITS.argumentsTotalMaxLength);
    expect(parseJobRequest(body({ step: { type: 'command', args: full } })).step).toEqual({ type: 'command', args: full });
  });

  it('counts characters as code points: 256 emoji make a valid name', () => {
    const name = '😀'.repeat(LIMITS.stepNameMaxLength);
    expect(parseJobRequest(body({ name })).name).toBe(name);
    expect(problems(body({ name: `${name}x` }))).toEqual([`name: must be at most 256 characters (got 257)`]);
  });

  it('accepts Unicode letters, digits, spaces and _ . : / = + - @ in tags, and an empty value', () => {
    const tags = { équipe: 'données', 'a b_c.d:e/f=g+h-i@j': '', '年度': '２０２４' };
    expect(parseJobRequest(body({ tags })).tags).toEqual(tags);
  });
});

describe('parseJobRequest: the body itself', () => {
  it.each([
    [[], 'an array'],
    [null, 'null'],
    ['{"clusterId":"j-1"}', 'a string'],
    [42, 'a number'],
    [true, 'a boolean'],
  ])('rejects %j with field "" and what it got', (input, got) => {
    expect(issuesOf(input)).toEqual([{ field: '', message: `the request body must be a JSON object (got ${got})` }]);
  });

  it('rejects a missing body', () => {
    expect(issuesOf(undefined)).toEqual([{ field: '', message: 'the request body is required' }]);
  });

  it('names every missing required field', () => {
    expect(problems({})).toEqual(['clusterId: is required', 'executionRoleArn: is required', 'name: is required', 'step: is required']);
  });

  it('rejects each unknown field by name and lists the fields there are', () => {
    expect(problems(body({ clusterID: 'j-1', Role: 'x' }))).toEqual([
      'clusterID: unknown field (the request body has: clusterId, executionRoleArn, name, step, actionOnFailure, timeoutSeconds, retry, priority, tags, notify)',
      'Role: unknown field (the request body has: clusterId, executionRoleArn, name, step, actionOnFailure, timeoutSeconds, retry, priority, tags, notify)',
    ]);
    expect(problems(body({ step: { type: 'hive', script: 's3://b1b/q.sql', scriptArgs: [] } }))).toEqual([
      'step.scriptArgs: unknown field (a hive step has: type, script, args)',
    ]);
  });

  it('rejects fields of the wrong type with what was expected and what came', () => {
    expect(problems(body({ clusterId: 7, name: ['a'], executionRoleArn: null }))).toEqual([
      'clusterId: must be a string (got a number)',
      'executionRoleArn: must be a string (got null)',
      'name: must be a string (got an array)',
    ]);
  });

  it('collects every problem at once, each on its own field', () => {
    const all = issuesOf({
      clusterId: 'cluster-1',
      executionRoleArn: 'arn:aws:iam::123456789012:user/bob',
      name: '',
      step: { type: 'command', args: ['ok', 'bad\u0000'] },
      actionOnFailure: 'STOP',
      timeoutSeconds: 1,
      tags: { 'aws:team': 'a' },
      extra: true,
    });
    expect(all.map((i) => i.field)).toEqual([
      'clusterId',
      'executionRoleArn',
      'name',
      'step.args[1]',
      'actionOnFailure',
      'timeoutSeconds',
      'tags["aws:team"]',
      'extra',
    ]);
  });

  it('throws a ValidationError whose message joins field and message, keeping the zod error as cause', () => {
    let caught: unknown;
    try {
      parseJobRequest(body({ timeoutSeconds: 'soon' }));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    const error = caught as ValidationError;
    expect(error.code).toBe('ValidationError');
    expect(error.message).toBe('timeoutSeconds: must be a whole number of seconds from 10 to 604800 (7 days) (got "soon")');
    expect(error.cause).toBeInstanceOf(z.ZodError);
  });
});

describe('clusterId', () => {
  it.each([
    ['j-2axxxxxxgaplf', 'must be upper case after "j-": did you mean "j-2AXXXXXXGAPLF"?'],
    ['J-2AXXXXXXGAPLF', 'must start with lower-case "j-" (an EMR cluster id such as j-2AXXXXXXGAPLF)'],
    ['2AXXXXXXGAPLF', 'must start with "j-" (an EMR cluster id such as j-2AXXXXXXGAPLF), got "2AXXXXXXGAPLF"'],
    ['j-', 'must have 1 to 254 characters after "j-" (an EMR cluster id such as j-2AXXXXXXGAPLF)'],
    [`j-${'A'.repeat(255)}`, 'must have at most 254 characters after "j-" (got 255)'],
    ['j-2AXX GAPLF', 'may contain only 0-9 and A-Z after "j-" (found " " at offset 6)'],
    ['j-2AXX_GAPLF', 'may contain only 0-9 and A-Z after "j-" (found "_" at offset 6)'],
  ])('rejects %j: %s', (clusterId, message) => {
    expect(issuesOf(body({ clusterId }))).toEqual([{ field: 'clusterId', message }]);
  });

  it('clusterIdProblem accepts real ids', () => {
    expect(clusterIdProblem('j-2AXXXXXXGAPLF')).toBeUndefined();
    expect(clusterIdProblem('j-1')).toBeUndefined();
  });
});

describe('executionRoleArn', () => {
  it.each([
    ['Caller', 'not an ARN: expected an IAM role ARN such as arn:aws:iam::123456789012:role/NAME'],
    ['arn:aws:iam:123456789012:role/Caller', 'not an ARN: expected an IAM role ARN such as arn:aws:iam::123456789012:role/NAME'],
    [
      'arn:aws-xx:iam::123456789012:role/Caller',
      'unknown partition "aws-xx": expected one of aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-eusc',
    ],
    ['arn:aws:iam::12345678901:role/Caller', 'the account must be 12 digits (got "12345678901")'],
    ['arn:aws:iam::12345678901a:role/Caller', 'the account must be 12 digits (got "12345678901a")'],
    [
      'arn:aws:sts::123456789012:assumed-role/Caller/alice',
      'not a role: this is an STS session ARN; use the role ARN arn:aws:iam::123456789012:role/Caller, not the session ARN',
    ],
    [
      'arn:aws-cn:sts::123456789012:assumed-role/Etl/pipeline',
      'not a role: this is an STS session ARN; use the role ARN arn:aws-cn:iam::123456789012:role/Etl, not the session ARN',
    ],
    ['arn:aws:iam::123456789012:user/bob', 'not a role: this ARN names an IAM "user"; expected arn:aws:iam::123456789012:role/NAME'],
    ['arn:aws:s3:::bucket/key', 'not an IAM role ARN: the service is "s3"; expected arn:aws:iam:::role/NAME'],
    ['arn:aws:iam:us-east-1:123456789012:role/Caller', 'IAM ARNs have no region (got "us-east-1"); expected arn:aws:iam::123456789012:role/NAME'],
    ['arn:aws:iam::123456789012:role/', 'the role name is missing after "role/"'],
    ['arn:aws:iam::123456789012:role', 'the role name is missing after "role/"'],
    ['arn:aws:iam::123456789012:role/Team Role', 'invalid role name "Team Role": 1 to 64 characters of A-Z a-z 0-9 + = , . @ _ -'],
    [`arn:aws:iam::123456789012:role/${'n'.repeat(65)}`, `invalid role name "${'n'.repeat(60)}…": 1 to 64 characters of A-Z a-z 0-9 + = , . @ _ -`],
    [
      'arn:aws:iam::123456789012:role/my path/Caller',
      'invalid role path "/my path/": at most 512 printable ASCII characters without spaces, between slashes',
    ],
    [
      `arn:aws:iam::123456789012:role/${'p'.repeat(511)}/Caller`,
      `invalid role path "/${'p'.repeat(59)}…": at most 512 printable ASCII characters without spaces, between slashes`,
    ],
    [`arn:aws:iam::123456789012:role/${'x'.repeat(2100)}`, 'must be at most 2048 characters (got 2131)'],
  ])('rejects %j: %s', (executionRoleArn, message) => {
    expect(issuesOf(body({ executionRoleArn }))).toEqual([{ field: 'executionRoleArn', message }]);
  });

  it('accepts a role with a path and every name character', () => {
    const arn = 'arn:aws:iam::123456789012:role/service-role/teams/a/Etl+=,.@_-Role9';
    expect(parseJobRequest(body({ executionRoleArn: arn })).executionRoleArn).toBe(arn);
    expect(roleArnProblem(arn)).toBeUndefined();
  });
});

describe('name', () => {
  it.each([
    ['', 'must not be empty'],
    ['   \u00a0', 'must not be only whitespace'],
    ['x'.repeat(257), 'must be at most 256 characters (got 257)'],
    ['line\nbreak', 'must not contain control characters (U+000A at offset 4); none are allowed'],
    ['tab\there', 'must not contain control characters (U+0009 at offset 3); none are allowed'],
    ['del\u007f', 'must not contain control characters (U+007F at offset 3); none are allowed'],
    ['c1\u0085', 'must not contain control characters (U+0085 at offset 2); none are allowed'],
    ['\u0000', 'must not contain control characters (U+0000 at offset 0); none are allowed'],
  ])('rejects %j: %s', (name, message) => {
    expect(issuesOf(body({ name }))).toContainEqual({ field: 'name', message });
  });
});

describe('step', () => {
  it.each([
    [{ type: 'pig', args: [] }, 'step.type: must be one of spark, hive, command, jar (got "pig")'],
    [{ type: 'Spark', args: ['a'] }, 'step.type: must be one of spark, hive, command, jar (got "Spark")'],
    [{ type: 3 }, 'step.type: must be one of spark, hive, command, jar (got 3)'],
    [{ args: ['a'] }, 'step.type: is required: one of spark, hive, command, jar'],
    ['spark-submit app.py', 'step: must be an object with a "type" of spark, hive, command, jar (got a string)'],
    [['spark'], 'step: must be an object with a "type" of spark, hive, command, jar (got an array)'],
  ])('rejects the step %j', (step, problem) => {
    expect(problems(body({ step }))).toEqual([problem]);
  });

  it.each(['spark', 'command'])('a %s step needs at least one argument', (type) => {
    expect(problems(body({ step: { type, args: [] } }))).toEqual(['step.args: at least 1 argument is required']);
    expect(problems(body({ step: { type } }))).toEqual(['step.args: is required']);
  });

  it('rejects a command line given as one string: arguments are an argv array', () => {
    expect(problems(body({ step: { type: 'command', args: 'bash -c "echo hi"' } }))).toEqual([
      'step.args: must be an array of strings, one per argument, not a command line (got a string)',
    ]);
  });

  it('rejects more than 1000 arguments, naming the count', () => {
    const args = Array.from({ length: 1001 }, () => 'a');
    expect(problems(body({ step: { type: 'spark', args } }))).toEqual(['step.args: at most 1000 arguments (got 1001)']);
    expect(problems(body({ step: { type: 'jar', jar: '/a.jar', args } }))).toEqual(['step.args: at most 1000 arguments (got 1001)']);
  });

  it('rejects an argument over 10240 characters, by index', () => {
    const args = ['ok', 'x'.repeat(LIMITS.argumentMaxLength + 1)];
    expect(problems(body({ step: { type: 'command', args } }))).toEqual(['step.args[1]: must be at most 10240 characters (got 10241)']);
  });

  it('rejects arguments over 102400 characters in all', () => {
    const args = Array.from({ length: 11 }, () => 'y'.repeat(10_000));
    expect(problems(body({ step: { type: 'hive', script: '/q.sql', args } }))).toEqual([
      'step.args: all arguments together must be at most 102400 characters (got 110000)',
    ]);
  });

  it.each([
    ['\u0000', 'U+0000'],
    ['\r', 'U+000D'],
    ['\u001b[31m', 'U+001B'],
    ['\u007f', 'U+007F'],
    ['\u009b', 'U+009B'],
  ])('rejects an argument with the control character %j (%s)', (ch, code) => {
    expect(problems(body({ step: { type: 'command', args: ['echo', `a${ch}`] } }))).toEqual([
      `step.args[1]: must not contain control characters (${code} at offset 1); only tab and newline are allowed`,
    ]);
  });

  it('rejects non-string arguments by index, and reports every bad argument', () => {
    expect(problems(body({ step: { type: 'spark', args: ['a', 1, null, 'b\u0000'] } }))).toEqual([
      'step.args[1]: must be a string (got a number)',
      'step.args[2]: must be a string (got null)',
      'step.args[3]: must not contain control characters (U+0000 at offset 1); only tab and newline are allowed',
    ]);
  });

  describe('hive script and jar locations', () => {
    it.each([
      ['-e', 'must not start with "-": it would be read as an option'],
      ['--hiveconf=x', 'must not start with "-": it would be read as an option'],
      ['queries/q.sql', 'must be an s3://bucket/key URI or an absolute path (got "queries/q.sql")'],
      ['https://bucket.s3.amazonaws.com/q.sql', 'must be an s3://bucket/key URI or an absolute path (got "https://bucket.s3.amazonaws.com/q.sql")'],
      ['S3://bucket/q.sql', 'must be an s3://bucket/key URI or an absolute path (got "S3://bucket/q.sql")'],
      ['s3://My_Bucket/q.sql', 'invalid S3 bucket name "My_Bucket": 3 to 63 characters of a-z 0-9 . -, starting and ending with a letter or digit'],
      ['s3://b/q.sql', 'invalid S3 bucket name "b": 3 to 63 characters of a-z 0-9 . -, starting and ending with a letter or digit'],
      ['s3://bucket', 'must name an object: s3://bucket/key'],
      ['s3://bucket/', 'must name an object: s3://bucket/key'],
      ['/', 'must name a file, not the root directory'],
      ['/tmp/q.sql\n-e', 'must not contain control characters (U+000A at offset 10); none are allowed'],
    ])('rejects %j', (script, message) => {
      expect(issuesOf(body({ step: { type: 'hive', script } }))).toEqual([{ field: 'step.script', message }]);
    });

    it('applies the same rules to a jar, and points command-runner.jar to the command type', () => {
      expect(problems(body({ step: { type: 'jar', jar: '-Dx=y' } }))).toEqual(['step.jar: must not start with "-": it would be read as an option']);
      expect(problems(body({ step: { type: 'jar', jar: 'command-runner.jar', args: ['ls'] } }))).toEqual([
        `step.jar: command-runner.jar is EMR's built-in runner: use a step of type "command" instead`,
      ]);
    });

    it('requires the script and the jar', () => {
      expect(problems(body({ step: { type: 'hive' } }))).toEqual(['step.script: is required']);
      expect(problems(body({ step: { type: 'jar', mainClass: 'a.B' } }))).toEqual(['step.jar: is required']);
    });
  });

  it.each(['-verbose', '-Dfoo=bar', 'org.example.', '1Main', 'org..Main', 'org.example.Main;rm', 'Main Class', ''])(
    'rejects the main class %j',
    (mainClass) => {
      expect(problems(body({ step: { type: 'jar', jar: 's3://bucket/a.jar', mainClass } }))).toEqual([
        `step.mainClass: must be a Java class name such as org.example.Main (got ${JSON.stringify(mainClass)})`,
      ]);
    },
  );
});

describe('actionOnFailure', () => {
  it.each(['continue', 'TERMINATE', '', 1, null])('rejects %j, listing the valid values', (actionOnFailure) => {
    expect(problems(body({ actionOnFailure }))).toEqual([
      `actionOnFailure: must be one of CONTINUE, CANCEL_AND_WAIT, TERMINATE_CLUSTER, TERMINATE_JOB_FLOW (got ${typeof actionOnFailure === 'string' ? JSON.stringify(actionOnFailure) : String(actionOnFailure)})`,
    ]);
  });
});

describe('timeoutSeconds', () => {
  it.each([
    [9, '9'],
    [604_801, '604801'],
    [10.5, '10.5'],
    [0, '0'],
    [-60, '-60'],
    ['60', '"60"'],
    [null, 'null'],
    [true, 'true'],
    [1e21, '1e+21'],
  ])('rejects %j with the range', (timeoutSeconds, got) => {
    expect(problems(body({ timeoutSeconds }))).toEqual([
      `timeoutSeconds: must be a whole number of seconds from 10 to 604800 (7 days) (got ${got})`,
    ]);
  });
});

describe('tags', () => {
  const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));

  it('rejects more than 50 tags, naming the count', () => {
    expect(problems(body({ tags: many(51) }))).toEqual(['tags: at most 50 tags (got 51)']);
  });

  it('counts invalid keys too, and reports them with the count', () => {
    const tags = { ...many(50), 'aws:x': 'v' };
    expect(problems(body({ tags }))).toEqual([
      'tags["aws:x"]: tag key must not start with "aws:": that prefix is reserved for AWS',
      'tags: at most 50 tags (got 51)',
    ]);
  });

  it.each(['aws:team', 'AWS:team', 'Aws:team'])('rejects the reserved key %j', (key) => {
    expect(issuesOf(body({ tags: { [key]: 'a' } }))).toEqual([
      { field: `tags[${JSON.stringify(key)}]`, message: 'tag key must not start with "aws:": that prefix is reserved for AWS' },
    ]);
  });

  // IAM compares tag keys case-insensitively: `Team` and `team` would be one key to a policy (one of the two
  // aws:RequestTag values silently lost) yet two tags on the job.
  it.each([
    [{ team: 'a', Team: 'b' }, 'tags.Team: tag key "Team" differs from "team" only in case: tag keys are compared case-insensitively'],
    [{ 'Cost-Centre': 'x', env: 'dev', 'COST-CENTRE': 'y' }, 'tags.COST-CENTRE: tag key "COST-CENTRE" differs from "Cost-Centre" only in case: tag keys are compared case-insensitively'],
  ])('rejects keys that differ only in case: %j', (tags, problem) => {
    expect(problems(body({ tags }))).toEqual([problem]);
  });

  it('accepts keys merely containing aws', () => {
    expect(parseJobRequest(body({ tags: { 'team:aws': 'x', awsome: 'y' } })).tags).toEqual({ 'team:aws': 'x', awsome: 'y' });
  });

  it.each([
    [{ '': 'a' }, 'tags[""]: tag key must not be empty'],
    [{ ['k'.repeat(129)]: 'a' }, `tags.${'k'.repeat(129)}: tag key must be at most 128 characters (got 129)`],
    [{ 'team!': 'a' }, 'tags["team!"]: tag key may contain only letters, digits, spaces and _ . : / = + - @ (found "!")'],
    [{ 'a\tb': 'a' }, 'tags["a\\tb"]: tag key may contain only letters, digits, spaces and _ . : / = + - @ (found U+0009)'],
    [{ team: 'v'.repeat(257) }, 'tags.team: tag value must be at most 256 characters (got 257)'],
    [{ team: 'a;b' }, 'tags.team: tag value may contain only letters, digits, spaces and _ . : / = + - @ (found ";")'],
    [{ team: 1 }, 'tags.team: must be a string (got a number)'],
  ])('rejects %j', (tags, problem) => {
    expect(problems(body({ tags }))).toEqual([problem]);
  });

  it.each([
    [[], 'an array'],
    ['team=a', 'a string'],
    [null, 'null'],
  ])('rejects tags given as %j', (tags, got) => {
    expect(problems(body({ tags }))).toEqual([`tags: must be an object of tag keys to string values (got ${got})`]);
  });
});

describe('formatPath', () => {
  it.each([
    [[], ''],
    [['executionRoleArn'], 'executionRoleArn'],
    [['step', 'args', 3], 'step.args[3]'],
    [['tags', 'team'], 'tags.team'],
    [['tags', 'cost-centre'], 'tags.cost-centre'],
    [['tags', 'a b'], 'tags["a b"]'],
    [['tags', 'a.b'], 'tags["a.b"]'],
    [['tags', ''], 'tags[""]'],
  ])('%j → %s', (path, field) => {
    expect(formatPath(path)).toBe(field);
  });
});

describe('jobRequestSchema as JSON Schema (for the OpenAPI document)', () => {
  const schema = z.toJSONSchema(jobRequestSchema, { io: 'input' }) as {
    required: string[];
    additionalProperties: boolean;
    description: string;
    properties: Record<string, { pattern?: string; description?: string; default?: unknown; oneOf?: { additionalProperties: boolean }[] }>;
  };

  it('renders without transforms, strict, with the required fields and a description for each field', () => {
    expect(schema.required).toEqual(['clusterId', 'executionRoleArn', 'name', 'step']);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.description).toMatch(/POST \/jobs/);
    for (const [field, property] of Object.entries(schema.properties)) expect([field, property.description]).toEqual([field, expect.any(String)]);
    expect(schema.properties.actionOnFailure?.default).toBe('CONTINUE');
    expect(schema.properties.step?.oneOf?.map((variant) => variant.additionalProperties)).toEqual([false, false, false, false]);
  });

  it('carries patterns that agree with the parser', () => {
    const pattern = (field: string) => new RegExp(schema.properties[field]?.pattern ?? '(?!)', 'u');
    expect(pattern('clusterId').test(VALID.clusterId)).toBe(true);
    expect(pattern('clusterId').test('j-2axx')).toBe(false);
    expect(pattern('executionRoleArn').test('arn:aws-us-gov:iam::123456789012:role/a/b/Caller')).toBe(true);
    expect(pattern('executionRoleArn').test('arn:aws:sts::123456789012:assumed-role/Caller/alice')).toBe(false);
  });
});

describe('properties', () => {
  /** Either a JobRequest or a ValidationError with at least one issue, each naming a field: nothing else, ever. */
  function assertOnlyValidationErrors(input: unknown): void {
    try {
      parseJobRequest(input);
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      const issues = (error as ValidationError).issues;
      expect(issues.length).toBeGreaterThan(0);
      for (const issue of issues) {
        expect(typeof issue.field).toBe('string');
        expect(issue.message).not.toBe('');
        expect(issue.message).not.toMatch(/^Invalid input/);
      }
    }
  }

  it('arbitrary JSON never makes parseJobRequest throw anything but a ValidationError', () => {
    fc.assert(fc.property(fc.jsonValue(), assertOnlyValidationErrors), { numRuns: 500 });
  });

  it('neither does a valid body with one field, or one step field, replaced by arbitrary JSON', () => {
    const fields = ['clusterId', 'executionRoleArn', 'name', 'step', 'actionOnFailure', 'timeoutSeconds', 'tags', 'other'];
    const stepFields = ['type', 'args', 'script', 'jar', 'mainClass', 'other'];
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.constantFrom(...stepFields), fc.jsonValue(), fc.boolean(), (field, stepField, value, inStep) => {
        const input = inStep ? body({ step: { ...VALID.step, [stepField]: value } }) : body({ [field]: value });
        assertOnlyValidationErrors(input);
      }),
      { numRuns: 500 },
    );
  });

  it('the role ARN explanation agrees with the schema: accepted iff roleArnProblem finds nothing', () => {
    const piece = fc.constantFrom('arn', 'aws', 'aws-cn', 'aws-eusc', 'awz', 'iam', 'sts', 's3', '', '123456789012', '12345', 'role', 'user', 'assumed-role', 'Caller', 'a b', 'x@y', '/');
    const sep = fc.constantFrom(':', '/', '::', '');
    const arn = fc.array(fc.tuple(piece, sep), { maxLength: 9 }).map((parts) => parts.map(([p, s]) => p + s).join(''));
    // Mostly well-formed ARNs with one or two parts off, so every explanation (and acceptance) is exercised.
    const nearValid = fc
      .tuple(
        fc.constantFrom('arn', 'arn', 'ARN'),
        fc.constantFrom(...AWS_PARTITIONS, 'aws-xx', ''),
        fc.constantFrom('iam', 'iam', 'iam', 'sts', 's3'),
        fc.constantFrom('', '', '', 'us-east-1'),
        fc.oneof(fc.constant('123456789012'), fc.stringMatching(/^\d{11,13}$/)),
        fc.constantFrom('role', 'role', 'role', 'user', 'assumed-role', 'root'),
        fc.oneof(fc.constant('/'), fc.stringMatching(/^(\/[!-~]{0,4})*\/$/)),
        fc.oneof(fc.stringMatching(/^[\w+=,.@-]{1,66}$/), fc.string({ maxLength: 8 })),
      )
      .map(([arn, partition, service, region, account, kind, path, name]) => `${arn}:${partition}:${service}:${region}:${account}:${kind}${path}${name}`);
    fc.assert(
      fc.property(fc.oneof(arn, nearValid), (executionRoleArn) => {
        const problem = roleArnProblem(executionRoleArn);
        let issues: FieldIssue[] = [];
        try {
          parseJobRequest(body({ executionRoleArn }));
        } catch (error) {
          issues = [...(error as ValidationError).issues];
        }
        expect(issues).toEqual(problem === undefined ? [] : [{ field: 'executionRoleArn', message: problem }]);
      }),
      { numRuns: 1000 },
    );
  });

  it('the cluster id explanation agrees with the schema', () => {
    fc.assert(
      fc.property(fc.oneof(fc.stringMatching(/^j-[0-9A-Z]{1,8}$/), fc.stringMatching(/^[jJ]-[0-9A-Za-z_ -]{0,6}$/), fc.string({ maxLength: 8 })), (clusterId) => {
        const problem = clusterIdProblem(clusterId);
        let issues: FieldIssue[] = [];
        try {
          parseJobRequest(body({ clusterId }));
        } catch (error) {
          issues = [...(error as ValidationError).issues];
        }
        expect(issues).toEqual(problem === undefined ? [] : [{ field: 'clusterId', message: problem }]);
      }),
      { numRuns: 500 },
    );
  });
});
