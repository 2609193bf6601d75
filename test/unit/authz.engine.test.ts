import { resolvePrincipal } from '../../src/authz/arn';
import { PolicyEngine } from '../../src/authz/engine';
import type { PolicyCompileError } from '../../src/errors';
import { rolesFor } from '../../src/authz/roles';
import { ACCOUNT, ALICE, CLUSTER, SUBMIT, decide, engineWith, role } from '../support/authz';

const ROLE = 'elasticmapreduce:ExecutionRoleArn';

/** The statement from the EMR runtime-roles documentation, verbatim apart from the account id. */
const DOC_STATEMENT = {
  Sid: 'AddStepsWithSpecificExecRoleArn',
  Effect: 'Allow',
  Action: ['elasticmapreduce:AddJobFlowSteps'],
  Resource: '*',
  Condition: {
    StringEquals: { [ROLE]: [role('Caller')] },
    StringLike: { [ROLE]: [role('CallerTeamRole*')] },
  },
};

describe('the EMR documentation examples', () => {
  it('StringEquals and StringLike on one key in one statement are ANDed: with disjoint values nothing is allowed', () => {
    const engine = engineWith([DOC_STATEMENT]);
    expect(decide(engine, { [ROLE]: role('Caller') })).toBe('ImplicitlyDenied');
    expect(decide(engine, { [ROLE]: role('CallerTeamRoleETL') })).toBe('ImplicitlyDenied');
  });
  it('the same conditions split into two statements allow either role', () => {
    const { Condition, ...rest } = DOC_STATEMENT;
    const engine = engineWith([
      { ...rest, Sid: 'Exact', Condition: { StringEquals: Condition.StringEquals } },
      { ...rest, Sid: 'Family', Condition: { StringLike: Condition.StringLike } },
    ]);
    expect(decide(engine, { [ROLE]: role('Caller') })).toBe('Allowed');
    expect(decide(engine, { [ROLE]: role('CallerTeamRoleETL') })).toBe('Allowed');
    expect(decide(engine, { [ROLE]: role('Admin') })).toBe('ImplicitlyDenied');
  });
  it('an explicit Deny overrides an Allow, and the decision names both', () => {
    const engine = engineWith([
      { Sid: 'Family', Effect: 'Allow', Action: SUBMIT, Resource: '*', Condition: { StringLike: { [ROLE]: role('CallerTeamRole*') } } },
      { Sid: 'NoAdmin', Effect: 'Deny', Action: 'elasticmapreduce:*', Resource: '*', Condition: { StringLike: { [ROLE]: role('*Admin') } } },
    ]);
    expect(decide(engine, { [ROLE]: role('CallerTeamRoleETL') })).toBe('Allowed');
    const d = engine.evaluate({ callerArn: ALICE, action: SUBMIT, resource: CLUSTER, context: { [ROLE]: role('CallerTeamRoleAdmin') } });
    expect(d.result).toBe('ExplicitlyDenied');
    expect(d.deniedBy).toEqual([{ policy: 'p', index: 1, sid: 'NoAdmin', effect: 'Deny' }]);
    expect(d.allowedBy).toEqual([{ policy: 'p', index: 0, sid: 'Family', effect: 'Allow' }]);
    expect(d.reason).toBe('explicitly denied by p statement 1 (Sid NoAdmin)');
  });
});

