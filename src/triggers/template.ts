/**
 * Job templates: a POST /jobs body with `${param}` placeholders in its strings. Rendering walks the parsed
 * body and substitutes inside string values only, so a parameter can never change the body's structure
 * (no JSON injection); the result is then validated like any request.
 */
import { ValidationError, type FieldIssue } from '../errors';

const PLACEHOLDER = /\$\{([A-Za-z_][\w.-]*)\}/g;

export function renderTemplate(template: unknown, params: Readonly<Record<string, string>>): unknown {
  const issues: FieldIssue[] = [];
  const walk = (value: unknown, path: string): unknown => {
    if (typeof value === 'string') {
      return value.replace(PLACEHOLDER, (whole, name: string) => {
        const v = params[name];
        if (v === undefined) {
          issues.push({ field: path, message: `no value for \${${name}} (parameters: ${Object.keys(params).join(', ') || 'none'})` });
          return whole;
        }
        return v;
      });
    }
    if (Array.isArray(value)) return value.map((v, i) => walk(v, `${path}[${i}]`));
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, path ? `${path}.${k}` : k)]));
    return value;
  };
  const rendered = walk(template, '');
  if (issues.length) throw new ValidationError(issues);
  return rendered;
}

/** `$.detail.object.key` (dots and [n]) read from the event; anything else is a literal. */
export function resolveParams(params: Readonly<Record<string, string>>, event: unknown): Record<string, string> {
  const issues: FieldIssue[] = [];
  const out: Record<string, string> = {};
  for (const [name, spec] of Object.entries(params)) {
    if (!spec.startsWith('$.')) {
      out[name] = spec;
      continue;
    }
    let value: unknown = event;
    for (const part of spec.slice(2).split(/\.|(?=\[)/)) {
      const index = /^\[(\d+)\]$/.exec(part);
      value = value === null || typeof value !== 'object' ? undefined : index ? (value as unknown[])[Number(index[1])] : (value as Record<string, unknown>)[part];
    }
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[name] = String(value);
    else issues.push({ field: `params.${name}`, message: value === undefined ? `the event has no ${spec}` : `${spec} is not a string, number or boolean in the event` });
  }
  if (issues.length) throw new ValidationError(issues);
  return out;
}
