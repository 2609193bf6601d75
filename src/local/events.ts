/**
 * The local EventBridge (the default bus): PutEvents turns each entry into an event and fires every trigger
 * whose pattern matches it, in the background as a rule's target is invoked, so a failed firing is logged,
 * not returned. The CLI's `emr-gateway trigger` fires one trigger by name, with an event its pattern matches,
 * and waits for its outcome.
 *
 * AWS services put their events on the bus themselves (`publishServiceEvent`: the local EMR's "EMR Step Status
 * Change"), and the stack's own rules (as serverless.yml deploys them) deliver the matching ones to their
 * Lambda target in-process, as EventBridge invokes a Lambda function: asynchronously, and a failed invocation
 * is delivered again twice (Lambda's asynchronous retries, after about one and two minutes in AWS; after
 * RULE_RETRY_DELAYS_MS here), then dropped with a log line.
 */
import { DomainError, NotFoundError, ValidationError } from '../errors';
import { matchesPattern, patternMismatch } from '../triggers/event-pattern';
import { setTimeout as sleep } from 'node:timers/promises';
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

/** An entry's outcome, in AWS's shape: its event id, or the error code and message for it. */
export interface PutEventsResultEntry {
  EventId?: string;
  ErrorCode?: string;
  ErrorMessage?: string;
}
type EntryError = Required<Pick<PutEventsResultEntry, 'ErrorCode' | 'ErrorMessage'>>;

