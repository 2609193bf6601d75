/**
 * EventBridge event patterns, as the event bus matches them (the content-filtering operators of AWS's event
 * ruler): literal values (any of a list), nested objects, `$or` (any of two or more sub-patterns at that level),
 * and the matchers prefix, suffix (each also with equals-ignore-case), equals-ignore-case, wildcard (`*`, with `\*`
 * and `\\` escapes), anything-but (a value, a list, or a prefix, suffix, wildcard or equals-ignore-case), exists,
 * numeric and cidr. An event field that is an array matches when any element does; a nested pattern under an
 * array of objects matches when one element matches it whole.
 */
import { BlockList, isIP } from 'node:net';
import { formatPath } from '../util/format';

type Matcher = unknown;
type Pattern = Record<string, unknown>;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** `$or` is EventBridge's OR only as a list of two or more objects; otherwise the event ruler reads it as a field name. */
const isOrList = (rule: unknown): rule is Pattern[] => Array.isArray(rule) && rule.length >= 2 && rule.every(isObject);

// ---------------------------------------------------------------------------------------------------------------
// Wildcards and CIDR blocks.

/** Why a wildcard value is not one EventBridge accepts, or undefined. */
function wildcardProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'a wildcard is a string';
  for (let i = 0; i < value.length; i++) {
    if (value[i] === '\\') {
      if (value[i + 1] !== '*' && value[i + 1] !== '\\') return 'in a wildcard, "\\" escapes only "*" or "\\"';
      i++;
    } else if (value[i] === '*' && value[i + 1] === '*') return 'a wildcard may not have consecutive "*"';
  }
  return undefined;
}

const wildcards = new Map<string, RegExp>();
function wildcardRegExp(value: string): RegExp {
  let re = wildcards.get(value);
  if (!re) {
    let source = '';
    for (let i = 0; i < value.length; i++) {
      const c = value[i]!;
      if (c === '\\') source += (value[++i] ?? '').replace(/[\\*]/, (m) => `\\${m}`);
      else source += c === '*' ? '[\\s\\S]*' : c.replace(/[\\^$.*+?()[\]{}|]/, (m) => `\\${m}`);
    }
    re = new RegExp(`^${source}$`, 'u');
    wildcards.set(value, re);
  }
  return re;
}

const matchesWildcard = (value: unknown, wildcard: unknown): boolean => typeof value === 'string' && typeof wildcard === 'string' && wildcardRegExp(wildcard).test(value);

function parseCidr(text: unknown): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  if (typeof text !== 'string') return undefined;
  const [address = '', bits, extra] = text.split('/');
  const version = isIP(address);
  const prefix = bits === undefined ? (version === 6 ? 128 : 32) : Number(bits);
  if (!version || extra !== undefined || !/^\d*$/.test(bits ?? '') || !Number.isInteger(prefix) || prefix < 0 || prefix > (version === 6 ? 128 : 32)) return undefined;
  return { address, prefix, family: version === 6 ? 'ipv6' : 'ipv4' };
}

function inCidr(value: unknown, cidr: unknown): boolean {
  const block = parseCidr(cidr);
  if (!block || typeof value !== 'string' || !isIP(value)) return false;
  const list = new BlockList();
  list.addSubnet(block.address, block.prefix, block.family);
  return list.check(value, isIP(value) === 6 ? 'ipv6' : 'ipv4');
}

// ---------------------------------------------------------------------------------------------------------------
// Matching.

const lower = (v: unknown): string | undefined => (typeof v === 'string' ? v.toLowerCase() : undefined);

/** prefix / suffix: a string, or `{equals-ignore-case: string}`. */
function affix(v: unknown, spec: unknown, test: (value: string, affix: string) => boolean): boolean {
  if (typeof v !== 'string') return false;
  if (isObject(spec) && typeof spec['equals-ignore-case'] === 'string') return test(v.toLowerCase(), spec['equals-ignore-case'].toLowerCase());
  return typeof spec === 'string' && test(v, spec);
}

