/**
 * What a rerun submits (POST /jobs/{id}/rerun): the job's own request again, or, with parameter overrides, its
 * template rendered again with the parameters it was made with and the overrides. An override is the caller's
 * choice, so it is checked as an event's value is (its declaration, or the built-in one, and never script syntax
 * into a script); only the parameters the job was made with may be overridden. The stored job is not trusted
 * either: a template record that is not one is refused, never rendered.
 */
import { ConflictError, IntegrityError, ValidationError } from '../errors';
import { renderTemplate } from '../triggers/template';
import type { ParamValue } from '../triggers/parameters';
import type { Job, TemplateRun } from './model';

export interface RerunSource {
  body: unknown;
  template?: TemplateRun;
}

export function rerunSource(job: Pick<Job, 'jobId' | 'request' | 'template'>, templates: Readonly<Record<string, unknown>>, overrides: Readonly<Record<string, string>> | undefined): RerunSource {
  const recorded = job.template === undefined ? undefined : checkedTemplateRun(job.template, job.jobId);
  if (!overrides || !Object.keys(overrides).length) return { body: job.request, ...(recorded ? { template: recorded } : {}) };
  if (!recorded) throw ValidationError.single('parameters', `job ${job.jobId} was made by no template (it was submitted with its request): there are no parameters to override`);
  const unknown = Object.keys(overrides).filter((name) => !Object.hasOwn(recorded.parameters, name));
  if (unknown.length) {
    throw new ValidationError(unknown.map((name) => ({ field: `parameters.${name}`, message: `is not a parameter of job ${job.jobId} (template ${recorded.name}: ${Object.keys(recorded.parameters).join(', ') || 'none'})` })));
  }
  const template = Object.hasOwn(templates, recorded.name) ? templates[recorded.name] : undefined;
  if (template === undefined) throw new ConflictError(`template ${recorded.name}, which made job ${job.jobId}, is no longer configured: rerun it without parameters`);
  const fromEvent = new Set([...recorded.fromEvent, ...Object.keys(overrides)]);
  const values = { ...recorded.parameters, ...overrides };
  const params: Record<string, string | ParamValue> = Object.fromEntries(
    Object.entries(values).map(([name, value]) => [name, fromEvent.has(name) ? { value, fromEvent: true } : String(value)]),
  );
  return { body: renderTemplate(template, params), template: { name: recorded.name, parameters: values, fromEvent: [...fromEvent].sort() } };
}

/** The template run a job holds, if it is one (a record planted in the table is refused, not rendered). */
function checkedTemplateRun(value: unknown, jobId: string): TemplateRun {
  const run = value as Partial<TemplateRun> | null;
  const fine =
    run !== null &&
    typeof run === 'object' &&
    typeof run.name === 'string' &&
    run.parameters !== null &&
    typeof run.parameters === 'object' &&
    !Array.isArray(run.parameters) &&
    Object.values(run.parameters).every((v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') &&
    Array.isArray(run.fromEvent) &&
    run.fromEvent.every((n) => typeof n === 'string');
  if (!fine) throw new IntegrityError(`job ${jobId} holds a template record that is not one`);
  return run as TemplateRun;
}

/** A trigger's parameters as a job records them: their values, and which the event chose. */
export function templateRun(name: string, params: Readonly<Record<string, string | ParamValue>>): TemplateRun {
  const parameters: Record<string, string | number | boolean> = {};
  const fromEvent: string[] = [];
  for (const [key, param] of Object.entries(params)) {
    if (typeof param === 'string') parameters[key] = param;
    else {
      parameters[key] = param.value;
      if (param.fromEvent) fromEvent.push(key);
    }
  }
  return { name, parameters, fromEvent: fromEvent.sort() };
}
