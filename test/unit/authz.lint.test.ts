import { PolicyEngine, type PrincipalRule } from '../../src/authz/engine';
import { lintPolicies, type LintFinding } from '../../src/authz/lint';
import { ACCOUNT, SUBMIT, role } from '../support/authz';

const CLUSTER_PATTERN = `arn:aws:elasticmapreduce:us-east-1:${ACCOUNT}:cluster/*`;

function lint(statements: unknown[], principals: PrincipalRule[] = [{ match: role('A'), policies: ['p'] }]): LintFinding[] {
  const engine = new PolicyEngine(principals, { p: { Version: '2012-10-17', Statement: statements } });
  return lintPolicies({ policies: engine.policies, principals, partition: 'aws', account: ACCOUNT, region: 'us-east-1', clusterIds: ['j-2AXXXXXXGAPLF'] });
}
const errors = (findings: LintFinding[]) => findings.filter((f) => f.severity === 'error');

describe('policy lint', () => {
  it("flags the EMR documentation's AND of StringEquals and StringLike as never matching, and suggests two statements", () => {
    const findings = lint([
      {
        Effect: 'Allow',
        Action: SUBMIT,
        Resource: '*',
        Condition: {
          StringEquals: { 'elasticmapreduce:ExecutionRoleArn': [role('Caller')] },
          StringLike: { 'elasticmapreduce:ExecutionRoleArn': [role('CallerTeamRole*')] },
        },
      },
    ]);
    expect(errors(findings)).toHaveLength(1);
    expect(errors(findings)[0]).toMatchObject({ path: 'policies.p.Statement[0]', message: expect.stringMatching(/can never match.*ANDed/) });
    expect(errors(findings)[0]!.suggestion).toMatch(/split it into two statements: one with StringEquals and one with StringLike/);
  });
  it('does not flag overlapping conditions, nor the split form', () => {
    expect(
      errors(lint([{ Effect: 'Allow', Action: SUBMIT, Resource: '*', Condition: { StringEquals: { 'a:k': ['x1', 'y'] }, StringLike: { 'a:k': 'x*' } } }])),
    ).toEqual([]);
    expect(
      errors(
        lint([
          { Effect: 'Allow', Action: SUBMIT, Resource: '*', Condition: { StringEquals: { 'elasticmapreduce:ExecutionRoleArn': role('Caller') } } },
          { Effect: 'Allow', Action: SUBMIT, Resource: '*', Condition: { StringLike: { 'elasticmapreduce:ExecutionRoleArn': role('CallerTeamRole*') } } },
        ]),
      ),
    ).toEqual([]);
  });
  it('flags StringEquals against StringNotEquals of the same values, and Null:true with a value test', () => {
    expect(errors(lint([{ Effect: 'Allow', Action: SUBMIT, Resource: '*', Condition: { StringEquals: { 'a:k': 'x' }, StringNotEquals: { 'a:k': 'x' } } }]))).toHaveLength(1);
    expect(errors(lint([{ Effect: 'Allow', Action: SUBMIT, Resource: '*', Condition: { Null: { 'a:k': 'true' }, StringLike: { 'a:k': '*' } } }]))[0]?.message).toMatch(/absent/);
  });
  it('flags actions EMR does not have, with a suggestion', () => {
    const [finding] = errors(lint([{ Effect: 'Allow', Action: 'elasticmapreduce:AddJobFlowStep', Resource: '*' }]));
    expect(finding).toMatchObject({ path: 'policies.p.Statement[0].Action', suggestion: 'did you mean elasticmapreduce:AddJobFlowSteps?' });
    expect(errors(lint([{ Effect: 'Allow', Action: ['elasticmapreduce:*Steps', 'elasticmapreduce:Foo*'], Resource: '*' }]))[0]?.path).toBe('policies.p.Statement[0].Action[1]');
  });
  it('warns about actions the gateway never asks for', () => {
    const findings = lint([{ Effect: 'Allow', Action: ['elasticmapreduce:RunJobFlow', 's3:GetObject'], Resource: '*' }]);
    expect(errors(findings)).toEqual([]);
    expect(findings.filter((f) => /never asked for/.test(f.message))).toHaveLength(2);
  });
  it('takes GetClusterSessionCredentials (POST /sessions) as an action the gateway asks for, with the ExecutionRoleArn key', () => {
    const findings = lint([{ Effect: 'Allow', Action: 'elasticmapreduce:GetClusterSessionCredentials', Resource: CLUSTER_PATTERN, Condition: { StringLike: { 'elasticmapreduce:ExecutionRoleArn': `arn:aws:iam::${ACCOUNT}:role/CallerTeamRole*` } } }]);
    expect(findings).toEqual([]);
  });
  it('flags resources that cannot be a cluster, and warns about ones matching no configured cluster', () => {
    expect(errors(lint([{ Effect: 'Allow', Action: SUBMIT, Resource: 'arn:aws:s3:::bucket/*' }]))[0]?.message).toMatch(/service is "s3"/);
    expect(errors(lint([{ Effect: 'Allow', Action: SUBMIT, Resource: `arn:aws:elasticmapreduce:*:${ACCOUNT}:editor/*` }]))[0]?.message).toMatch(/not cluster\/ID/);
    expect(errors(lint([{ Effect: 'Allow', Action: SUBMIT, Resource: CLUSTER_PATTERN }]))).toEqual([]);
    expect(errors(lint([{ Effect: 'Allow', Action: SUBMIT, Resource: 'arn:aws:elasticmapreduce:*:*:*' }]))).toEqual([]);
    const other = lint([{ Effect: 'Allow', Action: SUBMIT, Resource: 'arn:aws:elasticmapreduce:eu-west-1:111111111111:cluster/*' }]);
    expect(other.find((f) => f.severity === 'warning' && /none of the configured clusters/.test(f.message))).toBeDefined();
  });
  it('warns about keys the gateway never sets, NotAction allows, unused policies and shadowed principals', () => {
    const keys = lint([{ Effect: 'Allow', Action: SUBMIT, Resource: '*', Condition: { StringEquals: { 'elasticmapreduce:ResourceTag/team': 'a' } } }]);
    expect(keys.find((f) => /never sets elasticmapreduce:ResourceTag\/team/.test(f.message))).toBeDefined();
    expect(lint([{ Effect: 'Allow', NotAction: 'elasticmapreduce:CancelSteps', Resource: '*' }]).find((f) => /NotAction/.test(f.message))).toBeDefined();
    expect(lint([{ Effect: 'Allow', Action: SUBMIT, Resource: '*' }], []).find((f) => /no principal uses/.test(f.message))).toBeDefined();
    const shadowed = lint([{ Effect: 'Allow', Action: SUBMIT, Resource: '*' }], [
      { match: role('Data*'), policies: ['p'] },
      { match: role('DataTeamA'), policies: [] },
    ]);
    expect(shadowed.find((f) => f.path === 'principals[1]')?.message).toMatch(/never used: principals\[0\]/);
  });
  it('knows emr-gateway:RetryMaxAttempts, the attempts a submission asks for, and suggests it for a near miss', () => {
    const limited = lint([{ Effect: 'Deny', Action: SUBMIT, Resource: '*', Condition: { NumericGreaterThan: { 'emr-gateway:RetryMaxAttempts': '3' } } }]);
    expect(limited.filter((f) => /never sets/.test(f.message))).toEqual([]);
    const typo = lint([{ Effect: 'Deny', Action: SUBMIT, Resource: '*', Condition: { NumericGreaterThan: { 'emr-gateway:RetryMaxAttempt': '3' } } }]);
    expect(typo.find((f) => /never sets emr-gateway:RetryMaxAttempt\b/.test(f.message))).toMatchObject({ suggestion: 'did you mean emr-gateway:RetryMaxAttempts?' });
  });
  it('a verified session rule after its role is never used: the role rule matches the session first', () => {
    const alice = `arn:aws:sts::${ACCOUNT}:assumed-role/DataTeamA/alice`;
    const allow = [{ Effect: 'Allow', Action: SUBMIT, Resource: '*' }];
    const late = lint(allow, [{ match: role('DataTeamA'), policies: ['p'] }, { match: alice, policies: ['p'], sessionNames: 'verified' }]);
    expect(late.find((f) => f.path === 'principals[1]')?.message).toBe(`never used: principals[0] (${role('DataTeamA')}) matches ${alice} first`);
    // Before the role it is used; and an earlier verified session pattern shadows it, an unverified one cannot.
    expect(lint(allow, [{ match: alice, policies: ['p'], sessionNames: 'verified' }, { match: role('DataTeamA'), policies: ['p'] }])).toEqual([]);
    const byPattern = (sessionNames: 'verified' | 'caller-chosen') =>
      lint(allow, [{ match: 'arn:aws:*::*:*/alice', policies: ['p'], sessionNames }, { match: alice, policies: ['p'], sessionNames: 'verified' }]).filter((f) => f.path === 'principals[1]');
    expect(byPattern('verified')).toHaveLength(1);
    expect(byPattern('caller-chosen')).toEqual([]);
  });
  it('warns when a policy reads aws:SourceIdentity but no rule using it verifies session names', () => {
    const bySourceIdentity = [{ Effect: 'Allow', Action: SUBMIT, Resource: '*', Condition: { StringEquals: { 'aws:SourceIdentity': 'alice' } } }];
    const byVariable = [{ Effect: 'Allow', Action: SUBMIT, Resource: `arn:aws:elasticmapreduce:*:*:cluster/j-\${aws:SourceIdentity}` }];
    const warned = (statements: unknown[], sessionNames?: 'verified') =>
      lint(statements, [{ match: role('A'), policies: ['p'], ...(sessionNames ? { sessionNames } : {}) }]).filter((f) => /reads aws:SourceIdentity/.test(f.message));
    expect(warned(bySourceIdentity).map((f) => f.path)).toEqual(['policies.p.Statement[0]']);
    expect(warned(byVariable)).toHaveLength(1);
    expect(warned(bySourceIdentity, 'verified')).toEqual([]);
    expect(warned([{ Effect: 'Allow', Action: SUBMIT, Resource: '*', Condition: { StringEquals: { 'emr-gateway:SessionName': 'alice' } } }])).toEqual([]);
  });
  it('a clean policy has no findings', () => {
    expect(lint([{ Effect: 'Allow', Action: SUBMIT, Resource: CLUSTER_PATTERN, Condition: { StringLike: { 'elasticmapreduce:ExecutionRoleArn': role('X*') } } }])).toEqual([]);
  });
});
