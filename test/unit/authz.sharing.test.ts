/**
 * The engine compiles what policies write alike once and shares it (src/authz/intern.ts): patterns, conditions, whole
 * statement bodies, the per-action statement lists of rules naming the same policies. Sharing must never carry one
 * statement's meaning, identity or state into another's: these tests fail if it does.
 */
import { PolicyEngine, type AuthzRequest, type PrincipalRule } from '../../src/authz/engine';
import { compilePolicy } from '../../src/authz/policy';
import { ACCOUNT, CLUSTER, SUBMIT, role } from '../support/authz';

const STEP = 'emr-gateway:StepType';
const caller = (roleName: string, session = 'alice'): string => `arn:aws:sts::${ACCOUNT}:assumed-role/${roleName}/${session}`;
const submitAs = (engine: PolicyEngine, roleName: string, context: AuthzRequest['context'] = {}, resource = CLUSTER) =>
  engine.evaluate({ callerArn: caller(roleName), action: SUBMIT, resource, context });
const doc = (...Statement: unknown[]) => ({ Version: '2012-10-17', Statement });
const rules = (...entries: [string, string[], Record<string, string>?][]): PrincipalRule[] =>
  entries.map(([name, policies, tags]) => ({ match: role(name), policies, ...(tags ? { tags } : {}) }));

