/**
 * IAM policy documents: validation of the grammar (with the path of each problem) and compilation into
 * matchers, once, at load. Evaluation then does no parsing and no I/O. Identity policies (the gateway's, a role's
 * permissions) have no Principal; resource-based policies (a role's trust policy) name one, and may leave out
 * Resource (the resource they are attached to).
 *
 * A compiled statement is small: its reference (policy, index, Sid, effect), the statement as written, and a body
 * (actions, resources, conditions and their matchers) that is immutable data with its methods on the prototype, no
 * closure per statement. Within one compilation (a CompileCache: one PolicyEngine, one compilePolicy call) every
 * part is compiled once and shared: the same action, resource, condition, or whole body written in many statements
 * (the same template for a thousand teams) is one object, so memory grows with what is different, not with the
 * count of statements. Nothing shared holds state: a statement's own parts are its reference and its source.
 */
import { splitArn, type ArnParts } from './arn';
import { compileCondition, parseOperator, type CompiledCondition, type ParsedOperator } from './conditions';
import type { RequestContext } from './context';
import { PolicyCompileError, type PolicyIssue } from '../errors';
import type { Path } from '../util/format';
import { CompileCache } from './intern';
import { compilePattern, EMPTY_CONTEXT, type Pattern } from './pattern';
import { compilePrincipal, type CompiledPrincipal, type PrincipalMatch, type RequestPrincipal } from './principal';

export type Effect = 'Allow' | 'Deny';

/** Identifies a statement in explanations: `team-a` statement 0 (Sid `AllowEtl`). */
export interface StatementRef {
  policy: string;
  index: number;
  sid?: string;
  effect: Effect;
}

export interface CompiledStatement {
  readonly ref: StatementRef;
  /** The statement as written, for linting and explanations. */
  readonly source: Readonly<Record<string, unknown>>;
  readonly actions: readonly string[];
  readonly notAction: boolean;
  readonly resources: readonly string[];
  readonly notResource: boolean;
  readonly conditions: readonly CompiledCondition[];
  /** The Principal or NotPrincipal of a resource-based policy's statement (`notPrincipal` says which). */
  readonly principal: CompiledPrincipal | undefined;
  readonly notPrincipal: boolean;
  matchesAction(action: string): boolean;
  matchesResource(resource: RequestedResource, context: RequestContext): boolean;
  /**
   * Whether the statement is about `principal`, and how (see PrincipalMatch). An identity policy's statements
   * are about the principal they are attached to: always `principal`.
   */
  matchesPrincipal(principal: RequestPrincipal | undefined): PrincipalMatch | undefined;
}

export interface CompiledPolicy {
  readonly name: string;
  readonly statements: readonly CompiledStatement[];
  /** Whether policy variables are substituted (Version 2012-10-17) or taken literally (2008-10-17 or none). */
  readonly variables: boolean;
}

/** `identity`: attached to a principal (no Principal element); `resource`: attached to a resource, naming principals. */
export type PolicyKind = 'identity' | 'resource';

