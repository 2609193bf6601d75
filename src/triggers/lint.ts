/**
 * The triggers' lint, run by config validation and by the trigger functions at load (templateErrors) and listed by
 * `policy lint`: a value a trigger reads from its event that reaches a script position of its template (see
 * ./parameters) without a declaration that makes it safe is an error, at the placeholder; a declaration no
 * placeholder uses is a warning. Literal parameter values that fail their declaration are plain errors.
 */
import type { RawConfig } from '../config/schema';
import type { ConfigIssue } from '../errors';
import { formatPath, type Path } from '../util/format';
import { BUILT_IN_EVENT_PARAMETERS, checkValue, declarationProblem, own, placeholdersIn, SAFE_CHARACTERS, scriptPositions } from './parameters';
import { splitTemplate } from './template';

export interface TemplateFinding {
  severity: 'error' | 'warning';
  path: Path;
  message: string;
  suggestion?: string;
}

/** The string at `path` inside `value`, if there is one. */
function stringAt(value: unknown, path: Path): string | undefined {
  let v = value;
  for (const key of path) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[key] : undefined;
  return typeof v === 'string' ? v : undefined;
}

export function lintTemplates(raw: Pick<RawConfig, 'templates' | 'schedules' | 'triggers'>): { issues: { path: Path; message: string }[]; findings: TemplateFinding[] } {
  const issues: { path: Path; message: string }[] = [];
  const findings: TemplateFinding[] = [];

  for (const [name, template] of Object.entries(raw.templates)) {
    const { body, parameters } = splitTemplate(template);
    const used = new Set(placeholdersIn(JSON.stringify(body)));
    for (const declared of Object.keys(parameters)) {
      if (!used.has(declared)) findings.push({ severity: 'warning', path: ['templates', name, 'parameters', declared], message: `declared, but the template has no \${${declared}}` });
    }
  }

  for (const [kind, list] of [['schedules', raw.schedules], ['triggers', raw.triggers]] as const) {
    list.forEach((entry, i) => {
      const template = raw.templates[entry.template];
      if (!template) return; // validation reports the missing template
      const { parameters } = splitTemplate(template);
      for (const [param, spec] of Object.entries(entry.params)) {
        if (kind === 'triggers' && spec.startsWith('$.')) continue;
        const checked = checkValue(own(parameters, param), spec);
        if ('problem' in checked) issues.push({ path: [kind, i, 'params', param], message: `${checked.problem} (templates.${entry.template}.parameters.${param})` });
      }
    });
  }

  raw.triggers.forEach((trigger, i) => {
    const template = raw.templates[trigger.template];
    if (!template) return;
    const { body, parameters } = splitTemplate(template);
    // What the event chooses: the event id (unless the trigger sets it) and every `$.` parameter.
    const specs: Record<string, string> = { eventId: '$.id', ...trigger.params };
    const fromEvent = new Set(Object.keys(specs).filter((p) => specs[p]!.startsWith('$.')));
    for (const position of scriptPositions(body)) {
      const text = stringAt(body, position.path);
      if (text === undefined) continue;
      for (const param of new Set(placeholdersIn(text))) {
        if (!fromEvent.has(param)) continue;
        const problem = declarationProblem(own(parameters, param) ?? own(BUILT_IN_EVENT_PARAMETERS, param), position);
        if (!problem) continue;
        findings.push({
          severity: 'error',
          path: ['templates', trigger.template, ...position.path],
          message: `\${${param}} is read from the event by triggers[${i}] (${trigger.name}: ${specs[param]}) and lands in ${position.what}: ${problem}`,
          suggestion:
            `declare templates.${trigger.template}.parameters.${param} as type integer or date, or with a pattern that admits only ${SAFE_CHARACTERS}` +
            `${position.sql ? ' (and no "--")' : ''}, e.g. "^[A-Za-z0-9._/-]+$"; or pass it as its own argument, e.g. [bash, -c, '... "$1"', name, "\${${param}}"]`,
        });
      }
    }
  });
  return { issues, findings };
}

/**
 * The lint's errors (a finding of severity error is one too) as configuration issues in `file`: what a function that
 * puts event values into templates refuses to load with, as validation does.
 */
export function templateErrors(raw: Pick<RawConfig, 'templates' | 'schedules' | 'triggers'>, file: string): ConfigIssue[] {
  const { issues, findings } = lintTemplates(raw);
  return [...issues, ...findings.filter((f) => f.severity === 'error')].map((i) => ({ file, path: formatPath(i.path), message: i.message }));
}