/** One value against the object form of anything-but (which only a string can pass), or the literal value(s) it excludes. */
function isExcluded(v: unknown, but: unknown): boolean {
  if (isObject(but)) {
    if (typeof v !== 'string') return true;
    if ('prefix' in but) return v.startsWith(String(but.prefix));
    if ('suffix' in but) return v.endsWith(String(but.suffix));
    const list = (x: unknown): unknown[] => (Array.isArray(x) ? x : [x]);
    if ('wildcard' in but) return list(but.wildcard).some((w) => matchesWildcard(v, w));
    if ('equals-ignore-case' in but) return list(but['equals-ignore-case']).some((e) => lower(e) !== undefined && lower(e) === lower(v));
    return false;
  }
  return (Array.isArray(but) ? but : [but]).includes(v);
}

function matchValue(matcher: Matcher, value: unknown, present: boolean): boolean {
  if (matcher === null || typeof matcher !== 'object') return present && (Array.isArray(value) ? value.some((v) => v === matcher) : value === matcher);
  const m = matcher as Record<string, unknown>;
  if ('exists' in m) return m.exists === present;
  if (!present) return false;
  const values = Array.isArray(value) ? value : [value];
  if ('prefix' in m) return values.some((v) => affix(v, m.prefix, (s, a) => s.startsWith(a)));
  if ('suffix' in m) return values.some((v) => affix(v, m.suffix, (s, a) => s.endsWith(a)));
  if ('equals-ignore-case' in m) return values.some((v) => typeof v === 'string' && v.toLowerCase() === lower(m['equals-ignore-case']));
  if ('wildcard' in m) return values.some((v) => matchesWildcard(v, m.wildcard));
  if ('cidr' in m) return values.some((v) => inCidr(v, m.cidr));
  if ('anything-but' in m) return values.every((v) => !isExcluded(v, m['anything-but']));
  if ('numeric' in m && Array.isArray(m.numeric)) {
    const spec = m.numeric as unknown[];
    return values.some((v) => {
      if (typeof v !== 'number') return false;
      for (let i = 0; i + 1 < spec.length; i += 2) {
        const n = Number(spec[i + 1]);
        const ok = { '<': v < n, '<=': v <= n, '=': v === n, '>': v > n, '>=': v >= n }[String(spec[i])];
        if (!ok) return false;
      }
      return true;
    });
  }
  return false;
}

export function matchesPattern(pattern: unknown, event: unknown): boolean {
  if (!isObject(pattern)) return false;
  const source = isObject(event) ? event : {};
  return Object.entries(pattern).every(([key, rule]) => {
    if (key === '$or' && isOrList(rule)) return rule.some((alternative) => matchesPattern(alternative, source));
    const present = Object.hasOwn(source, key);
    if (Array.isArray(rule)) return rule.some((m) => matchValue(m, source[key], present));
    if (!isObject(rule)) return false;
    // A missing or scalar field has none of the nested fields (so only `exists: false` can hold there); an array
    // of objects matches when one element matches the nested pattern whole (EventBridge's array consistency).
    const value = present ? source[key] : undefined;
    return Array.isArray(value) ? value.some((element) => matchesPattern(rule, element)) : matchesPattern(rule, value);
  });
}