const required = (field: string): EntryError => ({ ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.` });

/** The entry and its parsed Detail, or why EventBridge refuses it. */
function checkEntry(value: unknown): { entry: PutEventsEntry; detail: Record<string, unknown> } | EntryError {
  const entry = (value !== null && typeof value === 'object' ? value : {}) as Record<string, unknown>;
  for (const field of ['Source', 'DetailType'] as const) if (typeof entry[field] !== 'string' || entry[field] === '') return required(field);
  if (typeof entry.Detail !== 'string') return required('Detail');
  if (entry.Time !== undefined && (typeof entry.Time !== 'number' || !Number.isFinite(new Date(entry.Time * 1000).getTime()))) return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Time is not valid.' };
  if (entry.Resources !== undefined && !(Array.isArray(entry.Resources) && entry.Resources.every((r) => typeof r === 'string'))) {
    return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Resources is not valid.' };
  }
  // AWS reserves the aws. prefix for its services; refused whatever the case, so no pattern ignoring case matches a forgery.
  if ((entry.Source as string).toLowerCase().startsWith('aws.')) return { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' };
  let detail: unknown = undefined;
  try {
    detail = JSON.parse(entry.Detail);
  } catch {
    // malformed: refused below
  }
  if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  return { entry, detail: detail as Record<string, unknown> };
}

/** What the bus needs of the configuration: where it is, and each trigger's rule. */
export interface EventBusConfig {
  account: string;
  region: string;
  triggers: readonly { name: string; eventPattern: Record<string, unknown> }[];
}

/** Fires one trigger with one event (the gateway's TriggerService, once the stack has wired it). */
export type FireTrigger = (name: string, event: Record<string, unknown>) => Promise<unknown>;

/** A rule of the stack's own, with its Lambda target run in-process. */
export interface LocalRule {
  name: string;
  eventPattern: Record<string, unknown>;
  target: (event: BusEvent) => Promise<unknown>;
}

/** An event as EventBridge delivers it to a target. */
export interface BusEvent extends Record<string, unknown> {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/** An AWS service's event: on the bus as the service puts it there (not through PutEvents, which refuses aws.* sources). */
export interface ServiceEvent {
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
  resources?: string[];
}

/** Pauses before the second and third deliveries of an event whose target failed (Lambda retries twice). */
export const RULE_RETRY_DELAYS_MS = [1000, 2000] as const;

export class LocalEventBus {
  /** Deliveries to the stack's rules' targets in progress (retries included): `stop` waits for them. */
  private readonly deliveries = new Set<Promise<void>>();
  private readonly stopping = new AbortController();

  constructor(
    private readonly config: EventBusConfig,
    private readonly fire: FireTrigger,
    private readonly rules: readonly LocalRule[] = [],
  ) {}

  /** An AWS service's event on the bus; returns its id. */
  publishServiceEvent(event: ServiceEvent): string {
    return this.publish({ Source: event.source, DetailType: event.detailType, Resources: event.resources ?? [] }, event.detail);
  }

  /** No further delivery or retry; waits for the deliveries in progress. */
  async stop(): Promise<void> {
    this.stopping.abort();
    while (this.deliveries.size) await Promise.allSettled([...this.deliveries]);
  }

  /**
   * PutEvents: 1 to 10 entries, each an event on the bus, or refused on its own as AWS refuses it (the others are
   * still published): Source, DetailType and Detail are required, Detail must be a JSON object, and `aws.*`
   * sources belong to AWS services (a caller could otherwise forge an S3 event and fire its trigger).
   */
  putEvents(input: Record<string, unknown>): { FailedEntryCount: number; Entries: PutEventsResultEntry[] } {
    const entries = Array.isArray(input.Entries) ? (input.Entries as unknown[]) : [];
    if (!entries.length || entries.length > 10) throw new LocalServiceError('ValidationException', 'Entries must have between 1 and 10 members.');
    const results = entries.map((entry): PutEventsResultEntry => {
      const checked = checkEntry(entry);
      return 'ErrorCode' in checked ? checked : { EventId: this.publish(checked.entry, checked.detail) };
    });
    return { FailedEntryCount: results.filter((r) => r.ErrorCode !== undefined).length, Entries: results };
  }

  /**
   * Fires the trigger `name` with `event` (given an id if it has none) and answers its outcome: only with an
   * event its rule's pattern matches, since that is all EventBridge would ever deliver to it (a 400 saying what
   * differs otherwise). An unknown name is the gateway's to refuse (404).
   */
  async fireTrigger(name: string, event: Record<string, unknown>): Promise<unknown> {
    const trigger = this.config.triggers.find((t) => t.name === name);
    const mismatch = trigger ? patternMismatch(trigger.eventPattern, event) : undefined;
    if (mismatch) throw new LocalServiceError('EventPatternMismatch', `the event does not match trigger ${name}'s event pattern: ${mismatch}`, 400);
    try {
      return await this.fire(name, { id: crypto.randomUUID(), ...event });
    } catch (error) {
      throw asServiceError(error);
    }
  }

  private publish(entry: PutEventsEntry, detail: Record<string, unknown>): string {
    const event: BusEvent = {
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
    for (const rule of this.rules) if (matchesPattern(rule.eventPattern, event)) this.deliver(rule, event);
    for (const trigger of this.config.triggers) {
      if (!matchesPattern(trigger.eventPattern, event)) continue;
      void this.fire(trigger.name, event).catch((error: unknown) => {
        logger.error('local EventBridge: a trigger failed', { trigger: trigger.name, eventId: event.id, source: event.source, detailType: event['detail-type'], error });
      });
    }
    return event.id;
  }

  /** Invokes the rule's target with the event; a failure is delivered again after each of RULE_RETRY_DELAYS_MS. */
  private deliver(rule: LocalRule, event: BusEvent): void {
    const delivery = (async () => {
      for (let attempt = 0; ; attempt++) {
        if (this.stopping.signal.aborted) return;
        try {
          await rule.target(event);
          return;
        } catch (error) {
          const delay = RULE_RETRY_DELAYS_MS[attempt];
          const keys = { rule: rule.name, eventId: event.id, detailType: event['detail-type'], attempt: attempt + 1, error };
          if (delay === undefined || this.stopping.signal.aborted) return void logger.error('local EventBridge: a rule\'s target failed; the event is dropped', keys);
          logger.warn('local EventBridge: a rule\'s target failed; the event is delivered again', { ...keys, inMs: delay });
          // Cut short by a stop (AbortError): the loop then ends.
          await sleep(delay, undefined, { signal: this.stopping.signal }).catch(() => undefined);
        }
      }
    })();
    this.deliveries.add(delivery);
    void delivery.finally(() => this.deliveries.delete(delivery));
  }
}

/** The gateway's verdicts on a firing keep their codes, with the statuses its API gives them (404, 400). */
function asServiceError(error: unknown): unknown {
  if (!(error instanceof DomainError)) return error;
  const status = error instanceof NotFoundError ? 404 : error instanceof ValidationError ? 400 : 500;
  return new LocalServiceError(error.code, error.message, status);
}

