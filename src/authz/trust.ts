/**
 * STS's AssumeRole decision, with the project's engine: the role's trust policy (a resource-based policy) and the
 * caller's identity policies, for each action the request needs (sts:AssumeRole; sts:TagSession when it passes
 * tags; sts:SetSourceIdentity when the new session carries a source identity), combined by IAM's rules:
 *  - an explicit Deny in either wins;
 *  - within one account, a trust policy that names the caller (its role, its session, or everyone) is enough on
 *    its own, and one that names only the account delegates to the caller's identity policies, which must then
 *    allow the action: "To allow a user to assume a role in the same account, you can do either of the following:
 *    Attach a policy to the user that allows the user to call AssumeRole (as long as the role's trust policy trusts
 *    the account). Add the user as a principal directly in the role's trust policy." (STS API Reference,
 *    AssumeRole). An identity policy alone never is: "Role trust policies and KMS key policies are exceptions ...
 *    they must explicitly allow access for principals" (IAM User Guide, Policy evaluation logic);
 *  - across accounts both must allow;
 *  - in role chaining, sts:SetSourceIdentity needs both, the caller's identity policy and the trust policy:
 *    "permissions for sts:SetSourceIdentity are required in both the permissions policy of the principal who is
 *    assuming the role and in the role trust policy of the target role" (IAM User Guide, Monitor and control
 *    actions taken with assumed roles);
 *  - the account root is limited by no identity policy; a service (EC2 for an instance profile) has none.
 * Denials carry STS's message and the reason (the statements, or what came close and why it failed).
 */
import { splitArn, type PrincipalType } from './arn';
import { MapContext, setRequestTime } from './context';
import { describeNearMisses, describeStatement, nearMisses } from './engine';
import { evaluateStatements, requestedResource, type CompiledPolicy, type RequestedResource, type StatementOutcome } from './policy';
import type { RequestPrincipal } from './principal';

export const STS_ACTIONS = {
  assumeRole: 'sts:AssumeRole',
  tagSession: 'sts:TagSession',
  setSourceIdentity: 'sts:SetSourceIdentity',
} as const;

/** Who calls AssumeRole, as STS knows it from the request's credentials. */
export interface TrustCaller {
  principal: RequestPrincipal;
  /** The ARN STS names in an AccessDenied (a session, user or root ARN; a service's name). */
  arn: string;
  type: PrincipalType | 'Service';
  /** aws:userid: `AROA...:session`, `AIDA...`, the account id. */
  userId?: string;
  /** The caller session's source identity (aws:SourceIdentity). */
  sourceIdentity?: string;
  /** aws:PrincipalTag/*: the caller's tags (its role's, its session's). */
  tags?: Readonly<Record<string, string>>;
  /** Its identity policies (a role's inline and attached ones); 'unrestricted' for the account root. */
  identityPolicies: readonly CompiledPolicy[] | 'unrestricted';
}

export interface AssumeRoleAsk {
  roleArn: string;
  trustPolicy: CompiledPolicy;
  sessionName: string;
  externalId?: string;
  /** The source identity the new session will carry: the one passed, or the caller's own (role chaining). */
  sourceIdentity?: string;
  tags?: Readonly<Record<string, string>>;
  transitiveTagKeys?: readonly string[];
  now?: Date;
}

export interface ActionDecision {
  action: string;
  allowed: boolean;
  reason: string;
  trust: StatementOutcome;
  /** Undefined where no identity policy limits the caller (the account root) or applies (a service). */
  identity?: StatementOutcome;
}

export interface AssumeRoleDecision {
  allowed: boolean;
  /** Every action the request needs, in STS's order, each decided. */
  actions: ActionDecision[];
  /** The first action refused. */
  deniedAction?: string;
  /** One line for people: what allowed it, or why the first refused action was refused. */
  reason: string;
  /** STS's AccessDenied message, when denied. */
  message?: string;
}

/** STS's (and IAM's) AccessDenied message. */
export function accessDeniedMessage(callerArn: string, action: string, resource: string): string {
  return `User: ${callerArn} is not authorized to perform: ${action} on resource: ${resource}`;
}

/** The actions an AssumeRole request needs. */
export function actionsNeeded(ask: Pick<AssumeRoleAsk, 'tags' | 'transitiveTagKeys' | 'sourceIdentity'>): string[] {
  const tagged = Object.keys(ask.tags ?? {}).length > 0 || (ask.transitiveTagKeys ?? []).length > 0;
  return [STS_ACTIONS.assumeRole, ...(tagged ? [STS_ACTIONS.tagSession] : []), ...(ask.sourceIdentity !== undefined ? [STS_ACTIONS.setSourceIdentity] : [])];
}

