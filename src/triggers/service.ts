/**
 * Scheduled pipelines and event-driven triggers: each renders its template and submits through the same
 * JobService as the API (policy, idempotency, audit), acting as its configured principal. Each run is an
 * invocation (`schedule:NAME:TIME`, `event:NAME:ID`) whose job id no API Idempotency-Key can claim, so a
 * redelivered invocation submits once and nobody can pre-empt it. A run that is lost (its template renders no
 * valid request, the policy denies it, or its job already holds another request) is audited on the trigger's
 * own chain, where whoever owns the schedule looks for it.
 * A parameter that fails its declaration (see ./parameters) is rejected like a template that renders no valid
 * request.
 */
import type { GatewayConfig } from '../config/validate';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors';
import { sanitizeSourceIdentity } from '../identifiers';
import type { AuditLog } from '../jobs/ports';
import type { JobService, SubmitResult } from '../jobs/service';
import type { ParamValue } from './parameters';
import { renderTemplate, resolveParams } from './template';
import { templateRun } from '../jobs/rerun';

export type TriggerOutcome =
  | { outcome: 'submitted'; jobId: string; replayed: boolean }
  | { outcome: 'denied'; jobId?: string; reason: string }
  | { outcome: 'rejected'; issues: { field: string; message: string }[] }
  | { outcome: 'conflict'; jobId?: string; reason: string };

/** The audit chain of a schedule or trigger (its lost invocations). */
export const triggerChain = (kind: 'schedule' | 'trigger', name: string): string => `${kind}:${name}`;

export class TriggerService {
  constructor(
    private readonly config: GatewayConfig,
    private readonly jobs: JobService,
    private readonly audit: AuditLog,
  ) {}

  /** One firing of a schedule at `scheduledTime` (ISO 8601). */
  fireSchedule(name: string, scheduledTime: string): Promise<TriggerOutcome> {
    const schedule = this.config.schedules.find((s) => s.name === name);
    if (!schedule) throw new NotFoundError(`no schedule named ${name}`);
    const at = new Date(scheduledTime);
    if (Number.isNaN(at.getTime())) throw ValidationError.single('scheduledTime', `"${scheduledTime}" is not an ISO 8601 time`);
    const time = at.toISOString();
    // A schedule's parameters are the configuration's own text (even one starting with `$.`): no event to read.
    const params = { scheduledTime: time, date: time.slice(0, 10), ...schedule.params };
    return this.fire('schedule', name, schedule.template, schedule.principal, `schedule:${name}:${time}`, () => params);
  }

  /** One EventBridge event for a trigger; parameters may read the event (`$.detail.object.key`). */
  fireEvent(name: string, event: { id?: unknown }): Promise<TriggerOutcome> {
    const trigger = this.config.triggers.find((t) => t.name === name);
    if (!trigger) throw new NotFoundError(`no trigger named ${name}`);
    if (typeof event.id !== 'string' || !event.id) throw ValidationError.single('event.id', 'an EventBridge event has an id');
    // The event id is a parameter the event gives, like any `$.` one: checked against its (built-in) declaration.
    return this.fire('trigger', name, trigger.template, trigger.principal, `event:${name}:${event.id}`, () => resolveParams({ eventId: '$.id', ...trigger.params }, event));
  }

  private async fire(kind: 'schedule' | 'trigger', name: string, template: string, principal: string, invocation: string, params: () => Record<string, string | ParamValue>): Promise<TriggerOutcome> {
    const trigger = `${kind}:${name}`;
    const caller = { callerArn: principal, trigger, sourceIdentity: sanitizeSourceIdentity(`${kind}-${name}`) };
    let result: SubmitResult;
    try {
      const values = params();
      const body = renderTemplate(this.config.templates[template], values);
      // The job keeps its template and parameters: a rerun may then override them (jobs/rerun.ts).
      result = await this.jobs.submit({ caller, body, invocation, template: templateRun(template, values) });
    } catch (error) {
      const outcome = lostRun(error);
      if (!outcome) throw error; // e.g. transient: the invocation is retried, nothing is lost yet
      const { decision, ...detail } = outcome.audit;
      await this.audit.append(triggerChain(kind, name), {
        type: `TRIGGER_${outcome.type}`,
        dedupeKey: `${outcome.type}:${invocation}`,
        actor: { principalArn: principal, callerArn: principal, trigger },
        ...(decision ? { decision } : {}),
        detail: { invocation, template, ...detail },
      });
      return outcome.result;
    }
    return { outcome: 'submitted', jobId: result.job.jobId, replayed: result.replayed };
  }
}

/** A run that cannot happen, as its outcome and what the trigger's chain records of it; undefined for other errors. */
function lostRun(error: unknown): { type: 'REJECTED' | 'DENIED' | 'CONFLICT'; result: TriggerOutcome; audit: Record<string, unknown> & { decision?: Record<string, unknown> } } | undefined {
  if (error instanceof ValidationError) return { type: 'REJECTED', result: { outcome: 'rejected', issues: [...error.issues] }, audit: { issues: error.issues } };
  if (!(error instanceof ForbiddenError || error instanceof ConflictError)) return undefined;
  const jobId = typeof error.details?.jobId === 'string' ? { jobId: error.details.jobId } : {};
  const reason = error.message;
  if (error instanceof ConflictError) return { type: 'CONFLICT', result: { outcome: 'conflict', ...jobId, reason }, audit: { ...jobId, reason } };
  const decision = error.details?.decision;
  return {
    type: 'DENIED',
    result: { outcome: 'denied', ...jobId, reason },
    audit: { ...jobId, reason, ...(decision && typeof decision === 'object' ? { decision: decision as Record<string, unknown> } : {}) },
  };
}
