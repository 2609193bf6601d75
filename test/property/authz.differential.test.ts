/**
 * Differential property test: the gateway's policy engine (src/authz) against an independent IAM
 * evaluator, `@cloud-copilot/iam-simulate` (AGPL: a devDependency, imported only from test/ and bench/).
 *
 * fast-check generates realistic EMR identity policies (1–3 policies of 1–4 statements: Allow/Deny,
 * Action/NotAction with wildcards and mixed case, Resource/NotResource with region/id wildcards, policy
 * variables and a foreign account, Conditions over every operator family, IfExists, set operators,
 * policy variables in values, several operators per block, several keys and values) and requests (the
 * four step actions, a few cluster ARNs, request keys present / absent / multi-valued), and requires the
 * two evaluators to agree on every pair.
 *
 * Reproduce a failure with the seed printed in the error: `FC_SEED=<seed> npx jest --selectProjects property`
 * (add `FC_PATH=<path>` to jump straight to the shrunk counterexample). `FC_RUNS` overrides the run count.
 *
 * Where the oracle is not IAM, the generator stays away (these are the only exclusions):
 *  (a) Dates: the oracle reads epoch values as seconds but ISO 8601 dates as milliseconds, so comparing
 *      one with the other is meaningless there. Date operators and date keys use ISO 8601 only (and the
 *      epoch key aws:EpochTime is only compared with Numeric operators).
 *  (b) The oracle treats an empty-string context value as a missing key when substituting policy variables:
 *      no generated value (request key, principal tag, session name) is ''.
 *  (c) `ForAnyValue:`/`ForAllValues:` combined with `IfExists`: the engine applies IfExists (a missing key
 *      matches), the oracle ignores the suffix there. Set operators are never combined with IfExists.
 *  (d) The oracle matches the text of a Resource's resource part up to the first '/' as a literal prefix
 *      (`cluster/`), so a wildcard there would not work in it: generated Resources keep `cluster/` literal
 *      (the whole-`*` Resource is fine).
 *  (e) The oracle's `*` and `?` are regular-expression `.` without the dotAll flag (they never match a
 *      newline): no value contains a newline.
 *  Found by this test, where the oracle is not IAM (minimal cases in the lead's report; excluded here):
 *  (f) A negated ARN operator (ArnNotEquals/ArnNotLike) whose value holds a policy variable with no value:
 *      the oracle matches the ARN segment by segment and stops at the first mismatch, so it only notices
 *      the unresolvable variable (in the resource segment) when partition/service/region/account all
 *      match. `ArnNotEquals {ExecutionRoleArn: arn:aws:iam::123456789012:role/R-${aws:PrincipalTag/team}}`
 *      with no team tag is true for `arn:aws:iam::210987654321:role/Caller` but false for
 *      `arn:aws:iam::123456789012:role/Caller`; its own StringNotEquals treats the same value as never
 *      matching. IAM: a variable whose key is "not present ... any attempt to match it fails and causes the
 *      statement to be invalid" (IAM User Guide, "IAM policy elements: Variables and tags"). The engine
 *      fails the condition in both cases. Negated ARN operators get no default-less variables here.
 *  (g) The escapes `${*}` and `${?}` in StringEquals/StringNotEquals/...IgnoreCase: the oracle substitutes
 *      them only in its wildcard operators and elsewhere compares with the literal text "${*}". IAM: they
 *      stand for a literal `*`/`?` "in any string where you can use regular policy variables" (same page).
 *      They are generated only in StringLike/StringNotLike (and ArnLike-family values do not use them).
 *  (h) IP blocks: the oracle computes an IPv4 mask with a 32-bit shift, and `-1 << 32 === -1` in JS, so
 *      `0.0.0.0/0` matches only 0.0.0.0; and a prefix-less address (`203.0.113.7`, `2001:db8::1`) in
 *      NotIpAddress never holds for a request address of the other family, while the same address
 *      written as /32 or /128 does. IAM treats `0.0.0.0/0` as every IPv4 address and NotIpAddress as "not
 *      in the block". Policies here write every block with an explicit prefix of 1–32 / 1–128.
 *  Shapes that are not realistic for this gateway and that the two implementations parse differently are
 *  not generated either (not disagreements about IAM semantics, so not listed as findings):
 *  - a default in a policy variable is always written IAM's documented way, `${key, 'default'}` (comma and
 *    one space; the oracle only recognises exactly ", ");
 *  - policy variables only in the resource-id part of a Resource (IAM's documented place), never in the
 *    partition/service/region/account segments, and not in Binary/Bool/Numeric/Date/IP values;
 *  - Numeric request values are plain decimal numbers or clearly non-numeric text (the oracle's parseInt
 *    would read "60s" as 60);
 *  - cluster ARNs in requests are in the principal's own account (the oracle then evaluates a
 *    cross-account request, which needs a resource policy the gateway does not model);
 *  - no wildcard in the service prefix of an Action.
 *
 * Engine issues this test found, now fixed in src/authz and kept as regression cases at the end of this file:
 *  1. NotResource holding a policy variable with no value: the engine treats the pattern as matching
 *     nothing, so the NotResource statement applies to every resource (an Allow grants everything, a Deny
 *     denies everything); IAM (and the oracle) treat the statement as invalid: it does not apply.
 *  2. An IPv4 request address against an IPv6 block that covers ::ffff:0:0/96 (e.g. `::/0`): node:net's
 *     BlockList checks IPv4 addresses as IPv4-mapped IPv6, so `IpAddress {aws:SourceIp: "::/0"}` holds
 *     for 10.0.0.5 in the engine; IAM keeps IPv4 and IPv6 ranges apart (its dual-stack guidance is to
 *     list both), and so does the oracle.
 */
