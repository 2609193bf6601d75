/**
 * IAM string patterns, compiled once at load: literals, the `*` and `?` wildcards, and policy variables
 * (`${aws:PrincipalTag/team}`, `${key, 'default'}`, and the escapes `${*}`, `${?}`, `${$}`).
 * Matching walks the compiled parts directly: no regular expression is built at evaluation time.
 *
 * A pattern is data (its parts and three flags) with its methods on the prototype: no closure per pattern. Within
 * one compilation (a CompileCache) the same text with the same options is compiled once and its literals are
 * interned, however many statements use it; patterns are immutable, so sharing them is safe.
 */
import type { RequestContext } from './context';
import type { CompileCache } from './intern';

export const STAR = 0;
export const QMARK = 1;
/** A resolved pattern part: a literal string, or a wildcard. */
export type Part = string | typeof STAR | typeof QMARK;

interface VariablePart {
  readonly variable: string; // lower-cased context key
  readonly fallback: string | undefined;
}
type CompiledPart = Part | VariablePart;

export interface PatternOptions {
  /** `*` and `?` are wildcards (StringLike, ArnLike, Action, Resource), or plain characters (StringEquals). */
  wildcards: boolean;
  /** Policy variables are substituted (policy Version 2012-10-17), or kept as written. */
  variables: boolean;
  /** Lower-case literals, for case-insensitive matching; the matched text must be lower-cased by the caller. */
  ignoreCase?: boolean;
}

const HAS_VARIABLES = 1;
const HAS_WILDCARDS = 2;
const IGNORE_CASE = 4;

export class Pattern {
  /**
   * @param source the text as written in the policy
   * @param parts literals, wildcards and variables; without variables, exactly what `resolve` returns
   */
  constructor(
    readonly source: string,
    private readonly parts: readonly CompiledPart[],
    private readonly flags: number,
  ) {}

  get hasVariables(): boolean {
    return (this.flags & HAS_VARIABLES) !== 0;
  }
  get hasWildcards(): boolean {
    return (this.flags & HAS_WILDCARDS) !== 0;
  }

  /** Resolves variables against the request; undefined when a variable has no value and no default (never matches). */
  resolve(context: RequestContext): readonly Part[] | undefined {
    if ((this.flags & HAS_VARIABLES) === 0) return this.parts as readonly Part[];
    const ignoreCase = (this.flags & IGNORE_CASE) !== 0;
    const out: Part[] = [];
    for (const p of this.parts) {
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
  }

  /** Resolves variables and returns the plain string (wildcards kept as `*`/`?`), or undefined as above. */
  resolveText(context: RequestContext): string | undefined {
    return this.resolve(context)?.map((p) => (p === STAR ? '*' : p === QMARK ? '?' : p)).join('');
  }

  /** Whether `text` (lower-cased by the caller for a case-insensitive pattern) matches; undefined as `resolve`. */
  match(text: string, context: RequestContext): boolean | undefined {
    if ((this.flags & HAS_VARIABLES) === 0) return matchParts(this.parts as readonly Part[], text);
    const parts = this.resolve(context);
    return parts === undefined ? undefined : matchParts(parts, text);
  }
}

const VARIABLE = /\$\{([^}]*)\}/y;

/**
 * Compiles a pattern. With a cache, the same text with the same options compiles once in that compilation, and
 * the literals are interned; without one, the pattern is compiled afresh.
 */
export function compilePattern(source: string, options: PatternOptions, cache?: CompileCache): Pattern {
  if (!cache) return buildPattern(source, options, undefined);
  const key = `${options.wildcards ? 'w' : '-'}${options.variables ? 'v' : '-'}${options.ignoreCase ? 'i' : '-'}${source}`;
  return cache.shared('pattern', key, () => buildPattern(source, options, cache));
}

function buildPattern(source: string, options: PatternOptions, cache: CompileCache | undefined): Pattern {
  const ignoreCase = options.ignoreCase === true;
  const parts: CompiledPart[] = [];
  // The current literal: what was taken from escapes, plus the plain run of `source` from `start`.
  let literal = '';
  let start = 0;
  const flush = (end: number): void => {
    literal += source.slice(start, end);
    if (literal) {
      const text = ignoreCase ? literal.toLowerCase() : literal;
      parts.push(cache ? cache.string(text) : text);
    }
    literal = '';
  };
  for (let i = 0; i < source.length; ) {
    const ch = source[i]!;
    if (options.variables && ch === '$' && source[i + 1] === '{') {
      VARIABLE.lastIndex = i;
      const m = VARIABLE.exec(source);
      if (m) {
        const inner = m[1]!;
        if (inner === '*' || inner === '?' || inner === '$') {
          literal += source.slice(start, i) + inner; // escapes: a literal character
        } else {
          flush(i);
          parts.push(parseVariable(inner, cache));
        }
        i += m[0].length;
        start = i;
        continue;
      }
    }
    if (options.wildcards && (ch === '*' || ch === '?')) {
      flush(i);
      i++;
      start = i;
      // Consecutive stars are one star; this keeps matching linear-ish.
      if (ch === '*' && parts[parts.length - 1] === STAR) continue;
      parts.push(ch === '*' ? STAR : QMARK);
      continue;
    }
    i++;
  }
  flush(source.length);

  let flags = ignoreCase ? IGNORE_CASE : 0;
  if (parts.some((p) => typeof p === 'object')) flags |= HAS_VARIABLES;
  if (parts.some((p) => p === STAR || p === QMARK)) flags |= HAS_WILDCARDS;
  // slice: an array built by push keeps room to grow (17 slots for one part); what a pattern keeps is exact.
  return new Pattern(cache ? cache.string(source) : source, parts.slice(), flags);
}

function parseVariable(inner: string, cache: CompileCache | undefined): VariablePart {
  const intern = (s: string): string => (cache ? cache.string(s) : s);
  // `${key, 'default'}`: IAM's syntax for a default value.
  const comma = inner.indexOf(',');
  if (comma >= 0) {
    const key = inner.slice(0, comma).trim();
    const rest = inner.slice(comma + 1).trim();
    const quoted = /^'(.*)'$/.exec(rest);
    // An empty default behaves as no default (IAM substitutes nothing and the pattern cannot match).
    return { variable: intern(key.toLowerCase()), fallback: quoted && quoted[1] ? intern(quoted[1]) : undefined };
  }
  return { variable: intern(inner.trim().toLowerCase()), fallback: undefined };
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

export const EMPTY_CONTEXT: RequestContext = { single: () => undefined, get: () => undefined };
