/**
 * IAM string patterns, compiled once at load: literals, the `*` and `?` wildcards, and policy variables
 * (`${aws:PrincipalTag/team}`, `${key, 'default'}`, and the escapes `${*}`, `${?}`, `${$}`).
 * Matching walks the compiled parts directly: no regular expression is built at evaluation time.
 */
import type { RequestContext } from './context';

export const STAR = 0;
export const QMARK = 1;
/** A resolved pattern part: a literal string, or a wildcard. */
export type Part = string | typeof STAR | typeof QMARK;

interface VariablePart {
  readonly variable: string; // lower-cased context key
  readonly fallback: string | undefined;
}
type CompiledPart = Part | VariablePart;

export interface Pattern {
  /** The text as written in the policy. */
  readonly source: string;
  readonly hasVariables: boolean;
  readonly hasWildcards: boolean;
  /** Resolves variables against the request; undefined when a variable has no value and no default (never matches). */
  resolve(context: RequestContext): readonly Part[] | undefined;
  /** Resolves variables and returns the plain string (wildcards kept as `*`/`?`), or undefined as above. */
  resolveText(context: RequestContext): string | undefined;
}

export interface PatternOptions {
  /** `*` and `?` are wildcards (StringLike, ArnLike, Action, Resource), or plain characters (StringEquals). */
  wildcards: boolean;
  /** Policy variables are substituted (policy Version 2012-10-17), or kept as written. */
  variables: boolean;
  /** Lower-case literals, for case-insensitive matching; the matched text must be lower-cased by the caller. */
  ignoreCase?: boolean;
}

const VARIABLE = /\$\{([^}]*)\}/y;

/** Patterns are immutable: the same text with the same options compiles once, however many statements use it. */
const cache = new Map<string, Pattern>();

export function compilePattern(source: string, options: PatternOptions): Pattern {
  const key = `${options.wildcards ? 'w' : '-'}${options.variables ? 'v' : '-'}${options.ignoreCase ? 'i' : '-'}${source}`;
  let pattern = cache.get(key);
  if (!pattern) {
    pattern = buildPattern(source, options);
    cache.set(key, pattern);
  }
  return pattern;
}

function buildPattern(source: string, options: PatternOptions): Pattern {
  const parts: CompiledPart[] = [];
  let literal = '';
  const flush = (): void => {
    if (literal) parts.push(options.ignoreCase ? literal.toLowerCase() : literal);
    literal = '';
  };
  for (let i = 0; i < source.length; ) {
    const ch = source[i]!;
    if (options.variables && ch === '$' && source[i + 1] === '{') {
      VARIABLE.lastIndex = i;
      const m = VARIABLE.exec(source);
      if (m) {
        const inner = m[1]!;
        i += m[0].length;
        if (inner === '*' || inner === '?' || inner === '$') {
          literal += inner; // escapes: a literal character
          continue;
        }
        flush();
        parts.push(parseVariable(inner));
        continue;
      }
    }
    if (options.wildcards && (ch === '*' || ch === '?')) {
      flush();
      // Consecutive stars are one star; this keeps matching linear-ish.
      if (ch === '*' && parts[parts.length - 1] === STAR) {
        i++;
        continue;
      }
      parts.push(ch === '*' ? STAR : QMARK);
      i++;
      continue;
    }
    literal += ch;
    i++;
  }
  flush();

  const hasVariables = parts.some((p) => typeof p === 'object');
  const hasWildcards = parts.some((p) => p === STAR || p === QMARK);
  const staticParts = hasVariables ? undefined : (parts as Part[]);
  const ignoreCase = options.ignoreCase === true;

  const resolve = (context: RequestContext): readonly Part[] | undefined => {
    if (staticParts) return staticParts;
    const out: Part[] = [];
    for (const p of parts) {
      if (typeof p !== 'object') {
        out.push(p);
        continue;
      }
      const value = context.single(p.variable) ?? p.fallback;
      // IAM: a variable with no value (and no default) makes the pattern match nothing.
      if (value === undefined) return undefined;
      if (value) out.push(ignoreCase ? value.toLowerCase() : value);
    }
    return out;
  };
  return {
    source,
    hasVariables,
    hasWildcards,
    resolve,
    resolveText(context) {
      const resolved = resolve(context);
      return resolved?.map((p) => (p === STAR ? '*' : p === QMARK ? '?' : p)).join('');
    },
  };
}

function parseVariable(inner: string): VariablePart {
  // `${key, 'default'}`: IAM's syntax for a default value.
  const comma = inner.indexOf(',');
  if (comma >= 0) {
    const key = inner.slice(0, comma).trim();
    const rest = inner.slice(comma + 1).trim();
    const quoted = /^'(.*)'$/.exec(rest);
    // An empty default behaves as no default (IAM substitutes nothing and the pattern cannot match).
    return { variable: key.toLowerCase(), fallback: quoted && quoted[1] ? quoted[1] : undefined };
  }
  return { variable: inner.trim().toLowerCase(), fallback: undefined };
}

/**
 * Wildcard match of resolved parts against text. Greedy with backtracking to the last star only, which is
 * sufficient because literals and `?` match deterministically: O(parts × text) in the worst case.
 */
export function matchParts(parts: readonly Part[], text: string): boolean {
  if (parts.length === 1 && typeof parts[0] === 'string') return parts[0] === text;
  let pi = 0;
  let ti = 0;
  let starPi = -1;
  let starTi = 0;
  while (ti < text.length || pi < parts.length) {
    if (pi < parts.length) {
      const p = parts[pi]!;
      if (p === STAR) {
        starPi = pi++;
        starTi = ti;
        continue;
      }
      if (p === QMARK) {
        if (ti < text.length) {
          pi++;
          ti++;
          continue;
        }
      } else if (text.startsWith(p, ti)) {
        pi++;
        ti += p.length;
        continue;
      }
    }
    if (starPi >= 0 && starTi < text.length) {
      ti = ++starTi;
      pi = starPi + 1;
      continue;
    }
    return false;
  }
  return true;
}

/** Convenience for the common case: compile-time pattern without variables. */
export function globMatcher(source: string, ignoreCase = false): (text: string) => boolean {
  const pattern = compilePattern(source, { wildcards: true, variables: false, ignoreCase });
  const parts = pattern.resolve(EMPTY_CONTEXT)!;
  if (!pattern.hasWildcards) {
    const literal = ignoreCase ? source.toLowerCase() : source;
    return ignoreCase ? (t) => t.toLowerCase() === literal : (t) => t === literal;
  }
  return ignoreCase ? (t) => matchParts(parts, t.toLowerCase()) : (t) => matchParts(parts, t);
}

const EMPTY_CONTEXT: RequestContext = { single: () => undefined, get: () => undefined };
