/**
 * The local EventBridge (the default bus): PutEvents turns each entry into an event and fires every trigger
 * whose pattern matches it, in the background as a rule's target is invoked, so a failed firing is logged,
 * not returned. The CLI's `emr-gateway trigger` fires one trigger by name and waits for its outcome.
 */
import { DomainError, NotFoundError, ValidationError } from '../errors';
import { matchesPattern } from '../triggers/event-pattern';
import { logger } from '../util/logger';
import { LocalServiceError } from './errors';

export interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  Resources?: string[];
  /** Seconds since the epoch, as the JSON protocol sends timestamps. */
  Time?: number;
}

/** What the bus needs of the configuration: where it is, and each trigger's rule. */
export interface EventBusConfig {
  account: string;
  region: string;
  triggers: readonly { name: string; eventPattern: Record<string, unknown> }[];
}

/** Fires one trigger with one event (the gateway's TriggerService, once the stack has wired it). */
export type FireTrigger = (name: string, event: Record<string, unknown>) => Promise<unknown>;

export class LocalEventBus {
  constructor(
    private readonly config: EventBusConfig,
    private readonly fire: FireTrigger,
  ) {}

  /** PutEvents: 1 to 10 entries, each an event on the bus. */
  putEvents(input: Record<string, unknown>): { FailedEntryCount: number; Entries: { EventId: string }[] } {
    const entries = Array.isArray(input.Entries) ? (input.Entries as PutEventsEntry[]) : [];
    if (!entries.length || entries.length > 10) throw new LocalServiceError('ValidationException', 'Entries must have between 1 and 10 members.');
    return { FailedEntryCount: 0, Entries: entries.map((entry) => ({ EventId: this.publish(entry) })) };
  }

  /** Fires the trigger `name` with `event` (given an id if it has none) and answers its outcome. */
  async fireTrigger(name: string, event: Record<string, unknown>): Promise<unknown> {
    try {
      return await this.fire(name, { id: crypto.randomUUID(), ...event });
    } catch (error) {
      throw asServiceError(error);
    }
  }

  private publish(entry: PutEventsEntry): string {
    let detail: unknown = {};
    try {
      detail = JSON.parse(entry.Detail ?? '{}');
    } catch {
      // EventBridge rejects the entry; locally it simply matches nothing
    }
    const event = {
      version: '0',
      id: crypto.randomUUID(),
      'detail-type': entry.DetailType ?? '',
      source: entry.Source ?? '',
      account: this.config.account,
      time: new Date(entry.Time ? entry.Time * 1000 : Date.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.config.region,
      resources: entry.Resources ?? [],
      detail,
    };
    for (const trigger of this.config.triggers) {
      if (!matchesPattern(trigger.eventPattern, event)) continue;
      void this.fire(trigger.name, event).catch((error: unknown) => {
        logger.error('local EventBridge: a trigger failed', { trigger: trigger.name, eventId: event.id, source: event.source, detailType: event['detail-type'], error });
      });
    }
    return event.id;
  }
}

/** The gateway's verdicts on a firing keep their codes, with the statuses its API gives them (404, 400). */
function asServiceError(error: unknown): unknown {
  if (!(error instanceof DomainError)) return error;
  const status = error instanceof NotFoundError ? 404 : error instanceof ValidationError ? 400 : 500;
  return new LocalServiceError(error.code, error.message, status);
}
