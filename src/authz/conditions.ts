/**
 * IAM condition operators, compiled once per policy value. Semantics follow IAM's evaluation logic:
 * values listed for one key are ORed (for negated operators: the key must match none of them), a missing
 * key fails positive operators and satisfies negated ones, `...IfExists` turns a missing key into a match,
 * `ForAnyValue:`/`ForAllValues:` quantify over multi-valued keys, and `Null` tests presence.
 */
import { BlockList, isIP } from 'node:net';
import { splitArn } from './arn';
import type { ContextValue, RequestContext } from './context';
import { compilePattern, matchParts, type Pattern } from './pattern';

/** Compares one policy value with one request value: true/false, or undefined when it cannot be evaluated
 *  (a policy variable without a value, a request value that is not a number/date/ARN/IP): never a match. */
type Comparator = (requestValue: string, context: RequestContext) => boolean | undefined;

interface BaseOperator {
  readonly name: string;
  readonly negated: boolean;
  /** Compiles one policy value, or returns an error message naming what is wrong with it. */
  compile(value: string, variables: boolean): Comparator | string;
}

const stringOperator = (name: string, negated: boolean, wildcards: boolean, ignoreCase: boolean): BaseOperator => ({
  name,
  negated,
  compile(value, variables) {
    const pattern = compilePattern(value, { wildcards, variables, ignoreCase });
    return (requestValue, context) => {
      const parts = pattern.resolve(context);
      if (!parts) return undefined;
      return matchParts(parts, ignoreCase ? requestValue.toLowerCase() : requestValue);
    };
  },
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

const ordered = (
  name: string,
  kind: 'number' | 'date',
  negated: boolean,
  test: (request: number, policy: number) => boolean,
): BaseOperator => ({
  name,
  negated,
  compile(value) {
    const parse = kind === 'number' ? parseNumber : parseDate;
    const policyValue = parse(value);
    if (policyValue === undefined) return `${JSON.stringify(value)} is not a ${kind === 'number' ? 'number' : 'date (ISO 8601 or epoch seconds)'}`;
    return (requestValue) => {
      const r = parse(requestValue);
      return r === undefined ? undefined : test(r, policyValue);
    };
  },
});

const arnOperator = (name: string, negated: boolean): BaseOperator => ({
  name,
  negated,
  compile(value, variables) {
    const parts = splitArn(value, true);
    if (!parts) return `${JSON.stringify(value)} is not an ARN (arn:partition:service:region:account:resource)`;
    const p = (s: string): Pattern => compilePattern(s, { wildcards: true, variables });
    const segments = [p(parts.partition), p(parts.service), p(parts.region), p(parts.account), p(parts.resource)];
    return (requestValue, context) => {
      const r = splitArn(requestValue);
      if (!r) return undefined;
      const values = [r.partition, r.service, r.region, r.account, r.resource];
      let result: boolean | undefined = true;
      segments.forEach((segment, i) => {
        const resolved = segment.resolve(context);
        if (!resolved) result = undefined;
        else if (result && !matchParts(resolved, values[i]!)) result = false;
      });
      return result;
    };
  },
});

const boolOperator: BaseOperator = {
  name: 'Bool',
  negated: false,
  compile(value, variables) {
    const pattern = compilePattern(value, { wildcards: false, variables, ignoreCase: true });
    if (!pattern.hasVariables && value.toLowerCase() !== 'true' && value.toLowerCase() !== 'false') {
      return `${JSON.stringify(value)} is not a boolean (true or false)`;
    }
    return (requestValue, context) => {
      const policyValue = pattern.resolveText(context);
      const r = requestValue.toLowerCase();
      if (policyValue === undefined || (policyValue !== 'true' && policyValue !== 'false')) return undefined;
      if (r !== 'true' && r !== 'false') return undefined;
      return r === policyValue;
    };
  },
};

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
    // Only the same family matches: BlockList would see an IPv4 request inside an IPv6 block (::/0) as mapped.
    return (requestValue) => {
      const f = isIP(requestValue);
      if (!f) return undefined;
      return f === family && list.check(requestValue, f === 6 ? 'ipv6' : 'ipv4');
    };
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

/** Compiles one `Operator: { key: value | [values] }` entry; returns error messages for bad values. */
export function compileCondition(
  operator: ParsedOperator,
  key: string,
  values: readonly string[],
  variables: boolean,
): CompiledCondition | string[] {
  const keyLower = key.toLowerCase();
  const base = { operator, key, keyLower, values };
  if (operator.base === 'Null') {
    const bad = values.filter((v) => v.toLowerCase() !== 'true' && v.toLowerCase() !== 'false');
    if (bad.length) return bad.map((v) => `Null takes true or false, not ${JSON.stringify(v)}`);
    const wantAbsent = values.some((v) => v.toLowerCase() === 'true');
    const wantPresent = values.some((v) => v.toLowerCase() === 'false');
    return { ...base, test: (c) => (c.get(keyLower) === undefined ? wantAbsent : wantPresent) };
  }
  const op = OPERATORS_BY_NAME.get(operator.base.toLowerCase())!;
  const comparators: Comparator[] = [];
  const errors: string[] = [];
  for (const v of values) {
    const compiled = op.compile(v, variables);
    if (typeof compiled === 'string') errors.push(compiled);
    else comparators.push(compiled);
  }
  if (errors.length) return errors;

  // One request value against all policy values: ORed for positive operators; for negated operators the
  // value must differ from every policy value (and a value that cannot be compared is never a match).
  const matchesValue = op.negated
    ? (v: string, c: RequestContext): boolean => comparators.every((cmp) => cmp(v, c) === false)
    : (v: string, c: RequestContext): boolean => comparators.some((cmp) => cmp(v, c) === true);

  const { setOperator, ifExists, negated } = operator;
  let test: (c: RequestContext) => boolean;
  if (setOperator === 'ForAnyValue') {
    test = (c) => {
      const value = c.get(keyLower);
      if (value === undefined) return ifExists;
      return typeof value === 'string' ? matchesValue(value, c) : value.some((v) => matchesValue(v, c));
    };
  } else if (setOperator === 'ForAllValues') {
    test = (c) => {
      const value = c.get(keyLower);
      if (value === undefined) return true;
      return typeof value === 'string' ? matchesValue(value, c) : value.every((v) => matchesValue(v, c));
    };
  } else {
    test = (c) => {
      const value: ContextValue | undefined = c.get(keyLower);
      if (value === undefined) return ifExists || negated;
      // A single-valued operator on a multi-valued key never matches: use ForAnyValue/ForAllValues.
      if (typeof value !== 'string') return false;
      return matchesValue(value, c);
    };
  }
  return { ...base, test };
}