const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Compiles a policy document; throws PolicyCompileError listing every problem found. Policies compiled with the
 * same `cache` share what they write alike (see the file's header).
 */
export function compilePolicy(name: string, document: unknown, kind: PolicyKind = 'identity', cache: CompileCache = new CompileCache()): CompiledPolicy {
  const issues: PolicyIssue[] = [];
  const statements: CompiledStatement[] = [];
  let variables = false;
  if (!isRecord(document)) {
    throw new PolicyCompileError(name, [{ path: [], message: 'a policy must be an object with Version and Statement' }]);
  }
  for (const key of Object.keys(document)) {
    if (key !== 'Version' && key !== 'Statement' && key !== 'Id') issues.push({ path: [key], message: `unknown policy element "${key}"` });
  }
  const version = document.Version;
  if (version === '2012-10-17') variables = true;
  else if (version !== undefined && version !== '2008-10-17') {
    issues.push({ path: ['Version'], message: `must be "2012-10-17" (or the legacy "2008-10-17"), not ${JSON.stringify(version)}` });
  }
  const rawStatements = Array.isArray(document.Statement) ? document.Statement : document.Statement === undefined ? undefined : [document.Statement];
  if (!rawStatements) issues.push({ path: ['Statement'], message: 'is required' });
  rawStatements?.forEach((raw: unknown, index) => {
    const path: Path = Array.isArray(document.Statement) ? ['Statement', index] : ['Statement'];
    const compiled = compileStatement(name, index, raw, variables, path, issues, kind, cache);
    if (compiled) statements.push(compiled);
  });
  if (issues.length) throw new PolicyCompileError(name, issues);
  // slice: the arrays a compiled policy keeps are exact in size (one built by push has room to grow).
  return { name, statements: statements.slice(), variables };
}

function stringList(value: unknown, path: Path, issues: PolicyIssue[]): string[] | undefined {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) {
    issues.push({ path, message: 'must not be empty' });
    return undefined;
  }
  const bad = list.findIndex((v) => typeof v !== 'string' || v.length === 0);
  if (bad >= 0) {
    issues.push({ path: Array.isArray(value) ? [...path, bad] : path, message: 'must be a non-empty string' });
    return undefined;
  }
  return list as string[];
}

/** An Action/NotAction entry: `*`, or a case-insensitive pattern matched against the lower-cased action. */
class ActionPattern {
  /** @param pattern undefined for `*` */
  constructor(private readonly pattern: Pattern | undefined) {}
  match(lowerAction: string): boolean {
    return this.pattern === undefined || this.pattern.match(lowerAction, EMPTY_CONTEXT) === true;
  }
}
const ANY_ACTION = new ActionPattern(undefined);

/**
 * A Resource/NotResource entry. `*`, or a full ARN: the partition, service, region and account are matched segment
 * by segment (case-insensitively, as IAM does); the resource part is matched case-sensitively, with wildcards and
 * policy variables.
 */
class ResourcePattern {
  /** All undefined for `*`. */
  constructor(
    private readonly partition: Pattern | undefined,
    private readonly service: Pattern | undefined,
    private readonly region: Pattern | undefined,
    private readonly account: Pattern | undefined,
    private readonly tail: Pattern | undefined,
  ) {}

  /** true / false, or undefined when a policy variable in the pattern has no value. */
  match(requested: RequestedResource, c: RequestContext): boolean | undefined {
    if (this.tail === undefined) return true;
    const r = requested.parts;
    if (!r) return false;
    // Segments are checked in order: a mismatch settles it (false); reaching a variable without a value
    // voids the pattern (undefined), which no Resource or NotResource may count as a match.
    return this.partition!.match(r.partition, c) && this.service!.match(r.service, c) && this.region!.match(r.region, c) && this.account!.match(r.account, c) && this.tail.match(r.resource, c);
  }
}
const ANY_RESOURCE = new ResourcePattern(undefined, undefined, undefined, undefined, undefined);

/** Everything about a statement but which statement it is: shared by the statements that write the same thing. */
class StatementBody {
  constructor(
    readonly actions: readonly string[],
    readonly notAction: boolean,
    readonly resources: readonly string[],
    readonly notResource: boolean,
    readonly conditions: readonly CompiledCondition[],
    readonly principal: CompiledPrincipal | undefined,
    readonly notPrincipal: boolean,
    private readonly actionPatterns: readonly ActionPattern[],
    private readonly resourcePatterns: readonly ResourcePattern[],
  ) {}

  matchesAction(action: string): boolean {
    const lower = action.toLowerCase();
    let any = false;
    for (const p of this.actionPatterns) {
      if (p.match(lower)) {
        any = true;
        break;
      }
    }
    return this.notAction ? !any : any;
  }

  // A pattern whose policy variable has no value makes the statement not apply at all, even under NotResource
  // (IAM: "any attempt to match it fails and causes the statement to be invalid").
  matchesResource(resource: RequestedResource, context: RequestContext): boolean {
    if (this.notResource) {
      for (const p of this.resourcePatterns) if (p.match(resource, context) !== false) return false;
      return true;
    }
    for (const p of this.resourcePatterns) if (p.match(resource, context) === true) return true;
    return false;
  }

