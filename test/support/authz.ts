/** The policy engine for the authz unit tests: alice of DataTeamA, one cluster, and engines built from bare statements. */
import { PolicyEngine, type AuthzRequest, type SessionNames } from '../../src/authz/engine';
import { ACCOUNT, ALICE, CLUSTER as CLUSTER_ID, role } from './config';

export { ACCOUNT, ALICE, role };
/** The cluster's ARN (the resource of every decision here). */
export const CLUSTER = `arn:aws:elasticmapreduce:us-east-1:${ACCOUNT}:cluster/${CLUSTER_ID}`;
export const SUBMIT = 'elasticmapreduce:AddJobFlowSteps';

/** An engine where DataTeamA (tags team=a; session names caller-chosen unless told) has exactly the given statements. */
export function engineWith(statements: unknown[], tags: Record<string, string> = { team: 'a' }, sessionNames?: SessionNames): PolicyEngine {
  return new PolicyEngine([{ match: role('DataTeamA'), policies: ['p'], tags, ...(sessionNames ? { sessionNames } : {}) }], { p: { Version: '2012-10-17', Statement: statements } });
}

/** Evaluates a submit by alice with the given context; returns the decision's result. */
export function decide(engine: PolicyEngine, context: AuthzRequest['context'] = {}, overrides: Partial<AuthzRequest> = {}): string {
  return engine.evaluate({ callerArn: ALICE, action: SUBMIT, resource: CLUSTER, context, ...overrides }).result;
}

/** One Allow statement with one condition, for operator tests. */
export function allowIf(condition: Record<string, unknown>): PolicyEngine {
  return engineWith([{ Effect: 'Allow', Action: SUBMIT, Resource: '*', Condition: condition }]);
}
