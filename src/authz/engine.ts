/**
 * The policy engine: principal → policies (first matching `principals` rule), then IAM's evaluation
 * logic over the compiled statements: an explicit Deny wins, then an Allow, else the implicit deny.
 * Every decision names the statements behind it; an implicit deny also lists the near misses (statements
 * whose action and resource matched but a condition did not), which is what people need to fix a policy.
 */
import { SESSION_NAME_KEY } from './actions';
import { resolvePrincipal, splitArn, type ResolvedPrincipal } from './arn';
import type { CompiledCondition } from './conditions';
import { MapContext, setRequestTime, type ContextValue, type RequestContext } from './context';
import { globMatcher } from './pattern';
import { compilePolicy, evaluateStatements, requestedResource, type CompiledPolicy, type CompiledStatement, type RequestedResource, type StatementRef } from './policy';

export type DecisionResult = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

export interface AuthzRequest {
  /** The authenticated caller, e.g. `arn:aws:sts::123456789012:assumed-role/DataTeamA/alice`. */
  callerArn: string;
  action: string;
  resource: string;
  /** Request keys such as elasticmapreduce:ExecutionRoleArn or emr-gateway:StepType. */
  context?: Readonly<Record<string, ContextValue>>;
  /** A configured source identity (a schedule's or trigger's own): aws:SourceIdentity whatever the rule says. */
  sourceIdentity?: string;
  /** The time of the request (aws:CurrentTime, aws:EpochTime); defaults to now. */
  now?: Date;
}

/**
 * What an assumed-role caller's session name is. `caller-chosen` (the default): whoever called AssumeRole picked
 * it, so it is information, never an identity. `verified`: AWS sets it to the person (IAM Identity Center roles)
 * or the role's trust policy pins it (sts:RoleSessionName), so it is the caller's source identity.
 */
export type SessionNames = 'verified' | 'caller-chosen';

export interface PrincipalRule {
  /**
   * ArnLike pattern matched against the resolved principal ARN (the role, for an assumed-role session), and
   * against the session ARN only where the rule's session names are verified.
   */
  match: string;
  policies: readonly string[];
  tags?: Readonly<Record<string, string>>;
  sessionNames?: SessionNames;
}

/** Who the caller is, as far as the gateway can tell: the principal, and a person only where one is known. */
export interface CallerIdentity {
  principal: ResolvedPrincipal;
  /**
   * A person: the configured source identity, or the session name where the rule verifies it. It alone becomes
   * aws:SourceIdentity, the job's source identity and the STS SourceIdentity sent on to EMR.
   */
  sourceIdentity?: string;
  /** The session name where the rule does not verify it: what the caller chose, to be recorded as such. */
  sessionName?: string;
}

export interface NearMiss {
  statement: StatementRef;
  /** The conditions that did not hold, as `Operator key`. */
  failedConditions: string[];
}

export interface Decision {
  result: DecisionResult;
  allowed: boolean;
  /** Undefined when the caller ARN is not an IAM principal at all. */
  principal?: ResolvedPrincipal;
  /** The index and pattern of the `principals` rule that matched, if any. */
  rule?: { index: number; match: string };
  deniedBy: StatementRef[];
  allowedBy: StatementRef[];
  nearMisses: NearMiss[];
  /** One line for people, e.g. `denied by team-a statement 2 (Sid DenyProd)`. */
  reason: string;
}

interface CompiledRule {
  index: number;
  match: string;
  matches: (arn: string) => boolean;
  policies: readonly CompiledPolicy[];
  statements: readonly CompiledStatement[];
  tags: readonly (readonly [string, string])[];
  verifiedSessions: boolean;
  /** Statements whose Action/NotAction matches, per lower-cased action: filled on first use, no parsing. */
  byAction: Map<string, readonly CompiledStatement[]>;
}

export function describeStatement(ref: StatementRef): string {
  return `${ref.policy} statement ${ref.index}${ref.sid ? ` (Sid ${ref.sid})` : ''}`;
}

const conditionLabel = (c: CompiledCondition): string => `${c.operator.written} ${c.key}`;

export class PolicyEngine {
  private readonly rules: CompiledRule[];
  /** Rules without wildcards, by exact ARN, for O(1) resolution among thousands of principals. */
  private readonly exactRules = new Map<string, CompiledRule>();
  /** The same for session ARNs: only rules whose session names are verified may match one. */
  private readonly exactSessionRules = new Map<string, CompiledRule>();
  private readonly wildcardRules: CompiledRule[] = [];
  readonly policies: ReadonlyMap<string, CompiledPolicy>;