  matchesPrincipal(p: RequestPrincipal | undefined): PrincipalMatch | undefined {
    const principal = this.principal;
    if (!principal) return 'principal';
    if (this.notPrincipal) return p && principal.match(p) === undefined ? 'principal' : undefined;
    return p ? principal.match(p) : undefined;
  }
}

/** One statement of one policy: its reference and source, and the (possibly shared) body that does the matching. */
class Statement implements CompiledStatement {
  constructor(
    readonly ref: StatementRef,
    readonly source: Readonly<Record<string, unknown>>,
    private readonly body: StatementBody,
  ) {}
  get actions(): readonly string[] {
    return this.body.actions;
  }
  get notAction(): boolean {
    return this.body.notAction;
  }
  get resources(): readonly string[] {
    return this.body.resources;
  }
  get notResource(): boolean {
    return this.body.notResource;
  }
  get conditions(): readonly CompiledCondition[] {
    return this.body.conditions;
  }
  get principal(): CompiledPrincipal | undefined {
    return this.body.principal;
  }
  get notPrincipal(): boolean {
    return this.body.notPrincipal;
  }
  matchesAction(action: string): boolean {
    return this.body.matchesAction(action);
  }
  matchesResource(resource: RequestedResource, context: RequestContext): boolean {
    return this.body.matchesResource(resource, context);
  }
  matchesPrincipal(principal: RequestPrincipal | undefined): PrincipalMatch | undefined {
    return this.body.matchesPrincipal(principal);
  }
}

function compileStatement(
  policy: string,
  index: number,
  raw: unknown,
  variables: boolean,
  path: Path,
  issues: PolicyIssue[],
  kind: PolicyKind,
  cache: CompileCache,
): CompiledStatement | undefined {
  if (!isRecord(raw)) {
    issues.push({ path, message: 'a statement must be an object' });
    return undefined;
  }
  const before = issues.length;
  for (const key of Object.keys(raw)) {
    if (key === 'Principal' || key === 'NotPrincipal') {
      if (kind === 'identity') issues.push({ path: [...path, key], message: 'identity policies have no Principal: the principal is chosen by the `principals` section' });
    } else if (!STATEMENT_KEYS.has(key)) {
      issues.push({ path: [...path, key], message: `unknown statement element "${key}"` });
    }
  }
  const effect = raw.Effect;
  if (effect !== 'Allow' && effect !== 'Deny') issues.push({ path: [...path, 'Effect'], message: 'must be "Allow" or "Deny"' });
  if (raw.Sid !== undefined && (typeof raw.Sid !== 'string' || !/^[A-Za-z0-9]*$/.test(raw.Sid))) {
    issues.push({ path: [...path, 'Sid'], message: 'must be a string of letters and digits' });
  }

  const actionKey = exactlyOne(raw, 'Action', 'NotAction', path, issues);
  // A resource-based policy may leave out Resource: it is then about the resource it is attached to.
  const resourceKey = kind === 'resource' && raw.Resource === undefined && raw.NotResource === undefined ? undefined : exactlyOne(raw, 'Resource', 'NotResource', path, issues);
  const principalKey = kind === 'resource' ? exactlyOne(raw, 'Principal', 'NotPrincipal', path, issues) : undefined;
  if (principalKey === 'NotPrincipal' && effect !== 'Deny') {
    issues.push({ path: [...path, 'NotPrincipal'], message: 'NotPrincipal is only supported with "Effect": "Deny"' });
  }
  const principal = principalKey ? compilePrincipal(raw[principalKey], [...path, principalKey], issues) : undefined;
  const actions = actionKey ? stringList(raw[actionKey], [...path, actionKey], issues) : undefined;
  const resources = resourceKey ? stringList(raw[resourceKey], [...path, resourceKey], issues) : ['*'];

  const actionPatterns = (actions ?? []).map((a, i) => compileAction(a, Array.isArray(raw[actionKey!]) ? [...path, actionKey!, i] : [...path, actionKey!], issues, cache));
  const resourcePath = (i: number): Path => (!resourceKey ? path : Array.isArray(raw[resourceKey]) ? [...path, resourceKey, i] : [...path, resourceKey]);
  const resourcePatterns = (resources ?? []).map((r, i) => compileResource(r, variables, resourcePath(i), issues, cache));
  const conditions = compileConditions(raw.Condition, variables, [...path, 'Condition'], issues, cache);
  if (issues.length > before) return undefined;

  const notAction = actionKey === 'NotAction';
  const notResource = resourceKey === 'NotResource';
  const notPrincipal = principalKey === 'NotPrincipal';
  const makeBody = (): StatementBody =>
    new StatementBody(
      actions!.map((a) => cache.string(a)),
      notAction,
      resources!.map((r) => cache.string(r)),
      notResource,
      conditions.slice(),
      principal,
      notPrincipal,
      actionPatterns as ActionPattern[],
      resourcePatterns as ResourcePattern[],
    );
  // Every part is already one shared object per text written: a body is named by its parts. A Principal is not
  // shared (resource-based policies are few), so a statement with one has a body of its own.
  const ids = (list: readonly object[]): string => list.map((o) => cache.id(o)).join(',');
  const body = principal
    ? makeBody()
    : cache.shared('body', `${notAction ? 'N' : 'A'}${ids(actionPatterns as ActionPattern[])}|${notResource ? 'N' : 'R'}${ids(resourcePatterns as ResourcePattern[])}|${ids(conditions)}`, makeBody);
  const sid = typeof raw.Sid === 'string' && raw.Sid ? raw.Sid : undefined;
  const ref: StatementRef = sid !== undefined ? { policy, index, effect: effect as Effect, sid } : { policy, index, effect: effect as Effect };
  return new Statement(ref, raw, body);
}

