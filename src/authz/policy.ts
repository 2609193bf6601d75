/**
 * IAM policy documents: validation of the grammar (with the path of each problem) and compilation into
 * matchers, once, at load. Evaluation then does no parsing and no I/O. Identity policies (the gateway's, a role's
 * permissions) have no Principal; resource-based policies (a role's trust policy) name one, and may leave out
 * Resource (the resource they are attached to).
 */
import { splitArn, type ArnParts } from './arn';
import { compileCondition, parseOperator, type CompiledCondition } from './conditions';
import type { RequestContext } from './context';
import { PolicyCompileError, type PolicyIssue } from '../errors';
import type { Path } from '../util/format';
import { compilePattern, globMatcher, matchParts, type Pattern } from './pattern';
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
  readonly principal?: CompiledPrincipal;
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

/** Compiles a policy document; throws PolicyCompileError listing every problem found. */
export function compilePolicy(name: string, document: unknown, kind: PolicyKind = 'identity'): CompiledPolicy {
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
    const compiled = compileStatement(name, index, raw, variables, path, issues, kind);
    if (compiled) statements.push(compiled);
  });
  if (issues.length) throw new PolicyCompileError(name, issues);
  return { name, statements, variables };
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

function compileStatement(
  policy: string,
  index: number,
  raw: unknown,
  variables: boolean,
  path: Path,
  issues: PolicyIssue[],
  kind: PolicyKind,
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

  const actionMatchers = (actions ?? []).map((a, i) => compileAction(a, Array.isArray(raw[actionKey!]) ? [...path, actionKey!, i] : [...path, actionKey!], issues));
  const resourcePath = (i: number): Path => (!resourceKey ? path : Array.isArray(raw[resourceKey]) ? [...path, resourceKey, i] : [...path, resourceKey]);
  const resourceMatchers = (resources ?? []).map((r, i) => compileResource(r, variables, resourcePath(i), issues));
  const conditions = compileConditions(raw.Condition, variables, [...path, 'Condition'], issues);
  if (issues.length > before) return undefined;

  const notAction = actionKey === 'NotAction';
  const notResource = resourceKey === 'NotResource';
  const notPrincipal = principalKey === 'NotPrincipal';
  const anyAction = (action: string): boolean => actionMatchers.some((m) => m!(action));
  // A pattern whose policy variable has no value makes the statement not apply at all, even under NotResource
  // (IAM: "any attempt to match it fails and causes the statement to be invalid").
  const anyResource = (r: RequestedResource, c: RequestContext): boolean => resourceMatchers.some((m) => m!(r, c) === true);
  const noResource = (r: RequestedResource, c: RequestContext): boolean => resourceMatchers.every((m) => m!(r, c) === false);
  return {
    ref: { policy, index, effect: effect as Effect, ...(typeof raw.Sid === 'string' && raw.Sid ? { sid: raw.Sid } : {}) },
    source: raw,
    actions: actions!,
    notAction,
    resources: resources!,
    notResource,
    conditions,
    ...(principal ? { principal } : {}),
    notPrincipal,
    matchesAction: notAction ? (a) => !anyAction(a) : anyAction,
    matchesResource: notResource ? noResource : anyResource,
    matchesPrincipal: !principal
      ? () => 'principal'
      : notPrincipal
        ? (p) => (p && principal.match(p) === undefined ? 'principal' : undefined)
        : (p) => (p ? principal.match(p) : undefined),
  };
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
function compileAction(action: string, path: Path, issues: PolicyIssue[]): ((action: string) => boolean) | undefined {
  if (action === '*') return () => true;
  const colon = action.indexOf(':');
  if (colon <= 0 || colon === action.length - 1 || /\s/.test(action)) {
    issues.push({ path, message: `"${action}" is not an action (service:Action, e.g. elasticmapreduce:AddJobFlowSteps)` });
    return undefined;
  }
  return globMatcher(action, true);
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

/** true / false, or undefined when a policy variable in the pattern has no value. */
type ResourceMatcher = (resource: RequestedResource, c: RequestContext) => boolean | undefined;

/**
 * Resources are `*` or a full ARN. The partition, service, region and account are matched segment by
 * segment (case-insensitively, as IAM does); the resource part is matched case-sensitively, with wildcards
 * and policy variables.
 */
function compileResource(resource: string, variables: boolean, path: Path, issues: PolicyIssue[]): ResourceMatcher | undefined {
  if (resource === '*') return () => true;
  const parts = splitArn(resource, true);
  if (!parts) {
    issues.push({ path, message: `"${resource}" is not "*" or an ARN (arn:partition:service:region:account:resource)` });
    return undefined;
  }
  const head = (s: string): Pattern => compilePattern(s, { wildcards: true, variables, ignoreCase: true });
  const partition = head(parts.partition);
  const service = head(parts.service);
  const region = head(parts.region);
  const account = head(parts.account);
  const tail = compilePattern(parts.resource, { wildcards: true, variables });
  const segment = (pattern: Pattern, value: string, c: RequestContext): boolean | undefined => {
    const resolved = pattern.resolve(c);
    return resolved === undefined ? undefined : matchParts(resolved, value);
  };
  return (requested, c) => {
    const r = requested.parts;
    if (!r) return false;
    // Segments are checked in order: a mismatch settles it (false); reaching a variable without a value
    // voids the pattern (undefined), which no Resource or NotResource may count as a match.
    return (
      segment(partition, r.partition, c) &&
      segment(service, r.service, c) &&
      segment(region, r.region, c) &&
      segment(account, r.account, c) &&
      segment(tail, r.resource, c)
    );
  };
}

function compileConditions(raw: unknown, variables: boolean, path: Path, issues: PolicyIssue[]): CompiledCondition[] {
  if (raw === undefined) return [];
  if (!isRecord(raw)) {
    issues.push({ path, message: 'must be an object of operator → { key: value(s) }' });
    return [];
  }
  const out: CompiledCondition[] = [];
  for (const [opName, block] of Object.entries(raw)) {
    const opPath: Path = [...path, opName];
    const operator = parseOperator(opName);
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
      const compiled = compileCondition(operator, key, list.map(String), variables);
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