describe('actions and resources', () => {
  const allow = (extra: Record<string, unknown>) => engineWith([{ Effect: 'Allow', ...extra }]);
  it('actions match case-insensitively with wildcards', () => {
    expect(decide(allow({ Action: 'ElasticMapReduce:addjobflow*', Resource: '*' }))).toBe('Allowed');
    expect(decide(allow({ Action: 'elasticmapreduce:AddJobFlowStep?', Resource: '*' }))).toBe('Allowed');
    expect(decide(allow({ Action: 'elasticmapreduce:Describe*', Resource: '*' }))).toBe('ImplicitlyDenied');
    expect(decide(allow({ Action: 's3:AddJobFlowSteps', Resource: '*' }))).toBe('ImplicitlyDenied');
    expect(decide(allow({ Action: '*', Resource: '*' }))).toBe('Allowed');
  });
  it('NotAction matches every action not listed', () => {
    expect(decide(allow({ NotAction: 'elasticmapreduce:CancelSteps', Resource: '*' }))).toBe('Allowed');
    expect(decide(allow({ NotAction: ['elasticmapreduce:Add*'], Resource: '*' }))).toBe('ImplicitlyDenied');
  });
  it('resources: wildcards per segment, case-sensitive resource id, NotResource', () => {
    expect(decide(allow({ Action: SUBMIT, Resource: `arn:aws:elasticmapreduce:*:${ACCOUNT}:cluster/*` }))).toBe('Allowed');
    expect(decide(allow({ Action: SUBMIT, Resource: `arn:aws:elasticmapreduce:us-east-1:${ACCOUNT}:cluster/j-2A*` }))).toBe('Allowed');
    expect(decide(allow({ Action: SUBMIT, Resource: `arn:aws:elasticmapreduce:us-east-1:${ACCOUNT}:cluster/j-2a*` }))).toBe('ImplicitlyDenied');
    expect(decide(allow({ Action: SUBMIT, Resource: `arn:aws:elasticmapreduce:us-east-1:999999999999:cluster/*` }))).toBe('ImplicitlyDenied');
    expect(decide(allow({ Action: SUBMIT, NotResource: `arn:aws:elasticmapreduce:*:*:cluster/j-PROD*` }))).toBe('Allowed');
    expect(decide(allow({ Action: SUBMIT, NotResource: `arn:aws:elasticmapreduce:*:*:cluster/j-2A*` }))).toBe('ImplicitlyDenied');
  });
  it('policy variables in resources', () => {
    const engine = allow({ Action: SUBMIT, Resource: `arn:aws:elasticmapreduce:*:\${aws:PrincipalAccount}:cluster/*` });
    expect(decide(engine)).toBe('Allowed');
    expect(decide(engine, {}, { callerArn: 'arn:aws:sts::999999999999:assumed-role/DataTeamA/x' })).toBe('ImplicitlyDenied');
  });
  it('Version 2008-10-17 takes policy variables literally', () => {
    const engine = new PolicyEngine([{ match: role('DataTeamA'), policies: ['p'] }], {
      p: { Version: '2008-10-17', Statement: { Effect: 'Allow', Action: SUBMIT, Resource: '*', Condition: { StringEquals: { 'emr-gateway:X': '${aws:SourceIdentity}' } } } },
    });
    expect(decide(engine, { 'emr-gateway:X': 'alice' })).toBe('ImplicitlyDenied');
    expect(decide(engine, { 'emr-gateway:X': '${aws:SourceIdentity}' })).toBe('Allowed');
  });
});

