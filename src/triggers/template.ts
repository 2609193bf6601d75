/**
 * Job templates: a POST /jobs body with `${param}` placeholders in its strings, and an optional `parameters`
 * declaration (see ./parameters). Rendering walks the parsed body and substitutes inside string values only, so a
 * parameter can never change the body's structure (no JSON injection); each value is checked against its
 * declaration, a value from the event that lands in a script against the safe characters too; the result is
 * then validated like any request.
 */
import { ValidationError, type FieldIssue } from '../errors';
import { formatPath } from '../util/format';
import {
  BUILT_IN_EVENT_PARAMETERS,
  checkValue,
  own,
  PLACEHOLDER,
  quoteValue,
  scriptPositions,
  unsafeValueProblem,
  type ParameterDeclaration,
  type ParamValue,
  type ScriptPosition,
} from './parameters';

/** A template as configured: the request body, and what it declares of its parameters. */
export function splitTemplate(template: unknown): { body: unknown; parameters: Readonly<Record<string, ParameterDeclaration>> } {
  if (!template || typeof template !== 'object' || Array.isArray(template)) return { body: template, parameters: {} };
  const { parameters, ...body } = template as { parameters?: Record<string, ParameterDeclaration> };
  return { body, parameters: parameters ?? {} };
}

/**
 * Renders `template` with `params`: a plain string is the configuration's or the gateway's own value; a ParamValue
 * says whether the event chose it. A value is checked against its declaration (or, from the event, the built-in
 * one) once, where it is first substituted.
 */
export function renderTemplate(template: unknown, params: Readonly<Record<string, string | ParamValue>>): unknown {
  const { body, parameters } = splitTemplate(template);
  const issues: FieldIssue[] = [];
  const scripts = new Map<string, ScriptPosition>(scriptPositions(body).map((p) => [formatPath(p.path), p]));
  const texts = new Map<string, string | undefined>();
  const textOf = (name: string, param: string | ParamValue): string | undefined => {
    if (!texts.has(name)) {
      const { value, fromEvent } = typeof param === 'string' ? { value: param, fromEvent: false } : param;
      const checked = checkValue(own(parameters, name) ?? (fromEvent ? own(BUILT_IN_EVENT_PARAMETERS, name) : undefined), value);
      if ('problem' in checked) issues.push({ field: `params.${name}`, message: checked.problem });
      texts.set(name, 'text' in checked ? checked.text : undefined);
    }
    return texts.get(name);
  };
  const walk = (value: unknown, path: (string | number)[]): unknown => {
    if (typeof value === 'string') {
      const field = formatPath(path);
      const script = scripts.get(field);
      return value.replace(PLACEHOLDER, (whole, name: string) => {
        const param = own(params, name);
        if (param === undefined) {
          issues.push({ field, message: `no value for \${${name}} (parameters: ${Object.keys(params).join(', ') || 'none'})` });
          return whole;
        }
        const text = textOf(name, param);
        if (text === undefined) return whole;
        // Whatever the declaration let through, an event's value never brings script syntax into a script.
        const unsafe = script && typeof param !== 'string' && param.fromEvent ? unsafeValueProblem(text, script) : undefined;
        if (unsafe) issues.push({ field: `params.${name}`, message: `${quoteValue(text)} from the event would reach ${script!.what} (${field}): ${unsafe}` });
        return text;
      });
    }
    if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, i]));
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, [...path, k])]));
    return value;
  };
  const rendered = walk(body, []);
  if (issues.length) throw new ValidationError(issues);
  return rendered;
}

/** `$.detail.object.key` (dots and [n]) read from the event; anything else is the literal value it is. */
export function resolveParams(params: Readonly<Record<string, string>>, event: unknown): Record<string, ParamValue> {
  const issues: FieldIssue[] = [];
  const out: Record<string, ParamValue> = {};
  for (const [name, spec] of Object.entries(params)) {
    if (!spec.startsWith('$.')) {
      out[name] = { value: spec, fromEvent: false };
      continue;
    }
    let value: unknown = event;
    for (const part of spec.slice(2).split(/\.|(?=\[)/)) {
      const index = /^\[(\d+)\]$/.exec(part);
      value = value === null || typeof value !== 'object' ? undefined : index ? (value as unknown[])[Number(index[1])] : (value as Record<string, unknown>)[part];
    }
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[name] = { value, fromEvent: true };
    else issues.push({ field: `params.${name}`, message: value === undefined ? `the event has no ${spec}` : `${spec} is not a string, number or boolean in the event` });
  }
  if (issues.length) throw new ValidationError(issues);
  return out;
}
