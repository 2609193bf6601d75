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
import { CompileCache } from './intern';
import { globMatcher } from './pattern';
import { compilePolicy, requestedResource, type CompiledPolicy, type CompiledStatement, type RequestedResource, type StatementRef } from './policy';

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
  /** The rule's pattern, for a rule with wildcards; an exact rule is found by its ARN (PolicyEngine.exactRules). */
  matches: ((arn: string) => boolean) | undefined;
  /** The statements of the rule's policies: one index for all the rules that name the same policies. */
  statements: StatementIndex;
  /** The principal's tags as context entries: [lower-cased `aws:PrincipalTag/KEY`, value]. */
  tags: readonly (readonly [string, string])[];
  verifiedSessions: boolean;
}

const NO_STATEMENTS: readonly CompiledStatement[] = [];

/**
 * The engine's numbering of the actions asked about (lower-cased: action matching ignores case, so the statements
 * for one spelling are those for all of them), which the statement indexes are arrays over. Bounded: unknown
 * actions from `policy check` must not grow the caches without limit; past the bound an action is not cached.
 */
class ActionSlots {
  private readonly slots = new Map<string, number>();
  slotOf(action: string): number | undefined {
    const key = action.toLowerCase();
    let slot = this.slots.get(key);
    if (slot === undefined && this.slots.size < 64) this.slots.set(key, (slot = this.slots.size));
    return slot;
  }
}

/** The statements of a list of policies, and those whose Action/NotAction matches each action asked about. */
class StatementIndex {
  /** Per action slot (ActionSlots): filled on first use, no parsing. */
  private byAction: (readonly CompiledStatement[] | undefined)[] | undefined;

  constructor(readonly all: readonly CompiledStatement[]) {}

  forAction(action: string, slot: number | undefined): readonly CompiledStatement[] {
    const known = slot === undefined ? undefined : this.byAction?.[slot];
    if (known) return known;
    const matching = this.all.filter((s) => s.matchesAction(action));
    // The kept list is the policies' own where all match, a shared empty one where none does, else exact in size.
    const list = matching.length === this.all.length ? this.all : matching.length === 0 ? NO_STATEMENTS : matching.slice();
    if (slot !== undefined) {
      let byAction = this.byAction;
      if (!byAction || byAction.length <= slot) {
        // Grown to exactly the slots used (an array grown by assignment keeps room for 16 more).
        const grown = new Array<readonly CompiledStatement[] | undefined>(slot + 1);
        byAction?.forEach((l, i) => (grown[i] = l));
        this.byAction = byAction = grown;
      }
      byAction[slot] = list;
    }
    return list;
  }
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
  private readonly actionSlots = new ActionSlots();
  readonly policies: ReadonlyMap<string, CompiledPolicy>;

  /**
   * Compiles every policy (throws PolicyCompileError) and indexes the principal rules. All the policies are
   * compiled in one CompileCache: what many of them write alike is compiled once and shared (see policy.ts).
   */
  constructor(rules: readonly PrincipalRule[], documents: Readonly<Record<string, unknown>>) {
    const cache = new CompileCache();
    const policies = new Map<string, CompiledPolicy>();
    for (const [name, doc] of Object.entries(documents)) policies.set(name, compilePolicy(name, doc, 'identity', cache));
    this.policies = policies;
    const indexes = new Map<string, StatementIndex>();
    this.rules = rules.map((rule, index) => {
      const compiled = rule.policies.map((p) => {
        const policy = policies.get(p);
        if (!policy) throw new Error(`principals[${index}] names policy "${p}", which is not defined`);
        return policy;
      });
      const names = JSON.stringify(rule.policies);
      let statements = indexes.get(names);
      if (!statements) indexes.set(names, (statements = new StatementIndex(compiled.length === 1 ? compiled[0]!.statements : compiled.flatMap((p) => p.statements))));
      return {
        index,
        match: rule.match,
        matches: /[*?]/.test(rule.match) ? globMatcher(rule.match) : undefined,
        statements,
        tags: Object.entries(rule.tags ?? {}).map(([key, value]) => [cache.string(`aws:PrincipalTag/${key}`.toLowerCase()), value] as const),
        verifiedSessions: rule.sessionNames === 'verified',
      };
    });
    for (const rule of this.rules) {
      if (rule.matches) this.wildcardRules.push(rule);
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
      const matches = rule.matches!;
      if (matches(principal.principalArn) || (bySession && rule.verifiedSessions && matches(principal.callerArn))) return rule;
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
    const context = buildContext(principal, rule, request);
    const statements = rule.statements.forAction(request.action, this.actionSlots.slotOf(request.action));
    const resource = requestedResource(request.resource);
    // evaluateStatements, for identity policies (about the principal) whose action is already known to match.
    const deniedBy: StatementRef[] = [];
    const allowedBy: StatementRef[] = [];
    for (const s of statements) {
      if (s.matchesResource(resource, context) && conditionsHold(s.conditions, context)) (s.ref.effect === 'Deny' ? deniedBy : allowedBy).push(s.ref);
    }
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

}

function conditionsHold(conditions: readonly CompiledCondition[], context: RequestContext): boolean {
  for (const condition of conditions) if (!condition.test(context)) return false;
  return true;
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

const DERIVED_LOWER = new Set(DERIVED_KEYS.map((k) => k.toLowerCase()));
const DERIVED_PREFIXES_LOWER = DERIVED_KEY_PREFIXES.map((p) => p.toLowerCase());
const isDerivedLower = (lower: string): boolean => DERIVED_LOWER.has(lower) || DERIVED_PREFIXES_LOWER.some((p) => lower.startsWith(p));

export function isDerivedKey(key: string): boolean {
  return isDerivedLower(key.toLowerCase());
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

const SESSION_NAME_LOWER = SESSION_NAME_KEY.toLowerCase();

/** The request's context: the caller's keys (none that the gateway derives), then the derived ones (identityOf's source identity). */
function buildContext(principal: ResolvedPrincipal, rule: CompiledRule, request: AuthzRequest): MapContext {
  const context = new MapContext();
  const given = request.context;
  if (given) {
    for (const key of Object.keys(given)) {
      const lower = key.toLowerCase();
      if (!isDerivedLower(lower)) context.setLowerCased(lower, given[key]!);
    }
  }
  setRequestTime(context, request.now ?? new Date());
  context.setLowerCased('aws:principalarn', principal.principalArn);
  context.setLowerCased('aws:principalaccount', principal.account);
  context.setLowerCased('aws:principaltype', principal.type);
  if (principal.type === 'User') context.setLowerCased('aws:username', principal.principalArn.slice(principal.principalArn.lastIndexOf('/') + 1));
  const { sessionName } = principal;
  const sourceIdentity = request.sourceIdentity ?? (sessionName !== undefined && rule.verifiedSessions ? sessionName : undefined);
  if (sourceIdentity !== undefined) context.setLowerCased('aws:sourceidentity', sourceIdentity);
  // The session name as given, verified or not: policies may read it, knowing the caller chose it.
  if (sessionName !== undefined) context.setLowerCased(SESSION_NAME_LOWER, sessionName);
  for (const [key, value] of rule.tags) context.setLowerCased(key, value);
  return context;
}