describe('principals', () => {
  it('an assumed-role session is matched as its role, and the session name is kept', () => {
    expect(resolvePrincipal(ALICE)).toEqual({
      callerArn: ALICE,
      principalArn: role('DataTeamA'),
      account: ACCOUNT,
      partition: 'aws',
      type: 'AssumedRole',
      sessionName: 'alice',
    });
    expect(resolvePrincipal('arn:aws-cn:iam::123456789012:user/ops/bob')?.type).toBe('User');
    expect(resolvePrincipal('arn:aws:iam::123456789012:role/x')?.principalArn).toBe('arn:aws:iam::123456789012:role/x');
    expect(resolvePrincipal('arn:aws:s3:::bucket')).toBeUndefined();
    expect(resolvePrincipal('alice')).toBeUndefined();
  });
  it('the first matching rule wins, exact and wildcard rules alike', () => {
    const doc = (sid: string) => ({ Version: '2012-10-17', Statement: [{ Sid: sid, Effect: 'Allow', Action: '*', Resource: '*' }] });
    const engine = new PolicyEngine(
      [
        { match: role('Data*'), policies: ['wild'] },
        { match: role('DataTeamA'), policies: ['exact'] },
        { match: `arn:aws:sts::${ACCOUNT}:assumed-role/Ops/*`, policies: ['session'], sessionNames: 'verified' },
        { match: role('Ops'), policies: ['exact'] },
      ],
      { wild: doc('Wild'), exact: doc('Exact'), session: doc('Session') },
    );
    const sidFor = (caller: string) => engine.evaluate({ callerArn: caller, action: SUBMIT, resource: CLUSTER }).allowedBy[0]?.sid;
    expect(sidFor(ALICE)).toBe('Wild');
    expect(sidFor(`arn:aws:sts::${ACCOUNT}:assumed-role/Ops/eve`)).toBe('Session'); // the raw session ARN matches rule 2 first
    expect(sidFor(role('Ops'))).toBe('Exact');
    expect(sidFor(role('Nobody'))).toBeUndefined();
  });
  it('no rule, or a non-principal caller, is an implicit deny that says so', () => {
    const engine = engineWith([{ Effect: 'Allow', Action: '*', Resource: '*' }]);
    expect(engine.evaluate({ callerArn: role('Other'), action: SUBMIT, resource: CLUSTER }).reason).toMatch(/no principals rule matches/);
    expect(engine.evaluate({ callerArn: 'garbage', action: SUBMIT, resource: CLUSTER }).reason).toMatch(/not an IAM principal/);
  });
  it('principal-derived keys cannot be supplied by the caller', () => {
    const engine = engineWith([{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalTag/team': 'admins' } } }]);
    expect(decide(engine, { 'aws:PrincipalTag/team': 'admins', 'aws:principaltag/TEAM': 'admins' })).toBe('ImplicitlyDenied');
    const arn = engineWith([{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { ArnEquals: { 'aws:PrincipalArn': role('Admin') } } }]);
    expect(decide(arn, { 'aws:PrincipalArn': role('Admin') })).toBe('ImplicitlyDenied');
  });
});

describe('decisions carry their reasons', () => {
  it('an implicit deny lists the near misses and the conditions that failed', () => {
    const engine = engineWith([
      { Sid: 'Family', Effect: 'Allow', Action: SUBMIT, Resource: '*', Condition: { StringLike: { [ROLE]: role('CallerTeamRole*') }, StringEquals: { 'emr-gateway:StepType': 'spark' } } },
    ]);
    const d = engine.evaluate({ callerArn: ALICE, action: SUBMIT, resource: CLUSTER, context: { [ROLE]: role('CallerTeamRoleX'), 'emr-gateway:StepType': 'hive' } });
    expect(d.result).toBe('ImplicitlyDenied');
    expect(d.nearMisses).toEqual([{ statement: expect.objectContaining({ sid: 'Family' }), failedConditions: ['StringEquals emr-gateway:StepType'] }]);
    expect(d.reason).toContain('p statement 0 (Sid Family) failed StringEquals emr-gateway:StepType');
  });
  it('an allow names its statements', () => {
    const engine = engineWith([{ Sid: 'A', Effect: 'Allow', Action: SUBMIT, Resource: '*' }]);
    const d = engine.evaluate({ callerArn: ALICE, action: SUBMIT, resource: CLUSTER });
    expect(d).toMatchObject({ result: 'Allowed', allowed: true, reason: 'allowed by p statement 0 (Sid A)', rule: { index: 0 } });
  });
});

describe('compilation rejects what IAM would not take', () => {
  const compileErrors = (statement: unknown): string[] => {
    try {
      engineWith([statement]);
      return [];
    } catch (error) {
      return (error as PolicyCompileError).issues.map((i) => `${i.path.join('/')}: ${i.message}`);
    }
  };
  it.each([
    [{ Effect: 'Permit', Action: '*', Resource: '*' }, /Statement\/0\/Effect: must be "Allow" or "Deny"/],
    [{ Effect: 'Allow', Resource: '*' }, /needs Action or NotAction/],
    [{ Effect: 'Allow', Action: '*', NotAction: 'x:y', Resource: '*' }, /has both Action and NotAction/],
    [{ Effect: 'Allow', Action: 'AddJobFlowSteps', Resource: '*' }, /is not an action/],
    [{ Effect: 'Allow', Action: '*', Resource: 'cluster/j-1' }, /is not "\*" or an ARN/],
    [{ Effect: 'Allow', Action: '*', Resource: '*', Principal: '*' }, /identity policies have no Principal/],
    [{ Effect: 'Allow', Action: '*', Resource: '*', Condtion: {} }, /unknown statement element "Condtion"/],
    [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEqual: { 'a:b': 'c' } } }, /unknown condition operator "StringEqual"/],
    [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { NumericLessThan: { 'a:b': 'ten' } } }, /"ten" is not a number/],
    [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { DateLessThan: { 'a:b': 'soon' } } }, /is not a date/],
    [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { Bool: { 'a:b': 'yes' } } }, /is not a boolean/],
    [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/33' } } }, /not an IP address or CIDR/],
    [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { NullIfExists: { 'a:b': 'true' } } }, /Null takes neither IfExists/],
    [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { 'ForSomeValues:StringEquals': { 'a:b': 'c' } } }, /unknown set operator/],
    [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquals: { nokey: 'c' } } }, /is not a condition key/],
    [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquals: { 'a:b': [] } } }, /values must be/],
    [{ Effect: 'Allow', Action: [], Resource: '*' }, /Action: must not be empty/],
  ])('%j', (statement, message) => {
    expect(compileErrors(statement).join('\n')).toMatch(message);
  });
  it('reports every problem at once', () => {
    expect(compileErrors({ Effect: 'x', Action: 'y', Resource: 'z' })).toHaveLength(3);
  });
});