describe('statements that share patterns keep their own meaning', () => {
  it('the same action and resource with different conditions: each statement keeps its own conditions', () => {
    const submit = { Effect: 'Allow', Action: SUBMIT, Resource: `arn:aws:elasticmapreduce:*:${ACCOUNT}:cluster/*` };
    const engine = new PolicyEngine(rules(['Spark', ['spark']], ['Hive', ['hive']], ['Both', ['spark', 'hive']]), {
      spark: doc({ ...submit, Sid: 'Spark', Condition: { StringEquals: { [STEP]: 'spark' } } }),
      hive: doc({ ...submit, Sid: 'Hive', Condition: { StringEquals: { [STEP]: 'hive' } } }),
    });
    expect(submitAs(engine, 'Spark', { [STEP]: 'spark' }).result).toBe('Allowed');
    expect(submitAs(engine, 'Spark', { [STEP]: 'hive' }).result).toBe('ImplicitlyDenied');
    expect(submitAs(engine, 'Hive', { [STEP]: 'hive' }).result).toBe('Allowed');
    expect(submitAs(engine, 'Hive', { [STEP]: 'spark' }).result).toBe('ImplicitlyDenied');
    // The near miss names the statement's own condition and policy.
    expect(submitAs(engine, 'Hive', { [STEP]: 'spark' }).nearMisses).toEqual([
      { statement: { policy: 'hive', index: 0, effect: 'Allow', sid: 'Hive' }, failedConditions: ['StringEquals emr-gateway:StepType'] },
    ]);
    expect(submitAs(engine, 'Both', { [STEP]: 'hive' }).allowedBy).toEqual([{ policy: 'hive', index: 0, effect: 'Allow', sid: 'Hive' }]);
  });

  it('one body written in two policies, with other effects and Sids: each decision names its own statement', () => {
    const body = { Action: SUBMIT, Resource: '*', Condition: { StringEquals: { [STEP]: 'jar' } } };
    const engine = new PolicyEngine(rules(['Allows', ['allow']], ['Denies', ['all', 'deny']]), {
      all: doc({ Effect: 'Allow', Action: '*', Resource: '*' }),
      allow: doc({ Effect: 'Allow', Action: 'elasticmapreduce:DescribeStep', Resource: '*' }, { Sid: 'AllowJar', Effect: 'Allow', ...body }),
      deny: doc({ Sid: 'DenyJar', Effect: 'Deny', ...body }),
    });
    const allowed = submitAs(engine, 'Allows', { [STEP]: 'jar' });
    expect(allowed.result).toBe('Allowed');
    expect(allowed.allowedBy).toEqual([{ policy: 'allow', index: 1, effect: 'Allow', sid: 'AllowJar' }]);
    const denied = submitAs(engine, 'Denies', { [STEP]: 'jar' });
    expect(denied.result).toBe('ExplicitlyDenied');
    expect(denied.deniedBy).toEqual([{ policy: 'deny', index: 0, effect: 'Deny', sid: 'DenyJar' }]);
    expect(submitAs(engine, 'Denies', { [STEP]: 'spark' }).result).toBe('Allowed');
    // The compiled statements share the body (conditions included) but not the reference.
    const [a, d] = [engine.policies.get('allow')!.statements[1]!, engine.policies.get('deny')!.statements[0]!];
    expect(a.conditions).toBe(d.conditions);
    expect(a.ref).not.toBe(d.ref);
  });

  it('the same text under wildcard and literal operators, or under two policy versions, compiles apart', () => {
    const condition = (operator: string) => doc({ Effect: 'Allow', Action: SUBMIT, Resource: '*', Condition: { [operator]: { [STEP]: 's*' } } });
    const resourceIs = (version: string) => ({ Version: version, Statement: [{ Effect: 'Allow', Action: SUBMIT, Resource: `arn:aws:elasticmapreduce:*:${ACCOUNT}:cluster/j-\${aws:PrincipalTag/team}` }] });
    const engine = new PolicyEngine(
      rules(['Like', ['like']], ['Equals', ['equals']], ['IgnoreCase', ['ignore']], ['New', ['new'], { team: 'a' }], ['Old', ['old'], { team: 'a' }]),
      { like: condition('StringLike'), equals: condition('StringEquals'), ignore: condition('StringEqualsIgnoreCase'), new: resourceIs('2012-10-17'), old: resourceIs('2008-10-17') },
    );
    expect(submitAs(engine, 'Like', { [STEP]: 'spark' }).result).toBe('Allowed');
    expect(submitAs(engine, 'Equals', { [STEP]: 'spark' }).result).toBe('ImplicitlyDenied');
    expect(submitAs(engine, 'Equals', { [STEP]: 's*' }).result).toBe('Allowed');
    expect(submitAs(engine, 'Equals', { [STEP]: 'S*' }).result).toBe('ImplicitlyDenied');
    expect(submitAs(engine, 'IgnoreCase', { [STEP]: 'S*' }).result).toBe('Allowed');
    const clusterA = `arn:aws:elasticmapreduce:us-east-1:${ACCOUNT}:cluster/j-a`;
    const literal = `arn:aws:elasticmapreduce:us-east-1:${ACCOUNT}:cluster/j-\${aws:PrincipalTag/team}`;
    // 2012-10-17 substitutes the variable; 2008-10-17 takes it literally.
    expect(submitAs(engine, 'New', {}, clusterA).result).toBe('Allowed');
    expect(submitAs(engine, 'New', {}, literal).result).toBe('ImplicitlyDenied');
    expect(submitAs(engine, 'Old', {}, clusterA).result).toBe('ImplicitlyDenied');
    expect(submitAs(engine, 'Old', {}, literal).result).toBe('Allowed');
  });

  it('a condition value with a policy variable, under two policy versions, compiles apart', () => {
    const statement = { Effect: 'Allow', Action: SUBMIT, Resource: '*', Condition: { StringEquals: { [STEP]: '${aws:PrincipalTag/steps}' } } };
    const engine = new PolicyEngine(rules(['New', ['new'], { steps: 'spark' }], ['Old', ['old'], { steps: 'spark' }]), {
      new: { Version: '2012-10-17', Statement: [statement] },
      old: { Version: '2008-10-17', Statement: [statement] },
    });
    expect(submitAs(engine, 'New', { [STEP]: 'spark' }).result).toBe('Allowed');
    expect(submitAs(engine, 'New', { [STEP]: '${aws:PrincipalTag/steps}' }).result).toBe('ImplicitlyDenied');
    expect(submitAs(engine, 'Old', { [STEP]: 'spark' }).result).toBe('ImplicitlyDenied');
    expect(submitAs(engine, 'Old', { [STEP]: '${aws:PrincipalTag/steps}' }).result).toBe('Allowed');
  });

  it('a statement that differs only by one condition value is not taken for another', () => {
    const statement = (roleArn: string) => ({ Effect: 'Allow', Action: SUBMIT, Resource: '*', Condition: { StringLike: { 'elasticmapreduce:ExecutionRoleArn': roleArn } } });
    const engine = new PolicyEngine(rules(['A', ['a']], ['B', ['b']]), { a: doc(statement(role('TeamA*'))), b: doc(statement(role('TeamB*'))) });
    const as = (name: string, executionRole: string) => submitAs(engine, name, { 'elasticmapreduce:ExecutionRoleArn': role(executionRole) }).result;
    expect([as('A', 'TeamA-etl'), as('A', 'TeamB-etl'), as('B', 'TeamA-etl'), as('B', 'TeamB-etl')]).toEqual(['Allowed', 'ImplicitlyDenied', 'ImplicitlyDenied', 'Allowed']);
  });
});