function exactlyOne(raw: Record<string, unknown>, a: string, b: string, path: Path, issues: PolicyIssue[]): string | undefined {
  const hasA = raw[a] !== undefined;
  const hasB = raw[b] !== undefined;
  if (hasA === hasB) {
    issues.push({ path, message: hasA ? `has both ${a} and ${b}; use one` : `needs ${a} or ${b}` });
    return undefined;
  }
  return hasA ? a : b;
}

/** Actions are `service:pattern` (case-insensitive, wildcards), or `*`. */
function compileAction(action: string, path: Path, issues: PolicyIssue[], cache: CompileCache): ActionPattern | undefined {
  if (action === '*') return ANY_ACTION;
  const colon = action.indexOf(':');
  if (colon <= 0 || colon === action.length - 1 || /\s/.test(action)) {
    issues.push({ path, message: `"${action}" is not an action (service:Action, e.g. elasticmapreduce:AddJobFlowSteps)` });
    return undefined;
  }
  return cache.shared('action', action, () => new ActionPattern(compilePattern(action, { wildcards: true, variables: false, ignoreCase: true }, cache)));
}

/** The resource of a request, split once per evaluation rather than once per statement. */
export interface RequestedResource {
  arn: string;
  /** The ARN's parts, partition/service/region/account lower-cased; undefined if it is not an ARN. */
  parts: ArnParts | undefined;
}

export function requestedResource(arn: string): RequestedResource {
  const parts = splitArn(arn);
  return {
    arn,
    parts: parts && {
      partition: parts.partition.toLowerCase(),
      service: parts.service.toLowerCase(),
      region: parts.region.toLowerCase(),
      account: parts.account.toLowerCase(),
      resource: parts.resource,
    },
  };
}

