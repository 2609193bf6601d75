/**
 * Policy linting: statements that can never match (the EMR documentation's own example ANDs a StringEquals
 * and a StringLike on one key with disjoint values), actions EMR does not have, resources that cannot be a
 * cluster, keys the gateway never sets, and principal rules shadowed by an earlier one.
 *
 * Errors are what makes a statement silently do nothing or something else than written: an EMR action that
 * does not exist, a statement that can never match (contradictory conditions, a condition on a key the
 * gateway never sets that is false without it, no resource that can be a cluster). Loading the configuration
 * file fails on them (src/config-file/load.ts). Everything else is a warning.
 */
import { GATEWAY_ACTIONS, GATEWAY_CONTEXT_KEYS } from './actions';
import { EMR_ACTIONS } from './emr-actions';
import { clusterArn } from '../identifiers';
import { resolvePrincipal, splitArn } from './arn';
import type { CompiledCondition } from './conditions';
import { MapContext } from './context';
import { DERIVED_KEYS, describeStatement, isDerivedKey, type PrincipalRule } from './engine';
import { globMatcher } from './pattern';
import type { CompiledPolicy, CompiledStatement } from './policy';
import { formatPath, type Path } from '../util/format';
import { editDistance } from '../util/edit-distance';

export type Severity = 'error' | 'warning';

export interface LintFinding {
  severity: Severity;
  /** Where, as a path in the configuration, e.g. `policies.team-a.Statement[0]`. */
  path: string;
  /** The same path, as keys and indexes (to find it in the file, or in a `file:` policy). */
  location: Path;
  message: string;
  suggestion?: string;
}

/** A finding at `location`, its `path` written the way every configuration error writes one. */
function finding(severity: Severity, location: Path, message: string, suggestion?: string): LintFinding {
  return { severity, path: formatPath(location), location, message, ...(suggestion === undefined ? {} : { suggestion }) };
}

export interface LintInput {
  policies: ReadonlyMap<string, CompiledPolicy>;
  principals: readonly PrincipalRule[];
  partition: string;
  account: string;
  region: string;
  clusterIds: readonly string[];
  /** The account of each cluster not in `account` (a cluster of another account is that account's resource). */
  clusterAccounts?: Readonly<Record<string, string>>;
}

const GATEWAY_ACTION_LIST: readonly string[] = Object.values(GATEWAY_ACTIONS);
const KNOWN_REQUEST_KEYS = new Set(
  [...Object.values(GATEWAY_CONTEXT_KEYS), 'aws:CurrentTime', 'aws:EpochTime', 'aws:SourceIp', 'aws:RequestTag/', 'aws:TagKeys'].map((k) => k.toLowerCase()),
);

export function lintPolicies(input: LintInput): LintFinding[] {
  const findings: LintFinding[] = [];
  const clusterArns = input.clusterIds.map((id) => clusterArn(input.partition, input.region, input.clusterAccounts?.[id] ?? input.account, id));
  for (const policy of input.policies.values()) {
    const users = input.principals.filter((p) => p.policies.includes(policy.name));
    const uses = users.length;
    if (uses === 0) findings.push(finding('warning', ['policies', policy.name], 'no principal uses this policy'));
    for (const statement of policy.statements) {
      const path: Path = ['policies', policy.name, 'Statement', statement.ref.index];
      const where = describeStatement(statement.ref);
      lintActions(statement, path, findings);
      lintResources(statement, path, input, clusterArns, findings);
      lintConditionKeys(statement, path, where, findings);
      const never = neverMatches(statement);
      if (never) findings.push(finding('error', path, `${where} can never match: ${never.message}`, never.suggestion));
      if (statement.ref.effect === 'Allow' && (statement.notAction || statement.notResource)) {
        findings.push(
          finding('warning', path, `${where} allows with ${statement.notAction ? 'NotAction' : 'NotResource'}: it grants everything not listed`, 'list the actions and resources to allow instead'),
        );
      }
      if (uses && !users.some((p) => p.sessionNames === 'verified') && readsSourceIdentity(statement)) {
        findings.push(
          finding(
            'warning',
            path,
            `${where} reads aws:SourceIdentity, which no rule using ${policy.name} gives an interactive caller: none marks its session names verified (only schedules and triggers have one)`,
            'mark the rule sessionNames: verified if AWS sets its session names (IAM Identity Center); emr-gateway:SessionName is the caller-chosen name',
          ),
        );
      }
      if (!policy.variables && statement.conditions.some((c) => c.values.some((v) => v.includes('${')))) {
        findings.push(finding('warning', path, `${where} uses a policy variable, but the policy has no Version "2012-10-17": IAM takes it literally`, 'add Version: "2012-10-17"'));
      }
    }
  }
  lintPrincipals(input.principals, findings);
  return findings;
}