describe('what rules share keeps no state of a request or a principal', () => {
  it('rules naming the same policy share its statements, each with its own tags', () => {
    const engine = new PolicyEngine(rules(['TeamA', ['p'], { team: 'a' }], ['TeamB', ['p'], { team: 'b' }]), {
      p: doc({ Effect: 'Allow', Action: SUBMIT, Resource: '*', Condition: { StringEquals: { 'aws:PrincipalTag/team': 'a' } } }, {
        Effect: 'Allow',
        Action: SUBMIT,
        Resource: `arn:aws:elasticmapreduce:*:${ACCOUNT}:cluster/j-\${aws:PrincipalTag/team}`,
      }),
    });
    const clusterOf = (team: string) => `arn:aws:elasticmapreduce:us-east-1:${ACCOUNT}:cluster/j-${team}`;
    // The per-action list is filled by TeamA's request first, then used for TeamB's: the decisions stay each one's.
    expect(submitAs(engine, 'TeamA', {}, clusterOf('x')).allowedBy.map((s) => s.index)).toEqual([0]);
    expect(submitAs(engine, 'TeamB', {}, clusterOf('x')).result).toBe('ImplicitlyDenied');
    expect(submitAs(engine, 'TeamB', {}, clusterOf('b')).allowedBy.map((s) => s.index)).toEqual([1]);
    expect(submitAs(engine, 'TeamA', {}, clusterOf('b')).allowedBy.map((s) => s.index)).toEqual([0]);
  });

  it('actions are matched whatever their case, and beyond the cached actions as well', () => {
    const engine = new PolicyEngine(rules(['A', ['p']]), {
      p: doc({ Effect: 'Allow', Action: 'elasticmapreduce:Describe*', Resource: '*' }, { Effect: 'Deny', Action: 'elasticmapreduce:DescribeStep', Resource: '*' }),
    });
    const decide = (action: string) => engine.evaluate({ callerArn: caller('A'), action, resource: CLUSTER }).result;
    expect(decide('elasticmapreduce:DescribeCluster')).toBe('Allowed');
    expect(decide('ELASTICMAPREDUCE:describecluster')).toBe('Allowed');
    expect(decide('elasticmapreduce:describestep')).toBe('ExplicitlyDenied');
    // More distinct actions than the engine caches lists for: those past the bound are matched each time.
    for (let i = 0; i < 100; i++) expect(decide(`elasticmapreduce:Describe${i}`)).toBe('Allowed');
    for (let i = 0; i < 100; i++) expect(decide(`elasticmapreduce:List${i}`)).toBe('ImplicitlyDenied');
    expect(decide('elasticmapreduce:DescribeStep')).toBe('ExplicitlyDenied');
    expect(decide('elasticmapreduce:DescribeCluster')).toBe('Allowed');
  });

  it('separate engines compile apart: nothing is kept in a global cache', () => {
    const p = doc({ Effect: 'Allow', Action: SUBMIT, Resource: '*', Condition: { StringEquals: { [STEP]: 'spark' } } });
    const [one, two] = [new PolicyEngine(rules(['A', ['p']]), { p }), new PolicyEngine(rules(['A', ['p']]), { p })];
    expect(one.policies.get('p')!.statements[0]!.conditions[0]).not.toBe(two.policies.get('p')!.statements[0]!.conditions[0]);
    expect(compilePolicy('p', p).statements[0]!.conditions[0]).not.toBe(compilePolicy('p', p).statements[0]!.conditions[0]);
  });
});