  /** Compiles every policy (throws PolicyCompileError) and indexes the principal rules. */
  constructor(rules: readonly PrincipalRule[], documents: Readonly<Record<string, unknown>>) {
    const policies = new Map<string, CompiledPolicy>();
    for (const [name, doc] of Object.entries(documents)) policies.set(name, compilePolicy(name, doc));
    this.policies = policies;
    this.rules = rules.map((rule, index) => {
      const compiled = rule.policies.map((p) => {
        const policy = policies.get(p);
        if (!policy) throw new Error(`principals[${index}] names policy "${p}", which is not defined`);
        return policy;
      });
      return {
        index,
        match: rule.match,
        matches: globMatcher(rule.match),
        policies: compiled,
        statements: compiled.flatMap((p) => p.statements),
        tags: Object.entries(rule.tags ?? {}),
        verifiedSessions: rule.sessionNames === 'verified',
        byAction: new Map(),
      };
    });
    for (const rule of this.rules) {
      if (/[*?]/.test(rule.match)) this.wildcardRules.push(rule);
      else {
        if (!this.exactRules.has(rule.match)) this.exactRules.set(rule.match, rule);
        if (rule.verifiedSessions && !this.exactSessionRules.has(rule.match)) this.exactSessionRules.set(rule.match, rule);
      }
    }
  }

  /**
   * The first rule (in file order) whose pattern matches the principal ARN, or the raw caller ARN where that
   * rule verifies session names: on any other rule a session name, which the caller chose, cannot pick the rule.
   */
  ruleFor(principal: ResolvedPrincipal): CompiledRule | undefined {
    const bySession = principal.callerArn !== principal.principalArn;
    let best = this.exactRules.get(principal.principalArn);
    const session = bySession ? this.exactSessionRules.get(principal.callerArn) : undefined;
    if (session && (!best || session.index < best.index)) best = session;
    for (const rule of this.wildcardRules) {
      if (best && rule.index > best.index) break;
      if (rule.matches(principal.principalArn) || (bySession && rule.verifiedSessions && rule.matches(principal.callerArn))) return rule;
    }
    return best;
  }

  /**
   * The caller's identity as the job, the audit trail and STS record it (undefined when the ARN is not an IAM
   * principal). `sourceIdentity` is a configured one (a schedule's or trigger's own), else nothing more is known.
   */
  identify(callerArn: string, sourceIdentity?: string): CallerIdentity | undefined {
    const principal = resolvePrincipal(callerArn);
    return principal && identityOf(principal, this.ruleFor(principal), sourceIdentity);
  }

  evaluate(request: AuthzRequest): Decision {
    const principal = resolvePrincipal(request.callerArn);
    if (!principal) {
      return denyImplicitly(undefined, undefined, `"${request.callerArn}" is not an IAM principal ARN`);
    }
    const rule = this.ruleFor(principal);
    if (!rule) {
      return denyImplicitly(principal, undefined, `no principals rule matches ${principal.principalArn}: no policy applies`);
    }
    const context = buildContext(identityOf(principal, rule, request.sourceIdentity), rule, request);
    const statements = this.statementsFor(rule, request.action);
    const resource = requestedResource(request.resource);
    const { deniedBy, allowedBy } = evaluateStatements(statements, request.action, resource, context);
    const ruleRef = { index: rule.index, match: rule.match };
    if (deniedBy.length) {
      return {
        result: 'ExplicitlyDenied',
        allowed: false,
        principal,
        rule: ruleRef,
        deniedBy,
        allowedBy,
        nearMisses: [],
        reason: `explicitly denied by ${deniedBy.map(describeStatement).join(', ')}`,
      };
    }
    if (allowedBy.length) {
      return {
        result: 'Allowed',
        allowed: true,
        principal,
        rule: ruleRef,
        deniedBy,
        allowedBy,
        nearMisses: [],
        reason: `allowed by ${allowedBy.map(describeStatement).join(', ')}`,
      };
    }
    // The implicit deny is the slow path: explain which statements came close and why they failed.
    const misses = nearMisses(statements, resource, context);
    return {
      ...denyImplicitly(principal, ruleRef, `no statement allows ${request.action} on ${request.resource}${describeNearMisses(misses)}`),
      nearMisses: misses,
    };
  }

  private statementsFor(rule: CompiledRule, action: string): readonly CompiledStatement[] {
    const key = action.toLowerCase();
    let list = rule.byAction.get(key);
    if (!list) {
      list = rule.statements.filter((s) => s.matchesAction(action));
      // Bounded: unknown actions from `policy check` must not grow the cache without limit.
      if (rule.byAction.size < 64) rule.byAction.set(key, list);
    }
    return list;
  }
}

/**
 * The Allow statements (of those given: already the ones about the action and the principal) whose resource
 * matched but whose conditions did not all hold, with the conditions that failed.
 */