/** Resources are `*` or a full ARN (see ResourcePattern). */
function compileResource(resource: string, variables: boolean, path: Path, issues: PolicyIssue[], cache: CompileCache): ResourcePattern | undefined {
  if (resource === '*') return ANY_RESOURCE;
  const parts = splitArn(resource, true);
  if (!parts) {
    issues.push({ path, message: `"${resource}" is not "*" or an ARN (arn:partition:service:region:account:resource)` });
    return undefined;
  }
  return cache.shared('resource', `${variables ? 'v' : '-'}${resource}`, () => {
    const head = (s: string): Pattern => compilePattern(s, { wildcards: true, variables, ignoreCase: true }, cache);
    return new ResourcePattern(head(parts.partition), head(parts.service), head(parts.region), head(parts.account), compilePattern(parts.resource, { wildcards: true, variables }, cache));
  });
}

function compileConditions(raw: unknown, variables: boolean, path: Path, issues: PolicyIssue[], cache: CompileCache): CompiledCondition[] {
  if (raw === undefined) return [];
  if (!isRecord(raw)) {
    issues.push({ path, message: 'must be an object of operator → { key: value(s) }' });
    return [];
  }
  const out: CompiledCondition[] = [];
  for (const [opName, block] of Object.entries(raw)) {
    const opPath: Path = [...path, opName];
    const operator = cache.shared<{ parsed: ParsedOperator | string }>('operator', opName, () => ({ parsed: parseOperator(opName) })).parsed;
    if (typeof operator === 'string') {
      issues.push({ path: opPath, message: operator });
      continue;
    }
    if (!isRecord(block) || Object.keys(block).length === 0) {
      issues.push({ path: opPath, message: 'must be an object of condition key → value(s)' });
      continue;
    }
    for (const [key, rawValues] of Object.entries(block)) {
      const keyPath: Path = [...opPath, key];
      if (!/^[A-Za-z0-9-]+:\S+$/.test(key)) {
        issues.push({ path: keyPath, message: `"${key}" is not a condition key (service:Key)` });
        continue;
      }
      const list = Array.isArray(rawValues) ? rawValues : [rawValues];
      const badIndex = list.findIndex((v) => typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean');
      if (list.length === 0 || badIndex >= 0) {
        issues.push({ path: keyPath, message: 'values must be strings, numbers or booleans (one, or a non-empty list)' });
        continue;
      }
      const compiled = compileCondition(operator, key, list.map(String), variables, cache);
      if (Array.isArray(compiled)) compiled.forEach((message) => issues.push({ path: keyPath, message }));
      else out.push(compiled);
    }
  }
  return out;
}

/** Whether a statement applies to a request: action, resource and every condition (operators ANDed). */
export function statementApplies(s: CompiledStatement, action: string, resource: RequestedResource, context: RequestContext): boolean {
  if (!s.matchesAction(action) || !s.matchesResource(resource, context)) return false;
  for (const condition of s.conditions) if (!condition.test(context)) return false;
  return true;
}

/** What a set of statements says about one request, before IAM combines it with other policies. */
export interface StatementOutcome {
  deniedBy: StatementRef[];
  /** Allows about the caller itself (identity policies' statements always are). */
  allowedBy: StatementRef[];
  /** Allows that name only the caller's account: they delegate to its identity policies (resource-based policies). */
  allowedForAccount: StatementRef[];
}

/**
 * The statements that apply to a request, by effect. `principal` is who asks, for resource-based policies'
 * Principal/NotPrincipal; a Deny applies to whoever it names, through the account or not.
 */
export function evaluateStatements(
  statements: readonly CompiledStatement[],
  action: string,
  resource: RequestedResource,
  context: RequestContext,
  principal?: RequestPrincipal,
): StatementOutcome {
  const outcome: StatementOutcome = { deniedBy: [], allowedBy: [], allowedForAccount: [] };
  for (const s of statements) {
    const match = s.matchesPrincipal(principal);
    if (!match || !statementApplies(s, action, resource, context)) continue;
    if (s.ref.effect === 'Deny') outcome.deniedBy.push(s.ref);
    else (match === 'principal' ? outcome.allowedBy : outcome.allowedForAccount).push(s.ref);
  }
  return outcome;
}
