/**
 * IAM condition operators, compiled once per policy value. Semantics follow IAM's evaluation logic:
 * values listed for one key are ORed (for negated operators: the key must match none of them), a missing
 * key fails positive operators and satisfies negated ones, `...IfExists` turns a missing key into a match,
 * `ForAnyValue:`/`ForAllValues:` quantify over multi-valued keys, and `Null` tests presence.
 *
 * Compiled values (comparators) and whole conditions are immutable data with their methods on the prototype; with a
 * CompileCache, each is compiled once per compilation and shared by every statement that writes the same thing.
 */
import { BlockList, isIP } from 'node:net';
import { splitArn } from './arn';
import type { ContextValue, RequestContext } from './context';
import type { CompileCache } from './intern';
import { compilePattern, matchParts, type Pattern } from './pattern';

/** Compares one policy value with one request value: true/false, or undefined when it cannot be evaluated
 *  (a policy variable without a value, a request value that is not a number/date/ARN/IP): never a match. */
interface Comparator {
  compare(requestValue: string, context: RequestContext): boolean | undefined;
}

interface BaseOperator {
  readonly name: string;
  readonly negated: boolean;
  /** Compiles one policy value, or returns an error message naming what is wrong with it. */
  compile(value: string, variables: boolean, cache: CompileCache | undefined): Comparator | string;
}

class StringComparator implements Comparator {
  constructor(
    private readonly pattern: Pattern,
    private readonly ignoreCase: boolean,
  ) {}
  compare(requestValue: string, context: RequestContext): boolean | undefined {
    return this.pattern.match(this.ignoreCase ? requestValue.toLowerCase() : requestValue, context);
  }
}

const stringOperator = (name: string, negated: boolean, wildcards: boolean, ignoreCase: boolean): BaseOperator => ({
  name,
  negated,
  compile: (value, variables, cache) => new StringComparator(compilePattern(value, { wildcards, variables, ignoreCase }, cache), ignoreCase),
});

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
export const parseNumber = (text: string): number | undefined => (NUMBER.test(text.trim()) ? Number(text) : undefined);