import fc from 'fast-check';
import { runUnsafeSimulation } from '@cloud-copilot/iam-simulate';
import { PolicyEngine } from '../../src/authz/engine';

const ACCOUNT = '123456789012';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/DataTeamA`;
const NOW = new Date('2025-06-15T12:34:56Z');
const CURRENT_TIME = NOW.toISOString().replace(/\.\d{3}Z$/, 'Z');
const EPOCH_TIME = String(Math.floor(NOW.getTime() / 1000));

type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';
type ContextValues = Record<string, string | string[]>;
type ConditionBlock = Record<string, Record<string, string | string[]>>;
interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: ConditionBlock;
}
interface PolicyDocument {
  Version: '2012-10-17';
  /** A list, or a single statement object (both are valid IAM). */
  Statement: Statement[] | Statement;
}
interface Case {
  policies: PolicyDocument[];
  /** The principals rule's tags (aws:PrincipalTag/*). */
  tags: Record<string, string>;
  /** The role session name of an assumed-role caller; undefined for a caller that is the role itself. */
  session: string | undefined;
  /** The principals rule marks session names verified: only then is the session name aws:SourceIdentity. */
  verified: boolean;
  action: string;
  resource: string;
  context: ContextValues;
}

// ---------------------------------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------------------------------

const ACTIONS = ['elasticmapreduce:AddJobFlowSteps', 'elasticmapreduce:DescribeStep', 'elasticmapreduce:ListSteps', 'elasticmapreduce:CancelSteps'];
const ACTION_PATTERNS = [
  ...ACTIONS,
  'elasticmapreduce:*',
  'elasticmapreduce:*Step*',
  'elasticmapreduce:AddJobFlow?teps',
  'elasticmapreduce:*Steps',
  'elasticmapreduce:Describe*',
  'elasticmapreduce:List*',
  '*',
  'ElasticMapReduce:addjobflowsteps',
  'elasticmapreduce:CANCELSTEPS',
  'ELASTICMAPREDUCE:Describe?tep',
  'elasticmapreduce:RunJobFlow',
  's3:GetObject',
];

const cluster = (region: string, id: string, account = ACCOUNT): string => `arn:aws:elasticmapreduce:${region}:${account}:cluster/${id}`;
const REQUEST_CLUSTERS = [
  cluster('us-east-1', 'j-ABC123'),
  cluster('us-east-1', 'j-ABCDEF'),
  cluster('us-east-1', 'j-a'),
  cluster('us-west-2', 'j-b42'),
  cluster('eu-west-1', 'j-XYZ'),
  cluster('us-east-1', 'j-alice'),
];
const RESOURCE_PATTERNS = [
  '*',
  cluster('*', '*'),
  cluster('us-east-1', 'j-ABC*'),
  cluster('us-*', '*'),
  cluster('us-east-?', 'j-*'),
  cluster('*', 'j-${aws:PrincipalTag/team}*'),
  cluster('*', 'j-${aws:PrincipalTag/team}'),
  cluster('*', "j-${aws:PrincipalTag/team, 'ABC123'}"),
  cluster('us-east-1', 'j-${aws:SourceIdentity}'),
  cluster('*', '*', '999999999999'),
  cluster('*', 'j-ABC123', '*'),
  cluster('eu-west-1', 'j-XYZ'),
  cluster('*', 'j-abc*'),
  cluster('*', 'j-???'),
  'arn:aws:ElasticMapReduce:US-EAST-1:123456789012:cluster/j-ABC123',
  'arn:aws:elasticmapreduce:*:123456789012:Cluster/*',
  'arn:aws:s3:::my-bucket/*',
];

const role = (name: string, account = ACCOUNT): string => `arn:aws:iam::${account}:role/${name}`;
const EXECUTION_ROLES = [
  role('Caller'),
  role('CallerTeamRoleETL'),
  role('CallerTeamRole-a'),
  role('CallerTeamRole-b'),
  role('CallerX'),
  role('Admin'),
  role('a'),
  role('Caller', '210987654321'),
  role('service-role/EMRJobRole'),
];

/** One generated condition key: its family (which operators fit it) and the policy values to compare with. */
interface KeySpec {
  key: string;
  family: 'string' | 'arn' | 'numeric' | 'date' | 'bool' | 'binary' | 'ip';
  policyValues: readonly string[];
  /** The key is multi-valued in requests: the natural place for ForAnyValue/ForAllValues. */
  multi?: boolean;
}

const TEAM_VAR = '${aws:PrincipalTag/team}';
const KEYS: readonly KeySpec[] = [
  {
    key: 'elasticmapreduce:ExecutionRoleArn',
    family: 'arn',
    policyValues: [
      role('Caller'),
      role('CallerTeamRole*'),
      role('CallerTeamRole-${aws:PrincipalTag/team}'),
      role("CallerTeamRole-${aws:PrincipalTag/team, 'a'}"),
      role('${aws:PrincipalTag/team}'),
      role('Caller?'),
      'arn:aws:iam::*:role/Caller',
      'arn:*:iam::123456789012:role/Admin',
      role('service-role/*'),
      role('caller'),
      role('*'),
    ],
  },
  {
    key: 'aws:PrincipalArn',
    family: 'arn',
    policyValues: [ROLE_ARN, role('DataTeam*'), role('OtherTeam'), 'arn:aws:iam::*:role/*', role('datateama')],
  },
  {
    key: 'emr-gateway:StepType',
    family: 'string',
    policyValues: ['spark', 'hive', 'command', 'jar', 'SPARK', 'spa*', '?ive', '*', 'j?r', '${aws:PrincipalTag/steps}', "${aws:PrincipalTag/steps, 'spark'}"],
  },
  {
    key: 'emr-gateway:ActionOnFailure',
    family: 'string',
    policyValues: ['CONTINUE', 'CANCEL_AND_WAIT', 'TERMINATE_CLUSTER', 'continue', '*CLUSTER', 'CANCEL_*'],
  },
  {
    key: 'aws:SourceIdentity',
    family: 'string',
    policyValues: ['alice', 'bob', 'Alice', 'a*', '${aws:PrincipalTag/owner}', "${aws:PrincipalTag/owner, 'alice'}", 'team-${aws:PrincipalTag/team}-bot'],
  },
  {
    key: 'emr-gateway:SessionName',
    family: 'string',
    policyValues: ['alice', 'bob', 'a*', '${aws:SourceIdentity}', '${aws:PrincipalTag/owner}', "${aws:SourceIdentity, 'none'}"],
  },
  {
    key: 'aws:PrincipalTag/team',
    family: 'string',
    policyValues: ['a', 'b', 'A', 'data-*', '${aws:SourceIdentity}', '?'],
  },
  {
    key: 'emr-gateway:StepName',
    family: 'string',
    policyValues: ['etl-${aws:SourceIdentity}', "etl-${aws:SourceIdentity, 'nobody'}", `${TEAM_VAR}-*`, 'etl-*', 'nightly', 'ETL-ALICE', 'etl-${*}', 'etl-${?}*', "${emr-gateway:Tags, 'nightly'}"],
  },
  {
    key: 'aws:TagKeys',
    family: 'string',
    multi: true,
    policyValues: ['team', 'env', 'cost-center', 'Owner', 'owner', 'cost-*', '*', 'TEAM'],
  },
  {
    key: 'emr-gateway:Tags',
    family: 'string',
    multi: true,
    policyValues: ['team=a', 'env=prod', 'env=dev', `team=${TEAM_VAR}`, 'env=*', 'owner=${aws:SourceIdentity}'],
  },
  {
    // The notifications a request names (multi-valued, as the job service sends it).
    key: 'emr-gateway:Notify',
    family: 'string',
    multi: true,
    policyValues: ['team-topic', 'failures', 'ops-*', '*', 'Team-Topic'],
  },
  {
    key: 'emr-gateway:TimeoutSeconds',
    family: 'numeric',
    policyValues: ['0', '60', '3600', '86400', '100.5', '-1', '3600.0'],
  },
  {
    key: 'emr-gateway:RetryMaxAttempts',
    family: 'numeric',
    policyValues: ['1', '3', '10', '2.5', '0', '-1', '3.0'],
  },
  {
    key: 'aws:EpochTime',
    family: 'numeric',
    policyValues: [String(Number(EPOCH_TIME) - 3600), EPOCH_TIME, String(Number(EPOCH_TIME) + 3600)],
  },
  {
    key: 'aws:CurrentTime',
    family: 'date',
    policyValues: ['2025-01-01T00:00:00Z', CURRENT_TIME, '2025-06-15T12:34:57Z', '2026-01-01T00:00:00Z', '2025-06-15', '2025-06-15T14:34:56+02:00'],
  },
  {
    key: 'emr-gateway:NotAfter',
    family: 'date',
    policyValues: ['2025-01-01T00:00:00Z', '2025-06-30T00:00:00Z', '2025-06-30', '2030-12-31T23:59:59Z'],
  },
  { key: 'emr-gateway:DryRun', family: 'bool', policyValues: ['true', 'false', 'True', 'FALSE'] },
  { key: 'aws:SecureTransport', family: 'bool', policyValues: ['true', 'false'] },
  { key: 'emr-gateway:ArgsHash', family: 'binary', policyValues: ['QUJD', 'REVGRw==', 'qujd'] },
  {
    key: 'aws:SourceIp',
    family: 'ip',
    policyValues: ['10.0.0.0/8', '10.1.0.0/16', '192.168.1.0/24', '203.0.113.7/32', '203.0.113.0/24', '198.51.100.0/30', '2001:db8::/32', '2001:db8::1/128', '0.0.0.0/1', '128.0.0.0/1', '::/0'],
  },
];

const OPERATORS: Record<KeySpec['family'], readonly string[]> = {
  string: ['StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike'],
  arn: ['ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike', 'StringEquals', 'StringLike', 'StringNotLike'],
  numeric: ['NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals'],
  date: ['DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals'],
  bool: ['Bool'],
  binary: ['BinaryEquals'],
  ip: ['IpAddress', 'NotIpAddress'],
};

/** Request-side values per key (the ones the context generator draws from). */
const REQUEST_VALUES: Record<string, readonly string[]> = {
  'elasticmapreduce:ExecutionRoleArn': EXECUTION_ROLES,
  'emr-gateway:StepType': ['spark', 'hive', 'command', 'jar', 'Spark'],
  'emr-gateway:ActionOnFailure': ['CONTINUE', 'CANCEL_AND_WAIT', 'TERMINATE_CLUSTER'],
  'emr-gateway:StepName': ['etl-alice', 'etl-bob', 'a-daily', 'nightly', 'ETL-ALICE', 'etl-nobody', 'etl-*', 'etl-?x', 'etl-alice@example.com', 'a.b-x', 'axb-x'],
  'emr-gateway:TimeoutSeconds': ['0', '60', '3600', '86400', '100.5', '7200', 'abc'],
  'emr-gateway:RetryMaxAttempts': ['1', '2', '3', '10', 'many'],
  'emr-gateway:NotAfter': ['2025-01-01T00:00:00Z', '2025-06-30T00:00:00Z', '2025-06-30T02:00:00+02:00', '2025-07-01T00:00:00Z', 'soon'],
  'emr-gateway:DryRun': ['true', 'false', 'TRUE', 'yes'],
  'aws:SecureTransport': ['true', 'false'],
  'emr-gateway:ArgsHash': ['QUJD', 'REVGRw==', 'qujd'],
  'aws:SourceIp': ['10.0.0.5', '10.1.2.3', '192.168.1.10', '203.0.113.7', '203.0.113.200', '198.51.100.2', '2001:db8::1', 'not-an-ip'],
};
const TAG_KEYS = ['team', 'env', 'cost-center', 'Owner'];
const TAGS = ['team=a', 'team=b', 'env=prod', 'env=dev', 'owner=alice'];

// ---------------------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------------------

/** One value, or a list of 1–n distinct values (both forms are valid IAM). */
const oneOrMany = (pool: readonly string[], max: number): fc.Arbitrary<string | string[]> =>
  fc.oneof(fc.constantFrom(...pool), fc.uniqueArray(fc.constantFrom(...pool), { minLength: 1, maxLength: max }));

/**
 * The policy values one operator may take for one key: the key's values minus the shapes the oracle
 * gets wrong, (f)–(h) in the header.
 */
function valuesFor(spec: KeySpec, operator: string): readonly string[] {
  return spec.policyValues.filter((v) => {
    // (f) a negated ARN operator with a policy variable that may have no value.
    if (/^ArnNot/.test(operator) && /\$\{[^},]*\}/.test(v)) return false;
    // (g) the escapes ${*} and ${?} outside the wildcard operators.
    if (!/Like$/.test(operator) && /\$\{[*?]\}/.test(v)) return false;
    return true;
  });
}

/** `Operator: { key: values }` entries; the operator name is built from a family operator, IfExists and a set operator. */
const conditionEntry: fc.Arbitrary<{ operator: string; key: string; values: string | string[] }> = fc
  .record({ spec: fc.constantFrom(...KEYS), operatorIndex: fc.nat() })
  .chain(({ spec, operatorIndex }) => {
    const ops = OPERATORS[spec.family];
    const operator = ops[operatorIndex % ops.length]!;
    return fc
      .record({
        isNull: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
        nullValue: fc.constantFrom<string | string[]>('true', 'false', ['true'], ['false', 'true']),
        keyCase: fc.integer({ min: 0, max: 9 }),
        ifExists: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
        // Set operators: mostly on multi-valued keys, sometimes on single-valued ones.
        set: spec.multi
          ? fc.constantFrom('ForAnyValue:', 'ForAnyValue:', 'ForAllValues:', 'ForAllValues:', '')
          : fc.constantFrom('ForAnyValue:', 'ForAllValues:', '', '', '', '', '', ''),
        values: oneOrMany(valuesFor(spec, operator), 3),
      })
      .map(({ isNull, nullValue, ifExists, set, values, keyCase }) => {
        // Condition keys are case-insensitive: sometimes write one in another case.
        const key = keyCase === 0 ? spec.key.toUpperCase() : keyCase === 1 ? spec.key.toLowerCase() : spec.key;
        // Null tests presence; it takes neither IfExists nor a set operator.
        if (isNull) return { operator: 'Null', key, values: nullValue };
        // Never a set operator together with IfExists: (c).
        const name = set ? set + operator : ifExists ? `${operator}IfExists` : operator;
        return { operator: name, key, values };
      });
  });

const conditionBlock: fc.Arbitrary<ConditionBlock | undefined> = fc.option(
  fc.array(conditionEntry, { minLength: 1, maxLength: 3 }).map((entries) => {
    const block: ConditionBlock = {};
    for (const { operator, key, values } of entries) {
      const forOperator = (block[operator] ??= {});
      if (!(key in forOperator)) forOperator[key] = values;
    }
    return block;
  }),
  { freq: 3, nil: undefined },
);

const statement: fc.Arbitrary<Statement> = fc
  .record({
    effect: fc.constantFrom<'Allow' | 'Deny'>('Allow', 'Allow', 'Deny'),
    notAction: fc.integer({ min: 0, max: 7 }).map((n) => n === 0),
    actions: oneOrMany(ACTION_PATTERNS, 3),
    notResource: fc.integer({ min: 0, max: 7 }).map((n) => n === 0),
    resources: oneOrMany(RESOURCE_PATTERNS, 3),
    condition: conditionBlock,
    sid: fc.option(fc.constantFrom('AllowSubmit', 'DenyProd', 'S1'), { nil: undefined }),
  })
  .map(({ effect, notAction, actions, notResource, resources, condition, sid }) => ({
    ...(sid ? { Sid: sid } : {}),
    Effect: effect,
    ...(notAction ? { NotAction: actions } : { Action: actions }),
    ...(notResource ? { NotResource: resources } : { Resource: resources }),
    ...(condition ? { Condition: condition } : {}),
  }));

const policy: fc.Arbitrary<PolicyDocument> = fc
  .record({ statements: fc.array(statement, { minLength: 1, maxLength: 4 }), bare: fc.boolean() })
  .map(({ statements, bare }) => ({ Version: '2012-10-17', Statement: bare && statements.length === 1 ? statements[0]! : statements }));

/** A request key or tag: absent (undefined: what shrinking goes to), or present with one of its values. */
const maybe = <T>(arb: fc.Arbitrary<T>, presentOdds = 2): fc.Arbitrary<T | undefined> => fc.option(arb, { freq: presentOdds + 1, nil: undefined });

const requestContext: fc.Arbitrary<ContextValues> = fc
  .record({
    single: fc.record(
      Object.fromEntries(Object.entries(REQUEST_VALUES).map(([key, values]) => [key, maybe(fc.constantFrom(...values))])) as Record<string, fc.Arbitrary<string | undefined>>,
    ),
    tagKeys: maybe(fc.uniqueArray(fc.constantFrom(...TAG_KEYS), { minLength: 0, maxLength: 3 })),
    tags: maybe(fc.uniqueArray(fc.constantFrom(...TAGS), { minLength: 0, maxLength: 3 })),
    notify: maybe(fc.uniqueArray(fc.constantFrom('team-topic', 'failures', 'ops-pager'), { minLength: 1, maxLength: 3 })),
    // A single-valued key sent as several values: single-valued operators never match it.
    multiStepType: fc.integer({ min: 0, max: 19 }).map((n) => n === 0),
  })
  .map(({ single, tagKeys, tags, notify, multiStepType }) => {
    const context: ContextValues = {};
    for (const [key, value] of Object.entries(single)) if (value !== undefined) context[key] = value;
    if (tagKeys) context['aws:TagKeys'] = tagKeys;
    if (tags) context['emr-gateway:Tags'] = tags;
    if (notify) context['emr-gateway:Notify'] = notify;
    if (multiStepType) context['emr-gateway:StepType'] = ['spark', 'hive'];
    return context;
  });

const caseArb: fc.Arbitrary<Case> = fc.record({
  policies: fc.array(policy, { minLength: 1, maxLength: 3 }),
  tags: fc
    .record({
      team: maybe(fc.constantFrom('a', 'b', 'data-eng', 'ABC123', 'a.b'), 4),
      owner: maybe(fc.constantFrom('alice', 'bob', 'alice@example.com')),
      steps: maybe(fc.constantFrom('spark', 'hive')),
    })
    .map((t) => Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)) as Record<string, string>),
  session: maybe(fc.constantFrom('alice', 'bob', 'team-a-bot', 'ABC123', 'a', 'alice@example.com', 'a.b'), 3),
  verified: fc.boolean(),
  action: fc.constantFrom(...ACTIONS),
  resource: fc.constantFrom(...REQUEST_CLUSTERS),
  context: requestContext,
});

// ---------------------------------------------------------------------------------------------------
// The two evaluators
// ---------------------------------------------------------------------------------------------------

function engineDecision(c: Case): Decision {
  const names = c.policies.map((_, i) => `p${i}`);
  const rule = { match: ROLE_ARN, policies: names, tags: c.tags, sessionNames: c.verified ? ('verified' as const) : ('caller-chosen' as const) };
  const engine = new PolicyEngine([rule], Object.fromEntries(c.policies.map((p, i) => [`p${i}`, p])));
  const callerArn = c.session === undefined ? ROLE_ARN : `arn:aws:sts::${ACCOUNT}:assumed-role/DataTeamA/${c.session}`;
  return engine.evaluate({ callerArn, action: c.action, resource: c.resource, context: c.context, now: NOW }).result;
}

/** The request context the engine derives (principal, tags, session, time) plus the request's own keys. */
function oracleContext(c: Case): ContextValues {
  const context: ContextValues = {
    ...c.context,
    'aws:CurrentTime': CURRENT_TIME,
    'aws:EpochTime': EPOCH_TIME,
    'aws:PrincipalArn': ROLE_ARN,
    'aws:PrincipalAccount': ACCOUNT,
    'aws:PrincipalType': c.session === undefined ? 'Role' : 'AssumedRole',
  };
  if (c.session !== undefined) context['emr-gateway:SessionName'] = c.session;
  if (c.session !== undefined && c.verified) context['aws:SourceIdentity'] = c.session;
  for (const [k, v] of Object.entries(c.tags)) context[`aws:PrincipalTag/${k}`] = v;
  return context;
}

function oracleDecision(c: Case): Decision {
  return runUnsafeSimulation(
    {
      request: { principal: ROLE_ARN, action: c.action, resource: { resource: c.resource, accountId: ACCOUNT }, contextVariables: oracleContext(c) },
      identityPolicies: c.policies.map((policy, i) => ({ name: `p${i}`, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
}

// ---------------------------------------------------------------------------------------------------
// The property
// ---------------------------------------------------------------------------------------------------

const NUM_RUNS = process.env.FC_RUNS ? Number(process.env.FC_RUNS) : 10_000;
const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0;
const PATH = process.env.FC_PATH;

describe('policy engine vs @cloud-copilot/iam-simulate (differential)', () => {
  it(`agrees on ${NUM_RUNS} generated (policy set, request) pairs, with every outcome well represented`, () => {
    const outcomes: Record<Decision, number> = { Allowed: 0, ExplicitlyDenied: 0, ImplicitlyDenied: 0 };
    let runs = 0;
    const property = fc.property(caseArb, (c) => {
      const engine = engineDecision(c);
      const oracle = oracleDecision(c);
      if (engine !== oracle) {
        throw new Error(
          `engine says ${engine}, oracle says ${oracle}\n` +
            JSON.stringify({ policies: c.policies, tags: c.tags, session: c.session, verified: c.verified, action: c.action, resource: c.resource, context: c.context }, null, 1),
        );
      }
      runs++;
      outcomes[engine]++;
    });
    try {
      fc.assert(property, { numRuns: NUM_RUNS, seed: SEED, ...(PATH ? { path: PATH } : {}) });
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? `\n${error.cause.message}` : '';
      const message = (error instanceof Error ? error.message : String(error)) + cause;
      throw new Error(`authz differential failed with seed ${SEED} (rerun: FC_SEED=${SEED} npx jest --selectProjects property)\n${message}`, { cause: error });
    }

    // Not vacuous: every outcome occurs in at least 5% of the runs.
    const share = Object.fromEntries(Object.entries(outcomes).map(([k, n]) => [k, n / runs]));
    for (const result of ['Allowed', 'ExplicitlyDenied', 'ImplicitlyDenied'] as const) {
      expect({ result, share: share[result]! >= 0.05 ? 'ok' : share[result], seed: SEED }).toEqual({ result, share: 'ok', seed: SEED });
    }
  });
});

/**
 * What one compilation shares (patterns, conditions, whole statement bodies: src/authz/intern.ts) must never carry
 * one statement's meaning into another's. Several generated cases' policies are compiled in one engine, the case's
 * own last, so that they are built from what the other cases' policies compiled first; the rule picks only the
 * case's. Its decision (result, reason, statements, near misses) must be exactly that of an engine compiling the
 * case alone, and agree with the oracle.
 */
describe('policy engine with many policy sets compiled together (sharing)', () => {
  const SHARED_RUNS = process.env.FC_RUNS ? Math.max(1, Math.floor(Number(process.env.FC_RUNS) / 10)) : 1_000;
  const names = (k: number, c: Case): string[] => c.policies.map((_, i) => `c${k}p${i}`);
  const documents = (k: number, c: Case): [string, PolicyDocument][] => c.policies.map((p, i) => [names(k, c)[i]!, p]);
  const decide = (cases: readonly Case[], k: number, alone: boolean) => {
    const c = cases[k]!;
    const others = alone ? [] : cases.flatMap((other, j) => (j === k ? [] : documents(j, other)));
    const rule = { match: ROLE_ARN, policies: names(k, c), tags: c.tags, sessionNames: c.verified ? ('verified' as const) : ('caller-chosen' as const) };
    const engine = new PolicyEngine([rule], Object.fromEntries([...others, ...documents(k, c)]));
    const callerArn = c.session === undefined ? ROLE_ARN : `arn:aws:sts::${ACCOUNT}:assumed-role/DataTeamA/${c.session}`;
    return engine.evaluate({ callerArn, action: c.action, resource: c.resource, context: c.context, now: NOW });
  };
  it(`decides each of ${SHARED_RUNS} generated groups of cases as if it were compiled alone`, () => {
    const property = fc.property(fc.array(caseArb, { minLength: 2, maxLength: 5 }), (cases) => {
      cases.forEach((c, k) => {
        const shared = decide(cases, k, false);
        expect(shared).toEqual(decide(cases, k, true));
        expect(shared.result).toBe(oracleDecision(c));
      });
    });
    fc.assert(property, { numRuns: SHARED_RUNS, seed: SEED, ...(PATH ? { path: PATH } : {}) });
  });
});

/** The shrunk counterexamples of the engine issues listed in the header (fixed): regression cases. */
describe('minimal disagreements found by the differential test (engine issues)', () => {
  const only = (...Statement: Statement[]): PolicyDocument[] => [{ Version: '2012-10-17', Statement }];
  const base: Omit<Case, 'policies'> = { tags: {}, session: undefined, verified: false, action: ACTIONS[0]!, resource: REQUEST_CLUSTERS[0]!, context: {} };
  const unresolvable = cluster('*', 'j-${aws:PrincipalTag/team}');
  const cases: [string, Case, Decision][] = [
    [
      'Allow with NotResource holding a variable with no value does not apply',
      { ...base, policies: only({ Effect: 'Allow', Action: 'elasticmapreduce:AddJobFlowSteps', NotResource: unresolvable }) },
      'ImplicitlyDenied',
    ],
    [
      'Deny with NotResource holding a variable with no value does not apply',
      { ...base, policies: only({ Effect: 'Allow', Action: '*', Resource: '*' }, { Effect: 'Deny', Action: '*', NotResource: unresolvable }) },
      'Allowed',
    ],
    [
      'an IPv4 address is not in the IPv6 block ::/0',
      { ...base, context: { 'aws:SourceIp': '10.0.0.5' }, policies: only({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '::/0' } } }) },
      'ImplicitlyDenied',
    ],
  ];
  it.each(cases)('%s', (_name, c, iam) => {
    expect({ engine: engineDecision(c), oracle: oracleDecision(c) }).toEqual({ engine: iam, oracle: iam });
  });
});