/** Where and why `event` does not match `pattern` (the first field that fails), or undefined when it matches. */
export function patternMismatch(pattern: unknown, event: unknown, path: (string | number)[] = []): string | undefined {
  if (!isObject(pattern)) return 'the pattern is not an object';
  const source = isObject(event) ? event : {};
  for (const [key, rule] of Object.entries(pattern)) {
    const at = formatPath([...path, key]);
    if (key === '$or' && isOrList(rule)) {
      if (!rule.some((alternative) => matchesPattern(alternative, source))) return `none of the ${rule.length} patterns of ${at} matches`;
      continue;
    }
    const present = Object.hasOwn(source, key);
    if (Array.isArray(rule)) {
      if (!rule.some((m) => matchValue(m, source[key], present))) return `${at} is ${present ? JSON.stringify(source[key]) : 'missing'}, the pattern wants ${JSON.stringify(rule)}`;
      continue;
    }
    const value = present ? source[key] : undefined;
    if (Array.isArray(value)) {
      if (!value.some((element) => matchesPattern(rule, element))) return `no element of ${at} matches ${JSON.stringify(rule)}`;
      continue;
    }
    const inner = isObject(rule) ? patternMismatch(rule, value, [...path, key]) : `${at}: the pattern's rule is not a list or an object`;
    if (inner) return inner;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Validation, as EventBridge refuses a pattern.

const MATCHERS = ['prefix', 'suffix', 'anything-but', 'exists', 'equals-ignore-case', 'wildcard', 'numeric', 'cidr'];
const NUMERIC_OPERATORS = new Set(['<', '<=', '=', '>', '>=']);

/** Why one matcher object is not valid, or undefined. */
function matcherProblem(m: Record<string, unknown>): string | undefined {
  const kinds = Object.keys(m);
  const kind = kinds[0];
  if (kinds.length !== 1 || kind === undefined || !MATCHERS.includes(kind)) return `unknown matcher ${JSON.stringify(m)} (supported: ${MATCHERS.join(', ')})`;
  const v = m[kind];
  const ignoreCase = (x: unknown) => isObject(x) && Object.keys(x).length === 1 && typeof x['equals-ignore-case'] === 'string';
  switch (kind) {
    case 'prefix':
    case 'suffix':
      return typeof v === 'string' || ignoreCase(v) ? undefined : `${kind} takes a string, or {"equals-ignore-case": string}`;
    case 'equals-ignore-case':
      return typeof v === 'string' ? undefined : 'equals-ignore-case takes a string';
    case 'exists':
      return typeof v === 'boolean' ? undefined : 'exists takes true or false';
    case 'wildcard':
      return wildcardProblem(v);
    case 'cidr':
      return parseCidr(v) ? undefined : `${JSON.stringify(v)} is not an IP address or CIDR block`;
    case 'numeric': {
      const spec = Array.isArray(v) ? v : [];
      const pairs = spec.length >= 2 && spec.length % 2 === 0 && spec.every((x, i) => (i % 2 ? typeof x === 'number' : NUMERIC_OPERATORS.has(String(x))));
      return pairs ? undefined : 'numeric takes [operator, number, ...] with operators <, <=, =, >, >=';
    }
    default: {
      // anything-but
      if (isObject(v)) {
        const [inner, ...rest] = Object.keys(v);
        if (rest.length || !inner || !['prefix', 'suffix', 'wildcard', 'equals-ignore-case'].includes(inner)) return 'anything-but takes a value, a list, or one of prefix, suffix, wildcard, equals-ignore-case';
        const values = Array.isArray(v[inner]) && (inner === 'wildcard' || inner === 'equals-ignore-case') ? (v[inner] as unknown[]) : [v[inner]];
        if (!values.every((x) => typeof x === 'string')) return `anything-but ${inner} takes a string`;
        return inner === 'wildcard' ? values.map(wildcardProblem).find(Boolean) : undefined;
      }
      const list = Array.isArray(v) ? v : [v];
      return list.every((x) => typeof x === 'string') || list.every((x) => typeof x === 'number') ? undefined : 'anything-but takes strings only or numbers only';
    }
  }
}

/** Why a pattern is not one this matcher understands (as EventBridge would refuse it), with where; or undefined. */
export function eventPatternProblem(pattern: unknown, path: (string | number)[] = []): { path: (string | number)[]; message: string } | undefined {
  if (!isObject(pattern)) return { path, message: 'must be an object of field → list of values or matchers' };
  for (const [key, rule] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!isOrList(rule)) return { path: [...path, key], message: '$or takes a list of two or more patterns (objects)' };
      for (const [i, alternative] of rule.entries()) {
        const inner = eventPatternProblem(alternative, [...path, key, i]);
        if (inner) return inner;
      }
    } else if (Array.isArray(rule)) {
      for (const [i, m] of rule.entries()) {
        const problem = isObject(m) ? matcherProblem(m) : Array.isArray(m) ? 'a value in the list cannot be a list' : undefined;
        if (problem) return { path: [...path, key, i], message: problem };
      }
    } else if (isObject(rule)) {
      const inner = eventPatternProblem(rule, [...path, key]);
      if (inner) return inner;
    } else {
      return { path: [...path, key], message: `must be a list of values (e.g. [${JSON.stringify(rule)}]) or a nested object` };
    }
  }
  return undefined;
}
