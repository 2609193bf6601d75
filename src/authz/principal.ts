/**
 * The Principal / NotPrincipal element of resource-based policies (role trust policies), compiled once, and
 * matched as IAM matches it: `*` is everyone; an account (`123456789012`, `arn:aws:iam::123456789012:root`) is
 * every principal of that account, as a delegation to their identity policies; a role ARN is that role's
 * sessions; any other ARN (user, assumed-role session, federated user) that principal only; Service,
 * Federated and CanonicalUser their own kinds. No wildcard may stand for part of a value (IAM: "You can't use
 * a wildcard to match part of a principal name or ARN").
 */
import type { PolicyIssue } from '../errors';
import { ACCOUNT_ID, PRINCIPAL_ARN } from '../identifiers';
import type { Path } from '../util/format';

/** Who asks, as a resource-based policy sees it. */
export type RequestPrincipal =
  | {
      kind: 'aws';
      /** As the caller authenticated: an assumed-role session, a user, a federated user, an account root. */
      arn: string;
      /** aws:PrincipalArn: the role (with its path) for an assumed-role session, else the caller ARN. */
      principalArn: string;
      account: string;
    }
  | { kind: 'service'; service: string };

/** `principal`: the policy names the caller (or everyone); `account`: only its account, which delegates to IAM. */
export type PrincipalMatch = 'principal' | 'account';

export interface CompiledPrincipal {
  /** The element as written. */
  readonly source: unknown;
  match(principal: RequestPrincipal): PrincipalMatch | undefined;
}

const KINDS = ['AWS', 'Service', 'Federated', 'CanonicalUser'] as const;
type Kind = (typeof KINDS)[number];
const ROOT = /^arn:[^:]+:iam::(\d{12}):root$/;

type ValueMatcher = (principal: RequestPrincipal) => PrincipalMatch | undefined;

function awsValue(value: string): ValueMatcher | string {
  if (value === '*') return (p) => (p.kind === 'aws' ? 'principal' : undefined);
  const account = ACCOUNT_ID.test(value) ? value : ROOT.exec(value)?.[1];
  if (account !== undefined) return (p) => (p.kind === 'aws' && p.account === account ? 'account' : undefined);
  if (/[*?]/.test(value)) return `"${value}" is not a principal: a wildcard can only be the whole value ("*"); match part of an ARN with a Condition on aws:PrincipalArn`;
  if (!PRINCIPAL_ARN.test(value)) return `"${value}" is not a principal (an account id, or the ARN of an account root, role, user, assumed-role session or federated user)`;
  return (p) => (p.kind === 'aws' && (p.arn === value || p.principalArn === value) ? 'principal' : undefined);
}

function otherValue(kind: Exclude<Kind, 'AWS'>, value: string): ValueMatcher | string {
  if (kind !== 'Service') return () => undefined; // no caller here is a federated identity or an S3 canonical user
  if (value === '*' || !/^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$/.test(value)) return `"${value}" is not a service principal (e.g. ec2.amazonaws.com)`;
  return (p) => (p.kind === 'service' && p.service === value ? 'principal' : undefined);
}

/** Compiles a Principal or NotPrincipal element, or records its problems in `issues`. */
export function compilePrincipal(source: unknown, path: Path, issues: PolicyIssue[]): CompiledPrincipal | undefined {
  const before = issues.length;
  const matchers: ValueMatcher[] = [];
  if (source === '*') matchers.push(() => 'principal');
  else if (typeof source === 'object' && source !== null && !Array.isArray(source) && Object.keys(source).length > 0) {
    for (const [kind, raw] of Object.entries(source)) {
      const at: Path = [...path, kind];
      if (!(KINDS as readonly string[]).includes(kind)) {
        issues.push({ path: at, message: `unknown principal type "${kind}" (AWS, Service, Federated or CanonicalUser)` });
        continue;
      }
      const values = Array.isArray(raw) ? (raw as unknown[]) : [raw];
      if (values.length === 0 || values.some((v) => typeof v !== 'string' || v.length === 0)) {
        issues.push({ path: at, message: 'must be a non-empty string or a non-empty list of them' });
        continue;
      }
      for (const value of values as string[]) {
        const compiled = kind === 'AWS' ? awsValue(value) : otherValue(kind as Exclude<Kind, 'AWS'>, value);
        if (typeof compiled === 'string') issues.push({ path: at, message: compiled });
        else matchers.push(compiled);
      }
    }
  } else {
    issues.push({ path, message: 'must be "*" or an object of principal type → value(s), e.g. {"AWS": "arn:aws:iam::123456789012:role/NAME"}' });
  }
  if (issues.length > before) return undefined;
  return {
    source,
    match(principal) {
      let best: PrincipalMatch | undefined;
      for (const m of matchers) {
        const found = m(principal);
        if (found === 'principal') return found;
        best ??= found;
      }
      return best;
    },
  };
}