export function nearMisses(statements: readonly CompiledStatement[], resource: RequestedResource, context: RequestContext): NearMiss[] {
  const misses: NearMiss[] = [];
  for (const s of statements) {
    if (s.ref.effect !== 'Allow' || !s.matchesResource(resource, context)) continue;
    misses.push({ statement: s.ref, failedConditions: s.conditions.filter((c) => !c.test(context)).map(conditionLabel) });
  }
  return misses;
}

/** `; closest: ...` naming up to three near misses, or nothing. */
export function describeNearMisses(misses: readonly NearMiss[]): string {
  if (!misses.length) return '';
  return `; closest: ${misses
    .slice(0, 3)
    .map((m) => `${describeStatement(m.statement)} failed ${m.failedConditions.join(' and ')}`)
    .join('; ')}`;
}

function denyImplicitly(principal: ResolvedPrincipal | undefined, rule: Decision['rule'], reason: string): Decision {
  return {
    result: 'ImplicitlyDenied',
    allowed: false,
    ...(principal ? { principal } : {}),
    ...(rule ? { rule } : {}),
    deniedBy: [],
    allowedBy: [],
    nearMisses: [],
    reason: `implicitly denied: ${reason}`,
  };
}

/** Keys the gateway derives from the authenticated principal: callers cannot supply them. */
export const DERIVED_KEYS = ['aws:PrincipalArn', 'aws:PrincipalAccount', 'aws:PrincipalType', 'aws:username', 'aws:SourceIdentity', SESSION_NAME_KEY, 'aws:CurrentTime', 'aws:EpochTime'];
export const DERIVED_KEY_PREFIXES = ['aws:PrincipalTag/'];

export function isDerivedKey(key: string): boolean {
  const lower = key.toLowerCase();
  return DERIVED_KEYS.some((k) => k.toLowerCase() === lower) || DERIVED_KEY_PREFIXES.some((p) => lower.startsWith(p.toLowerCase()));
}

function identityOf(principal: ResolvedPrincipal, rule: CompiledRule | undefined, configured: string | undefined): CallerIdentity {
  const { sessionName } = principal;
  const verified = sessionName !== undefined && rule?.verifiedSessions === true;
  const sourceIdentity = configured ?? (verified ? sessionName : undefined);
  return {
    principal,
    ...(sourceIdentity !== undefined ? { sourceIdentity } : {}),
    ...(sessionName !== undefined && !verified ? { sessionName } : {}),
  };
}

/**
 * Why a rule's `match` cannot be used as written, or undefined. A pattern on assumed-role session ARNs
 * (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`) tells sessions apart by a name the caller chose: only a rule
 * whose session names are verified is matched against session ARNs at all, so on any other it would never match.
 */
export function principalRuleProblem(rule: Pick<PrincipalRule, 'match' | 'sessionNames'>): string | undefined {
  if (rule.sessionNames === 'verified') return undefined;
  const parts = splitArn(rule.match, true);
  if (!parts) return undefined;
  const service = globMatcher(parts.service);
  // A service pattern that also admits iam (`*`) matches roles: the engine then compares it with the role only.
  if (!service('sts') || service('iam')) return undefined;
  const literal = parts.resource.split(/[*?]/)[0] ?? '';
  const prefix = 'assumed-role/';
  if (!(literal.startsWith(prefix) || prefix.startsWith(literal))) return undefined;
  return (
    'matches assumed-role session ARNs, whose session names whoever calls AssumeRole chooses: match the role instead ' +
    '(arn:aws:iam::ACCOUNT:role/ROLE), or mark the rule sessionNames: verified if AWS sets them (IAM Identity Center)'
  );
}

function buildContext(identity: CallerIdentity, rule: CompiledRule, request: AuthzRequest): MapContext {
  const { principal } = identity;
  const context = new MapContext();
  for (const [key, value] of Object.entries(request.context ?? {})) {
    if (!isDerivedKey(key)) context.set(key, value);
  }
  setRequestTime(context, request.now ?? new Date());
  context.set('aws:PrincipalArn', principal.principalArn);
  context.set('aws:PrincipalAccount', principal.account);
  context.set('aws:PrincipalType', principal.type);
  if (principal.type === 'User') context.set('aws:username', principal.principalArn.slice(principal.principalArn.lastIndexOf('/') + 1));
  if (identity.sourceIdentity !== undefined) context.set('aws:SourceIdentity', identity.sourceIdentity);
  // The session name as given, verified or not: policies may read it, knowing the caller chose it.
  if (principal.sessionName !== undefined) context.set(SESSION_NAME_KEY, principal.sessionName);
  for (const [key, value] of rule.tags) context.set(`aws:PrincipalTag/${key}`, value);
  return context;
}
