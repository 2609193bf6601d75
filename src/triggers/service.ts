/**
 * Scheduled pipelines and event-driven triggers: each renders its template and submits through the same
 * JobService as the API (policy, idempotency, audit), acting as its configured principal. The idempotency key
 * is the scheduled time or the event id, so a redelivered invocation submits once. A template that does not
 * render into a valid request, or a parameter that fails its declaration (see ./parameters), is rejected and
 * audited on the trigger's own chain (there is no job to hold it).
 */
import type { GatewayConfig } from '../config/validate';
import { ForbiddenError, NotFoundError, ValidationError } from '../errors';
import { sanitizeSourceIdentity } from '../identifiers';
import type { AuditLog } from '../jobs/ports';
import type { JobService, SubmitResult } from '../jobs/service';
import type { ParamValue } from './parameters';
import { renderTemplate, resolveParams } from './template';

export type TriggerOutcome =
  | { outcome: 'submitted'; jobId: string; replayed: boolean }
  | { outcome: 'denied'; jobId?: string; reason: string }
  | { outcome: 'rejected'; issues: { field: string; message: string }[] };

/** The audit chain of a schedule or trigger (its rejected invocations). */
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

  private async fire(kind: 'schedule' | 'trigger', name: string, template: string, principal: string, key: string, params: () => Record<string, string | ParamValue>): Promise<TriggerOutcome> {
    const caller = { callerArn: principal, trigger: `${kind}:${name}`, sourceIdentity: sanitizeSourceIdentity(`${kind}-${name}`) };
    let body: unknown;
    let result: SubmitResult;
    try {
      body = renderTemplate(this.config.templates[template], params());
      result = await this.jobs.submit({ caller, body, idempotencyKey: key.slice(0, 255) });
    } catch (error) {
      if (error instanceof ForbiddenError) return { outcome: 'denied', ...(typeof error.details?.jobId === 'string' ? { jobId: error.details.jobId } : {}), reason: error.message };
      if (!(error instanceof ValidationError)) throw error;
      await this.audit.append(triggerChain(kind, name), {
        type: 'TRIGGER_REJECTED',
        dedupeKey: `REJECTED:${key}`,
        actor: { principalArn: principal, callerArn: principal, trigger: `${kind}:${name}` },
        detail: { invocation: key, template, issues: error.issues },
      });
      return { outcome: 'rejected', issues: [...error.issues] };
    }
    return { outcome: 'submitted', jobId: result.job.jobId, replayed: result.replayed };
  }
}