/** The statement tests aws:SourceIdentity, as a key or as a policy variable in a value or resource. */
function readsSourceIdentity(statement: CompiledStatement): boolean {
  const variable = (text: string): boolean => /\$\{\s*aws:sourceidentity\s*[,}]/i.test(text);
  return (
    statement.conditions.some((c) => c.keyLower === 'aws:sourceidentity' || c.values.some(variable)) ||
    statement.resources.some(variable)
  );
}

/** `Action` or `Action[i]`: a list is indexed, a single value is the key itself (as written). */
function element(statement: CompiledStatement, path: Path, key: string, count: number, i: number): Path {
  return Array.isArray(statement.source[key]) || count > 1 ? [...path, key, i] : [...path, key];
}

function lintActions(statement: CompiledStatement, path: Path, findings: LintFinding[]): void {
  const key = statement.notAction ? 'NotAction' : 'Action';
  statement.actions.forEach((action, i) => {
    const at = element(statement, path, key, statement.actions.length, i);
    if (action === '*') return;
    const matches = globMatcher(action, true);
    if (action.toLowerCase().startsWith('elasticmapreduce:') && !EMR_ACTIONS.some(matches)) {
      findings.push(finding('error', at, `"${action}" matches no EMR action`, closestAction(action)));
    } else if (!statement.notAction && !GATEWAY_ACTION_LIST.some(matches)) {
      findings.push(finding('warning', at, `"${action}" is never asked for by the gateway (it asks for ${GATEWAY_ACTION_LIST.join(', ')})`));
    }
  });
}

function closestAction(action: string): string | undefined {
  const name = action.slice(action.indexOf(':') + 1).toLowerCase();
  const candidate = EMR_ACTIONS.map((a) => [a, editDistance(a.slice(17).toLowerCase(), name)] as const).sort((a, b) => a[1] - b[1])[0];
  return candidate && candidate[1] <= 3 ? `did you mean ${candidate[0]}?` : undefined;
}

function closestKey(key: string): string | undefined {
  const lower = key.toLowerCase();
  const candidate = [...Object.values(GATEWAY_CONTEXT_KEYS), ...DERIVED_KEYS]
    .map((k) => [k, editDistance(k.toLowerCase(), lower)] as const)
    .sort((a, b) => a[1] - b[1])[0];
  return candidate && candidate[1] <= 3 ? `did you mean ${candidate[0]}?` : `the gateway sets ${Object.values(GATEWAY_CONTEXT_KEYS).join(', ')} and the principal's aws:* keys`;
}

function lintResources(statement: CompiledStatement, path: Path, input: LintInput, clusterArns: readonly string[], findings: LintFinding[]): void {
  if (statement.notResource) return;
  const key = 'Resource';
  const whyNot = statement.resources.map((resource) => {
    if (resource === '*' || resource.includes('${')) return undefined;
    const parts = splitArn(resource, true);
    return parts ? cannotBeCluster(parts.service, parts.resource) : undefined; // compile already rejected a non-ARN
  });
  // With no resource that can be a cluster the statement never matches (an error); one such resource beside
  // others that can is inert, as in a policy pasted from IAM that also covers other services (a warning).
  const neverMatches = whyNot.every((why) => why !== undefined);
  statement.resources.forEach((resource, i) => {
    const at = element(statement, path, key, statement.resources.length, i);
    const why = whyNot[i];
    if (why) {
      findings.push(
        finding(
          neverMatches ? 'error' : 'warning',
          at,
          `"${resource}" cannot match an EMR cluster: ${why}`,
          `use arn:${input.partition}:elasticmapreduce:${input.region}:${input.account}:cluster/CLUSTER_ID (wildcards allowed)`,
        ),
      );
      return;
    }
    if (resource === '*' || resource.includes('${')) return;
    const matches = globMatcher(resource);
    if (clusterArns.length && !clusterArns.some(matches)) {
      findings.push(finding('warning', at, `"${resource}" matches none of the configured clusters (${clusterArns.join(', ')})`));
    }
  });
}

/** Why a resource pattern can never be `...:elasticmapreduce:...:cluster/ID`, or undefined if it can. */
function cannotBeCluster(service: string, resource: string): string | undefined {
  if (!globMatcher(service, true)('elasticmapreduce')) return `its service is "${service}", not elasticmapreduce`;
  // The literal text before the first wildcard must be compatible with "cluster/".
  const literal = resource.split(/[*?]/)[0] ?? '';
  const prefix = 'cluster/';
  const compatible = literal.startsWith(prefix) || prefix.startsWith(literal);
  if (!compatible) return `its resource part "${resource}" is not cluster/ID`;
  if (!/[*?]/.test(resource) && resource.length <= prefix.length) return `its resource part "${resource}" names no cluster`;
  return undefined;
}