describe('rolesFor', () => {
  it('lists the catalogue roles the caller may use, with the step types allowed', () => {
    const engine = engineWith([
      { Effect: 'Allow', Action: SUBMIT, Resource: '*', Condition: { StringLike: { [ROLE]: role('CallerTeamRole*') } } },
      { Effect: 'Allow', Action: SUBMIT, Resource: '*', Condition: { StringEquals: { [ROLE]: role('Caller'), 'emr-gateway:StepType': 'spark' } } },
      { Effect: 'Deny', Action: SUBMIT, Resource: '*', Condition: { StringLike: { [ROLE]: role('*Admin') } } },
    ]);
    const options = rolesFor(engine, {
      callerArn: ALICE,
      clusterArn: CLUSTER,
      catalogue: [role('Caller'), role('CallerTeamRoleETL'), role('CallerTeamRoleAdmin'), role('Other')],
      stepTypes: ['spark', 'hive', 'command', 'jar'],
      actionOnFailure: 'CONTINUE',
    });
    expect(options.map((o) => [o.roleArn.split('/')[1], o.stepTypes])).toEqual([
      ['Caller', ['spark']],
      ['CallerTeamRoleETL', ['spark', 'hive', 'command', 'jar']],
      ['CallerTeamRoleAdmin', []],
      ['Other', []],
    ]);
    expect(options[2]!.decision.result).toBe('ExplicitlyDenied');
  });
});