/** IAM dates: ISO 8601, or epoch seconds. Returns milliseconds. */
export function parseDate(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

interface OrderedTest {
  parse(text: string): number | undefined;
  test(request: number, policy: number): boolean;
}

class OrderedComparator implements Comparator {
  constructor(
    private readonly kind: OrderedTest,
    private readonly policyValue: number,
  ) {}
  compare(requestValue: string): boolean | undefined {
    const r = this.kind.parse(requestValue);
    return r === undefined ? undefined : this.kind.test(r, this.policyValue);
  }
}

const ordered = (
  name: string,
  kind: 'number' | 'date',
  negated: boolean,
  test: (request: number, policy: number) => boolean,
): BaseOperator => {
  const parse = kind === 'number' ? parseNumber : parseDate;
  const orderedTest: OrderedTest = { parse, test };
  return {
    name,
    negated,
    compile(value) {
      const policyValue = parse(value);
      if (policyValue === undefined) return `${JSON.stringify(value)} is not a ${kind === 'number' ? 'number' : 'date (ISO 8601 or epoch seconds)'}`;
      return new OrderedComparator(orderedTest, policyValue);
    },
  };
};

class ArnComparator implements Comparator {
  /** @param segments partition, service, region, account and resource patterns */
  constructor(private readonly segments: readonly Pattern[]) {}
  compare(requestValue: string, context: RequestContext): boolean | undefined {
    const r = splitArn(requestValue);
    if (!r) return undefined;
    const values = [r.partition, r.service, r.region, r.account, r.resource];
    // Every segment is resolved: one whose variable has no value voids the comparison even after a mismatch.
    let result: boolean | undefined = true;
    for (let i = 0; i < this.segments.length; i++) {
      const resolved = this.segments[i]!.resolve(context);
      if (!resolved) result = undefined;
      else if (result && !matchParts(resolved, values[i]!)) result = false;
    }
    return result;
  }
}

const arnOperator = (name: string, negated: boolean): BaseOperator => ({
  name,
  negated,
  compile(value, variables, cache) {
    const parts = splitArn(value, true);
    if (!parts) return `${JSON.stringify(value)} is not an ARN (arn:partition:service:region:account:resource)`;
    const p = (s: string): Pattern => compilePattern(s, { wildcards: true, variables }, cache);
    return new ArnComparator([p(parts.partition), p(parts.service), p(parts.region), p(parts.account), p(parts.resource)]);
  },
});

class BoolComparator implements Comparator {
  constructor(private readonly pattern: Pattern) {}
  compare(requestValue: string, context: RequestContext): boolean | undefined {
    const policyValue = this.pattern.resolveText(context);
    const r = requestValue.toLowerCase();
    if (policyValue === undefined || (policyValue !== 'true' && policyValue !== 'false')) return undefined;
    if (r !== 'true' && r !== 'false') return undefined;
    return r === policyValue;
  }
}

const boolOperator: BaseOperator = {
  name: 'Bool',
  negated: false,
  compile(value, variables, cache) {
    const pattern = compilePattern(value, { wildcards: false, variables, ignoreCase: true }, cache);
    if (!pattern.hasVariables && value.toLowerCase() !== 'true' && value.toLowerCase() !== 'false') {
      return `${JSON.stringify(value)} is not a boolean (true or false)`;
    }
    return new BoolComparator(pattern);
  },
};

class IpComparator implements Comparator {
  constructor(
    private readonly family: number,
    private readonly list: BlockList,
  ) {}
  // Only the same family matches: BlockList would see an IPv4 request inside an IPv6 block (::/0) as mapped.
  compare(requestValue: string): boolean | undefined {
    const f = isIP(requestValue);
    if (!f) return undefined;
    return f === this.family && this.list.check(requestValue, f === 6 ? 'ipv6' : 'ipv4');
  }
}

const ipOperator = (name: string, negated: boolean): BaseOperator => ({
  name,
  negated,
  compile(value) {
    const [address, bits, extra] = value.split('/');
    const family = isIP(address ?? '');
    const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
    if (!family || extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
      return `${JSON.stringify(value)} is not an IP address or CIDR block`;
    }
    const list = new BlockList();
    list.addSubnet(address!, prefix, family === 6 ? 'ipv6' : 'ipv4');
    return new IpComparator(family, list);
  },
});

const BASE_OPERATORS: readonly BaseOperator[] = [
  stringOperator('StringEquals', false, false, false),
  stringOperator('StringNotEquals', true, false, false),
  stringOperator('StringEqualsIgnoreCase', false, false, true),
  stringOperator('StringNotEqualsIgnoreCase', true, false, true),
  stringOperator('StringLike', false, true, false),
  stringOperator('StringNotLike', true, true, false),
  ordered('NumericEquals', 'number', false, (r, p) => r === p),
  ordered('NumericNotEquals', 'number', true, (r, p) => r === p),
  ordered('NumericLessThan', 'number', false, (r, p) => r < p),
  ordered('NumericLessThanEquals', 'number', false, (r, p) => r <= p),
  ordered('NumericGreaterThan', 'number', false, (r, p) => r > p),
  ordered('NumericGreaterThanEquals', 'number', false, (r, p) => r >= p),
  ordered('DateEquals', 'date', false, (r, p) => r === p),
  ordered('DateNotEquals', 'date', true, (r, p) => r === p),
  ordered('DateLessThan', 'date', false, (r, p) => r < p),
  ordered('DateLessThanEquals', 'date', false, (r, p) => r <= p),
  ordered('DateGreaterThan', 'date', false, (r, p) => r > p),
  ordered('DateGreaterThanEquals', 'date', false, (r, p) => r >= p),
  boolOperator,
  stringOperator('BinaryEquals', false, false, false),
  ipOperator('IpAddress', false),
  ipOperator('NotIpAddress', true),
  // ArnEquals and ArnLike are the same in IAM: both take wildcards, segment by segment.
  arnOperator('ArnEquals', false),
  arnOperator('ArnLike', false),
  arnOperator('ArnNotEquals', true),
  arnOperator('ArnNotLike', true),
];
const OPERATORS_BY_NAME = new Map(BASE_OPERATORS.map((op) => [op.name.toLowerCase(), op]));

export type SetOperator = 'ForAnyValue' | 'ForAllValues';

export interface ParsedOperator {
  /** As written in the policy, e.g. `ForAnyValue:StringLikeIfExists`. */
  written: string;
  base: string; // canonical name, e.g. StringLike, or Null
  setOperator?: SetOperator;
  ifExists: boolean;
  negated: boolean;
}

/** Parses an operator name; returns an error message when it is not one IAM knows. */
export function parseOperator(written: string): ParsedOperator | string {
  let rest = written;
  let setOperator: SetOperator | undefined;
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    const prefix = rest.slice(0, colon).toLowerCase();
    if (prefix === 'foranyvalue') setOperator = 'ForAnyValue';
    else if (prefix === 'forallvalues') setOperator = 'ForAllValues';
    else return `unknown set operator "${rest.slice(0, colon)}" (use ForAnyValue: or ForAllValues:)`;
    rest = rest.slice(colon + 1);
  }
  let ifExists = false;
  if (rest.toLowerCase().endsWith('ifexists')) {
    ifExists = true;
    rest = rest.slice(0, -'IfExists'.length);
  }
  if (rest.toLowerCase() === 'null') {
    if (ifExists || setOperator) return `Null takes neither IfExists nor a set operator`;
    return { written, base: 'Null', ifExists: false, negated: false };
  }
  const op = OPERATORS_BY_NAME.get(rest.toLowerCase());
  if (!op) return `unknown condition operator "${written}"`;
  return { written, base: op.name, ifExists, negated: op.negated, ...(setOperator ? { setOperator } : {}) };
}

export interface CompiledCondition {
  readonly operator: ParsedOperator;
  /** The condition key as written; `keyLower` is what the context is read with. */
  readonly key: string;
  readonly keyLower: string;
  readonly values: readonly string[];
  test(context: RequestContext): boolean;
}