function lintConditionKeys(statement: CompiledStatement, path: Path, where: string, findings: LintFinding[]): void {
  for (const c of statement.conditions) {
    const known =
      isDerivedKey(c.key) ||
      KNOWN_REQUEST_KEYS.has(c.keyLower) ||
      c.keyLower.startsWith('aws:requesttag/') ||
      !(c.keyLower.startsWith('elasticmapreduce:') || c.keyLower.startsWith('emr-gateway:') || c.keyLower.startsWith('aws:'));
    if (known) continue;
    const at = [...path, 'Condition', c.operator.written, c.key];
    // The key is always missing: a condition false without it makes the statement dead (a misspelled key in a
    // Deny denies nothing); one true without it (IfExists, negated, Null true) only never narrows it.
    if (!c.test(new MapContext())) {
      findings.push(finding('error', at, `the gateway never sets ${c.key}: this condition is always false, so ${where} can never match`, closestKey(c.key)));
    } else {
      findings.push(finding('warning', at, `the gateway never sets ${c.key}: this condition always sees it missing`));
    }
  }
}

/**
 * Finds keys whose conditions cannot all hold. For a key constrained by a finite set of values (StringEquals,
 * ArnEquals without wildcards, ...), every candidate value is tried against every other condition on that key;
 * `Null: true` against a condition that needs the key present is a contradiction too.
 */
function neverMatches(statement: CompiledStatement): { message: string; suggestion: string } | undefined {
  const byKey = new Map<string, CompiledCondition[]>();
  for (const c of statement.conditions) {
    if (c.operator.setOperator || c.values.some((v) => v.includes('${'))) continue; // depends on more than this key
    byKey.set(c.keyLower, [...(byKey.get(c.keyLower) ?? []), c]);
  }
  for (const conditions of byKey.values()) {
    if (conditions.length < 2) continue;
    const needsPresent = conditions.filter((c) => c.operator.base !== 'Null' && !c.operator.ifExists && !c.operator.negated);
    const nullTrue = conditions.find((c) => c.operator.base === 'Null' && c.values.every((v) => v.toLowerCase() === 'true'));
    if (nullTrue && needsPresent.length) {
      return {
        message: `Null ${nullTrue.key} requires the key to be absent, ${needsPresent[0]!.operator.written} requires it present`,
        suggestion: 'remove one of the two conditions',
      };
    }
    const finite = needsPresent.find((c) => ['StringEquals', 'ArnEquals', 'ArnLike', 'BinaryEquals'].includes(c.operator.base) && c.values.every((v) => !/[*?]/.test(v)));
    if (!finite) continue;
    const others = conditions.filter((c) => c !== finite);
    const satisfiable = finite.values.some((candidate) => {
      const context = new MapContext().set(finite.key, candidate);
      return others.every((c) => c.test(context));
    });
    if (!satisfiable) {
      const rest = others.map((c) => `${c.operator.written} ${JSON.stringify(c.values)}`).join(' and ');
      return {
        message: `${finite.key} must be one of ${JSON.stringify(finite.values)} (${finite.operator.written}) and also satisfy ${rest}: no value does. Operators in one Condition block are ANDed.`,
        suggestion: `to allow either, split it into two statements: one with ${finite.operator.written} and one with ${others.map((c) => c.operator.written).join(' / ')}`,
      };
    }
  }
  return undefined;
}

function lintPrincipals(principals: readonly PrincipalRule[], findings: LintFinding[]): void {
  principals.forEach((rule, i) => {
    if (/[*?]/.test(rule.match)) return;
    // As the engine matches: a session ARN's callers are also its role, and only verified rules see session ARNs.
    const principal = resolvePrincipal(rule.match);
    const roleArn = principal?.type === 'AssumedRole' ? principal.principalArn : undefined;
    const takes = (p: PrincipalRule): boolean => {
      const matches = globMatcher(p.match);
      return (roleArn !== undefined && matches(roleArn)) || ((roleArn === undefined || p.sessionNames === 'verified') && matches(rule.match));
    };
    const earlier = principals.findIndex((p, j) => j < i && takes(p));
    if (earlier >= 0) {
      findings.push(finding('warning', ['principals', i], `never used: principals[${earlier}] (${principals[earlier]!.match}) matches ${rule.match} first`, 'move the more specific rule up'));
    }
  });
}