describe('session names are caller-chosen unless the principals rule marks them verified', () => {
  // Whoever calls AssumeRole picks the session name: `assumed-role/DataTeamA/chosen-by-caller` claims nothing.
  const SPOOFED = `arn:aws:sts::${ACCOUNT}:assumed-role/DataTeamA/chosen-by-caller`;
  const allowWhen = (condition: Record<string, unknown>) => engineWith([{ Effect: 'Allow', Action: SUBMIT, Resource: '*', Condition: condition }]);

  it('on a rule that says nothing, a spoofed session name is not aws:SourceIdentity, nor its policy variable', () => {
    expect(decide(allowWhen({ StringEquals: { 'aws:SourceIdentity': 'chosen-by-caller' } }), {}, { callerArn: SPOOFED })).toBe('ImplicitlyDenied');
    const owner = allowWhen({ StringEquals: { 'emr-gateway:Owner': '${aws:SourceIdentity}' } });
    expect(decide(owner, { 'emr-gateway:Owner': 'chosen-by-caller' }, { callerArn: SPOOFED })).toBe('ImplicitlyDenied');
    expect(decide(allowWhen({ Null: { 'aws:SourceIdentity': 'true' } }), {}, { callerArn: SPOOFED })).toBe('Allowed');
  });

  it('the session name is emr-gateway:SessionName, which no caller can supply', () => {
    const named = allowWhen({ StringEquals: { 'emr-gateway:SessionName': 'chosen-by-caller' } });
    expect(decide(named, {}, { callerArn: SPOOFED })).toBe('Allowed');
    expect(decide(named, { 'emr-gateway:SessionName': 'chosen-by-caller' }, { callerArn: role('DataTeamA') })).toBe('ImplicitlyDenied');
    expect(decide(named, { 'EMR-Gateway:sessionname': 'chosen-by-caller' }, { callerArn: `arn:aws:sts::${ACCOUNT}:assumed-role/DataTeamA/other` })).toBe('ImplicitlyDenied');
  });

  it('a configured source identity (a schedule or trigger) is aws:SourceIdentity whatever the rule says', () => {
    const engine = allowWhen({ StringEquals: { 'aws:SourceIdentity': 'schedule-nightly' } });
    expect(decide(engine, {}, { callerArn: role('DataTeamA'), sourceIdentity: 'schedule-nightly' })).toBe('Allowed');
  });

  it('on a rule marked verified, the session name is aws:SourceIdentity (and still emr-gateway:SessionName)', () => {
    const verified = (condition: Record<string, unknown>) => engineWith([{ Effect: 'Allow', Action: SUBMIT, Resource: '*', Condition: condition }], { team: 'a' }, 'verified');
    expect(decide(verified({ StringEquals: { 'aws:SourceIdentity': 'chosen-by-caller' } }), {}, { callerArn: SPOOFED })).toBe('Allowed');
    expect(decide(verified({ StringEquals: { 'aws:SourceIdentity': 'alice' } }), {}, { callerArn: SPOOFED })).toBe('ImplicitlyDenied');
    expect(decide(verified({ StringEquals: { 'emr-gateway:SessionName': 'alice' } }))).toBe('Allowed');
    // The role itself has no session: nothing to verify.
    expect(decide(verified({ Null: { 'aws:SourceIdentity': 'true', 'emr-gateway:SessionName': 'true' } }), {}, { callerArn: role('DataTeamA') })).toBe('Allowed');
    expect(engineWith([], {}, 'verified').identify(ALICE)).toEqual({ principal: resolvePrincipal(ALICE), sourceIdentity: 'alice' });
    expect(engineWith([]).identify(ALICE)).toEqual({ principal: resolvePrincipal(ALICE), sessionName: 'alice' });
    expect(engineWith([]).identify(ALICE, 'schedule-nightly')).toEqual({ principal: resolvePrincipal(ALICE), sourceIdentity: 'schedule-nightly', sessionName: 'alice' });
  });

  it('session ARN patterns pick a rule only where it is marked verified', () => {
    const doc = (sid: string) => ({ Version: '2012-10-17', Statement: [{ Sid: sid, Effect: 'Allow', Action: '*', Resource: '*' }] });
    const engine = new PolicyEngine(
      [
        { match: `arn:aws:sts::${ACCOUNT}:assumed-role/DataTeamA/mallory`, policies: ['mallory'] },
        { match: `arn:aws:sts::${ACCOUNT}:assumed-role/DataTeamA/a*`, policies: ['unverified'] },
        { match: `arn:aws:sts::${ACCOUNT}:assumed-role/DataTeamA/alice`, policies: ['alice'], sessionNames: 'verified' },
        { match: `arn:aws:sts::${ACCOUNT}:assumed-role/DataTeamA/b*`, policies: ['b'], sessionNames: 'verified' },
        { match: role('DataTeamA'), policies: ['role'] },
      ],
      { mallory: doc('Mallory'), unverified: doc('Unverified'), alice: doc('Alice'), b: doc('B'), role: doc('Role') },
    );
    const sidFor = (session: string) => engine.evaluate({ callerArn: `arn:aws:sts::${ACCOUNT}:assumed-role/DataTeamA/${session}`, action: SUBMIT, resource: CLUSTER }).allowedBy[0]?.sid;
    expect(sidFor('alice')).toBe('Alice');
    expect(sidFor('bob')).toBe('B');
    expect(sidFor('mallory')).toBe('Role');
    expect(sidFor('anyone')).toBe('Role');
  });

  it('a rule that says nothing never matches by session ARN: only by the role', () => {
    const allowAll = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
    const engine = new PolicyEngine([{ match: `arn:aws:sts::${ACCOUNT}:assumed-role/DataTeamA/alice`, policies: ['p'] }], { p: allowAll });
    const d = engine.evaluate({ callerArn: ALICE, action: SUBMIT, resource: CLUSTER });
    expect(d.result).toBe('ImplicitlyDenied');
    expect(d.reason).toMatch(/no principals rule matches/);
    const wild = new PolicyEngine([{ match: `arn:aws:sts::${ACCOUNT}:assumed-role/*/alice`, policies: ['p'] }], { p: allowAll });
    expect(wild.evaluate({ callerArn: ALICE, action: SUBMIT, resource: CLUSTER }).result).toBe('ImplicitlyDenied');
  });
});