/** The request context of an AssumeRole call: the caller's keys (aws:*) and the request's (sts:*, aws:RequestTag/*). */
export function assumeRoleContext(caller: TrustCaller, ask: AssumeRoleAsk): MapContext {
  const context = setRequestTime(new MapContext(), ask.now ?? new Date());
  const { principal } = caller;
  if (principal.kind === 'aws') {
    context.set('aws:PrincipalArn', principal.principalArn).set('aws:PrincipalAccount', principal.account).set('aws:PrincipalIsAWSService', 'false');
    if (caller.type === 'User') context.set('aws:username', principal.arn.slice(principal.arn.lastIndexOf('/') + 1));
  } else {
    context.set('aws:PrincipalServiceName', principal.service).set('aws:PrincipalIsAWSService', 'true');
  }
  context.set('aws:PrincipalType', caller.type);
  if (caller.userId !== undefined) context.set('aws:userid', caller.userId);
  if (caller.sourceIdentity !== undefined) context.set('aws:SourceIdentity', caller.sourceIdentity);
  for (const [key, value] of Object.entries(caller.tags ?? {})) context.set(`aws:PrincipalTag/${key}`, value);
  context.set('sts:RoleSessionName', ask.sessionName);
  if (ask.externalId !== undefined) context.set('sts:ExternalId', ask.externalId);
  if (ask.sourceIdentity !== undefined) context.set('sts:SourceIdentity', ask.sourceIdentity);
  const tags = Object.entries(ask.tags ?? {});
  for (const [key, value] of tags) context.set(`aws:RequestTag/${key}`, value);
  if (tags.length) context.set('aws:TagKeys', tags.map(([key]) => key));
  if (ask.transitiveTagKeys?.length) context.set('sts:TransitiveTagKeys', ask.transitiveTagKeys);
  return context;
}

export function decideAssumeRole(caller: TrustCaller, ask: AssumeRoleAsk): AssumeRoleDecision {
  const context = assumeRoleContext(caller, ask);
  const resource = requestedResource(ask.roleArn);
  const actions = actionsNeeded(ask).map((action) => decideAction(caller, ask, action, resource, context));
  const denied = actions.find((a) => !a.allowed);
  if (!denied) return { allowed: true, actions, reason: actions.map((a) => `${a.action}: ${a.reason}`).join('; ') };
  return { allowed: false, actions, deniedAction: denied.action, reason: `${denied.action}: ${denied.reason}`, message: accessDeniedMessage(caller.arn, denied.action, ask.roleArn) };
}

function decideAction(caller: TrustCaller, ask: AssumeRoleAsk, action: string, resource: RequestedResource, context: MapContext): ActionDecision {
  const trustStatements = ask.trustPolicy.statements.filter((s) => s.matchesAction(action));
  const trust = evaluateStatements(trustStatements, action, resource, context, caller.principal);
  const identityStatements = caller.identityPolicies === 'unrestricted' ? undefined : caller.identityPolicies.flatMap((p) => p.statements).filter((s) => s.matchesAction(action));
  const identity = identityStatements && caller.principal.kind === 'aws' ? evaluateStatements(identityStatements, action, resource, context) : undefined;
  const base = { action, trust, ...(identity ? { identity } : {}) };

  const deniedBy = [...trust.deniedBy, ...(identity?.deniedBy ?? [])];
  if (deniedBy.length) return { ...base, allowed: false, reason: `explicitly denied by ${deniedBy.map(describeStatement).join(', ')}` };

  const named = trust.allowedBy.length > 0;
  const trusted = named || trust.allowedForAccount.length > 0;
  const identityAllows = caller.identityPolicies === 'unrestricted' || (identity?.allowedBy.length ?? 0) > 0;
  const roleAccount = splitArn(ask.roleArn)?.account;
  const sameAccount = caller.principal.kind === 'aws' && caller.principal.account === roleAccount;
  const chainedSourceIdentity = action === STS_ACTIONS.setSourceIdentity && caller.type === 'AssumedRole';
  const needsIdentity = caller.principal.kind === 'aws' && (!sameAccount || chainedSourceIdentity || !named);

  if (!trusted || (caller.principal.kind === 'service' && !named)) {
    const about = trustStatements.filter((s) => s.matchesPrincipal(caller.principal));
    const why = about.length ? describeNearMisses(nearMisses(about, resource, context)) : `; none names ${caller.arn} or its account`;
    return { ...base, allowed: false, reason: `no statement of the trust policy of ${ask.roleArn} allows it${why}` };
  }
  const trustReason = `allowed by ${[...trust.allowedBy, ...trust.allowedForAccount].map(describeStatement).join(', ')}`;
  if (!needsIdentity) return { ...base, allowed: true, reason: trustReason };
  if (identityAllows) {
    const by = identity?.allowedBy.length ? ` and ${identity.allowedBy.map(describeStatement).join(', ')}` : ' (the account root: no identity policy limits it)';
    return { ...base, allowed: true, reason: `${trustReason}${by}` };
  }
  const whyTrust = !sameAccount ? 'across accounts' : chainedSourceIdentity ? 'in role chaining' : 'the trust policy names only the account, so';
  const misses = describeNearMisses(nearMisses(identityStatements ?? [], resource, context));
  return { ...base, allowed: false, reason: `${whyTrust} the caller's identity policies must allow it too, and none does${misses}` };
}
