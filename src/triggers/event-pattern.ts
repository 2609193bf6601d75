/**
 * EventBridge event patterns, the part triggers use: literal values (any of a list), nested objects, and
 * the matchers prefix, suffix, anything-but, exists, equals-ignore-case and numeric. An event field that is
 * an array matches when any element does.
 */
type Matcher = unknown;

function matchValue(matcher: Matcher, value: unknown, present: boolean): boolean {
  if (matcher === null || typeof matcher !== 'object') return present && (Array.isArray(value) ? value.some((v) => v === matcher) : value === matcher);
  const m = matcher as Record<string, unknown>;
  if ('exists' in m) return m.exists === present;
  if (!present) return false;
  const values = Array.isArray(value) ? value : [value];
  if ('prefix' in m) return values.some((v) => typeof v === 'string' && v.startsWith(String(m.prefix)));
  if ('suffix' in m) return values.some((v) => typeof v === 'string' && v.endsWith(String(m.suffix)));
  if ('equals-ignore-case' in m) return values.some((v) => typeof v === 'string' && v.toLowerCase() === String(m['equals-ignore-case']).toLowerCase());
  if ('anything-but' in m) {
    const but = m['anything-but'];
    if (but && typeof but === 'object' && !Array.isArray(but) && 'prefix' in but) return values.every((v) => typeof v === 'string' && !v.startsWith(String(but.prefix)));
    if (but && typeof but === 'object' && !Array.isArray(but) && 'suffix' in but) return values.every((v) => typeof v === 'string' && !v.endsWith(String(but.suffix)));
    const list = Array.isArray(but) ? but : [but];
    return values.every((v) => !list.includes(v));
  }
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
  if (!pattern || typeof pattern !== 'object' || Array.isArray(pattern)) return false;
  const source = (event ?? {}) as Record<string, unknown>;
  return Object.entries(pattern as Record<string, unknown>).every(([key, rule]) => {
    const present = Object.prototype.hasOwnProperty.call(source, key);
    if (Array.isArray(rule)) return rule.some((m) => matchValue(m, source[key], present));
    if (rule && typeof rule === 'object') return present && matchesPattern(rule, source[key]);
    return false;
  });
}

const MATCHERS = new Set(['prefix', 'suffix', 'anything-but', 'exists', 'equals-ignore-case', 'numeric']);

/** Why a pattern is not one this matcher understands (as EventBridge would refuse it), with where; or undefined. */
export function eventPatternProblem(pattern: unknown, path: (string | number)[] = []): { path: (string | number)[]; message: string } | undefined {
  if (!pattern || typeof pattern !== 'object' || Array.isArray(pattern)) return { path, message: 'must be an object of field → list of values or matchers' };
  for (const [key, rule] of Object.entries(pattern as Record<string, unknown>)) {
    if (Array.isArray(rule)) {
      for (const [i, m] of rule.entries()) {
        if (m !== null && typeof m === 'object') {
          const kinds = Object.keys(m as object);
          if (kinds.length !== 1 || !MATCHERS.has(kinds[0]!)) return { path: [...path, key, i], message: `unknown matcher ${JSON.stringify(m)} (supported: ${[...MATCHERS].join(', ')})` };
        }
      }
    } else if (rule && typeof rule === 'object') {
      const inner = eventPatternProblem(rule, [...path, key]);
      if (inner) return inner;
    } else {
      return { path: [...path, key], message: `must be a list of values (e.g. [${JSON.stringify(rule)}]) or a nested object` };
    }
  }
  return undefined;
}