class NullCondition implements CompiledCondition {
  constructor(
    readonly operator: ParsedOperator,
    readonly key: string,
    readonly keyLower: string,
    readonly values: readonly string[],
    private readonly wantAbsent: boolean,
    private readonly wantPresent: boolean,
  ) {}
  test(c: RequestContext): boolean {
    return c.get(this.keyLower) === undefined ? this.wantAbsent : this.wantPresent;
  }
}

const SINGLE = 0;
const FOR_ANY_VALUE = 1;
const FOR_ALL_VALUES = 2;

class Condition implements CompiledCondition {
  private readonly quantifier: number;
  private readonly ifExists: boolean;
  private readonly negated: boolean;

  constructor(
    readonly operator: ParsedOperator,
    readonly key: string,
    readonly keyLower: string,
    readonly values: readonly string[],
    private readonly comparators: readonly Comparator[],
  ) {
    this.quantifier = operator.setOperator === 'ForAnyValue' ? FOR_ANY_VALUE : operator.setOperator === 'ForAllValues' ? FOR_ALL_VALUES : SINGLE;
    this.ifExists = operator.ifExists;
    this.negated = operator.negated;
  }

  /**
   * One request value against all policy values: ORed for positive operators; for negated operators the value
   * must differ from every policy value (and a value that cannot be compared is never a match).
   */
  private matchesValue(v: string, c: RequestContext): boolean {
    const comparators = this.comparators;
    if (this.negated) {
      for (let i = 0; i < comparators.length; i++) if (comparators[i]!.compare(v, c) !== false) return false;
      return true;
    }
    for (let i = 0; i < comparators.length; i++) if (comparators[i]!.compare(v, c) === true) return true;
    return false;
  }

  test(c: RequestContext): boolean {
    const value: ContextValue | undefined = c.get(this.keyLower);
    if (this.quantifier === FOR_ANY_VALUE) {
      if (value === undefined) return this.ifExists;
      if (typeof value === 'string') return this.matchesValue(value, c);
      for (const v of value) if (this.matchesValue(v, c)) return true;
      return false;
    }
    if (this.quantifier === FOR_ALL_VALUES) {
      if (value === undefined) return true;
      if (typeof value === 'string') return this.matchesValue(value, c);
      for (const v of value) if (!this.matchesValue(v, c)) return false;
      return true;
    }
    if (value === undefined) return this.ifExists || this.negated;
    // A single-valued operator on a multi-valued key never matches: use ForAnyValue/ForAllValues.
    if (typeof value !== 'string') return false;
    return this.matchesValue(value, c);
  }
}

/**
 * Compiles one `Operator: { key: value | [values] }` entry; returns error messages for bad values. With a cache,
 * an entry written the same way (operator, key, values, policy version) compiles once in that compilation.
 */
export function compileCondition(
  operator: ParsedOperator,
  key: string,
  values: readonly string[],
  variables: boolean,
  cache?: CompileCache,
): CompiledCondition | string[] {
  if (!cache) return buildCondition(operator, key, values, variables, undefined);
  const id = JSON.stringify([operator.written, key, variables, values]);
  const known = cache.shared<{ condition?: CompiledCondition }>('condition', id, () => ({}));
  if (known.condition) return known.condition;
  const compiled = buildCondition(operator, cache.string(key), values.map((v) => cache.string(v)), variables, cache);
  if (!Array.isArray(compiled)) known.condition = compiled;
  return compiled;
}

function buildCondition(
  operator: ParsedOperator,
  key: string,
  values: readonly string[],
  variables: boolean,
  cache: CompileCache | undefined,
): CompiledCondition | string[] {
  const keyLower = cache ? cache.string(key.toLowerCase()) : key.toLowerCase();
  if (operator.base === 'Null') {
    const bad = values.filter((v) => v.toLowerCase() !== 'true' && v.toLowerCase() !== 'false');
    if (bad.length) return bad.map((v) => `Null takes true or false, not ${JSON.stringify(v)}`);
    const wantAbsent = values.some((v) => v.toLowerCase() === 'true');
    const wantPresent = values.some((v) => v.toLowerCase() === 'false');
    return new NullCondition(operator, key, keyLower, values, wantAbsent, wantPresent);
  }
  const op = OPERATORS_BY_NAME.get(operator.base.toLowerCase())!;
  const comparators: Comparator[] = [];
  const errors: string[] = [];
  for (const v of values) {
    const compiled = cache
      ? cache.shared<{ comparator: Comparator | string }>('comparator', `${op.name}|${variables ? 'v' : '-'}|${v}`, () => ({ comparator: op.compile(v, variables, cache) })).comparator
      : op.compile(v, variables, undefined);
    if (typeof compiled === 'string') errors.push(compiled);
    else comparators.push(compiled);
  }
  if (errors.length) return errors;
  return new Condition(operator, key, keyLower, values, comparators.slice()); // slice: exact size (see Pattern)
}
