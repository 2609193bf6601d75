/**
 * Validation of input from outside with zod: every problem becomes a FieldIssue naming its field, with a
 * precise message (zod's own defaults, such as "Invalid input", are replaced), and all of them are reported.
 */
import * as z from './zod';
import { ValidationError, type FieldIssue } from '../errors';
import { formatPath } from './format';
import { uniqueBy } from './collections';

/** Length in code points, the unit zod's min/max count in. */
export function lengthOf(s: string): number {
  return Array.from(s).length;
}

/** A short, escaped excerpt of a caller's string, so a message never carries a huge or unprintable value. */
export function quote(s: string): string {
  const max = 60;
  return JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);
}

export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

export function describeValue(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeName(value);
}

/**
 * IAM compares tag keys case-insensitively: `Team` after `team` is the same key to a policy (aws:RequestTag/,
 * aws:PrincipalTag/), so one of the two values would silently go unseen. Each later key, with the first.
 */
export function caseOnlyDuplicates(keys: Iterable<string>): { key: string; first: string }[] {
  const seen = new Map<string, string>();
  const out: { key: string; first: string }[] = [];
  for (const key of keys) {
    const lower = key.toLowerCase();
    const first = seen.get(lower);
    if (first === undefined) seen.set(lower, key);
    else out.push({ key, first });
  }
  return out;
}

export const caseOnlyDuplicateMessage = ({ key, first }: { key: string; first: string }): string =>
  `tag key ${quote(key)} differs from ${quote(first)} only in case: tag keys are compared case-insensitively`;

/** Messages for whatever the schema's own error functions leave to zod, whose defaults are too vague. */
function fallbackMessage(iss: z.core.$ZodRawIssue): string | undefined {
  switch (iss.code) {
    case 'invalid_type':
      return iss.input === undefined ? 'is required' : `must be ${/^[aeiou]/.test(iss.expected) ? 'an' : 'a'} ${iss.expected} (got ${typeName(iss.input)})`;
    case 'too_big':
    case 'too_small': {
      const bound = iss.code === 'too_big' ? `at most ${iss.maximum}` : `at least ${iss.minimum}`;
      if (typeof iss.input === 'string') return `must be ${bound} characters (got ${lengthOf(iss.input)})`;
      if (Array.isArray(iss.input)) return `must have ${bound} items (got ${iss.input.length})`;
      return `must be ${bound} (got ${describeValue(iss.input)})`;
    }
    case 'invalid_value':
      return `must be one of ${iss.values.map(String).join(', ')} (got ${describeValue(iss.input)})`;
    case 'invalid_format':
      return `has the wrong format${iss.pattern ? ` (must match ${iss.pattern})` : ''}`;
    default:
      return undefined;
  }
}

function toFieldIssues(issues: readonly z.core.$ZodIssue[]): FieldIssue[] {
  const out = issues.flatMap((iss): FieldIssue[] => {
    if (iss.code === 'unrecognized_keys') return iss.keys.map((key) => ({ field: formatPath([...iss.path, key]), message: iss.message }));
    // A bad tag key: its own issues say what is wrong with it.
    if (iss.code === 'invalid_key') return iss.issues.map((inner) => ({ field: formatPath(iss.path), message: inner.message }));
    return [{ field: formatPath(iss.path), message: iss.message }];
  });
  // Several checks of one field can fail with the same explanation (see executionRoleArn): say it once.
  return uniqueBy(out, (issue) => `${issue.field}\u0000${issue.message}`);
}

/** Parses input with a schema; throws ValidationError listing every problem, never anything else. */
export function validate<S extends z.ZodMiniType>(schema: S, input: unknown): z.output<S> {
  const result = z.safeParse(schema, input, { error: fallbackMessage });
  if (result.success) return result.data;
  throw new ValidationError(toFieldIssues(result.error.issues), { cause: result.error });
}
