import { PolicyEngine, type AuthzRequest } from '../../src/authz/engine';

export const ACCOUNT = '123456789012';
export const CLUSTER = `arn:aws:elasticmapreduce:us-east-1:${ACCOUNT}:cluster/j-2AXXXXXXGAPLF`;
export const ALICE = `arn:aws:sts::${ACCOUNT}:assumed-role/DataTeamA/alice`;
export const role = (name: string): string => `arn:aws:iam::${ACCOUNT}:role/${name}`;
export const SUBMIT = 'elasticmapreduce:AddJobFlowSteps';

/** An engine where DataTeamA (tags team=a) has exactly the given statements. */
export function engineWith(statements: unknown[], tags: Record<string, string> = { team: 'a' }): PolicyEngine {
  return new PolicyEngine([{ match: role('DataTeamA'), policies: ['p'], tags }], { p: { Version: '2012-10-17', Statement: statements } });
}

/** Evaluates a submit by alice with the given context; returns the decision's result. */
export function decide(engine: PolicyEngine, context: AuthzRequest['context'] = {}, overrides: Partial<AuthzRequest> = {}): string {
  return engine.evaluate({ callerArn: ALICE, action: SUBMIT, resource: CLUSTER, context, ...overrides }).result;
}

/** One Allow statement with one condition, for operator tests. */
export function allowIf(condition: Record<string, unknown>): PolicyEngine {
  return engineWith([{ Effect: 'Allow', Action: SUBMIT, Resource: '*', Condition: condition }]);
}
