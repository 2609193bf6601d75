/**
 * Sends the deliveries due on jobs (due.ts), off the job's path: the jobs stream (in AWS; a tap of the local
 * DynamoDB's writes locally) names a job the moment a write leaves a delivery due, and a sweep finds what that
 * missed (a crash, a stream record lost, a delivery waiting out its backoff). At least once: a delivery is removed
 * from the job only after its outcome is on the audit trail, so a crash in between sends it again, with the same
 * delivery id. Each attempt is an audit event (NOTIFICATION: outcome, HTTP status or error, attempt n of m); a
 * failing endpoint is retried with exponential backoff up to the notification's attempts and then given up, and
 * never touches the job's state. One notifier at a time works on a delivery (a lease on it, written with the job's
 * version check); a crashed one's lease runs out and the next sweep takes it over.
 */
import { randomUUID } from 'node:crypto';
import type { AuditDraft } from '../audit/chain';
import { recordEvent } from '../jobs/journal';
import type { DueDelivery, Job } from '../jobs/model';
import type { AuditLog } from '../jobs/ports';
import { subjectOf } from '../jobs/step-tasks';
import { sha256 } from '../util/canonical';
import { eachLimited } from '../util/concurrency';
import { outbox } from './due';
import { notificationMessage, snsSubject } from './message';
import type { DueJobs, NotificationSender, SecretSource, SendOutcome } from './ports';
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signatureHeader } from './signature';
import { webhookOrigin } from './targets';

/** Who sends, in the audit trail. */
export const NOTIFIER_ACTOR = { principalArn: 'emr-step-gateway', callerArn: 'emr-step-gateway:notifier' };
/** The longest wait between two attempts. */
export const MAX_BACKOFF_SECONDS = 300;
/** Waits longer than this are not slept through in one invocation: the delivery is left to a later sweep. */
export const MAX_INLINE_WAIT_SECONDS = 30;
/** How long a notifier holds a delivery beyond its attempt's own timeout. */
export const LEASE_MARGIN_SECONDS = 30;

/** What the notifier reads of a configured notification (config/schema.ts). */
export interface NotificationTarget {
  name: string;
  webhook?: { url: string; secret: { secretsManager: string } | { ssmParameter: string } };
  sns?: { topicArn: string };
  retry: { attempts: number; timeoutSeconds: number; backoffSeconds: number };
}

export interface NotifierDeps {
  notifications: readonly NotificationTarget[];
  jobs: DueJobs;
  audit: AuditLog;
  sender: NotificationSender;
  secrets: SecretSource;
  /** The API's base URL, for the message's links (none without it). */
  apiUrl?: string;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
}

export interface AttemptReport {
  jobId: string;
  deliveryId: string;
  attempt: number;
  outcome: 'delivered' | 'failed' | 'abandoned' | 'skipped';
  error?: string;
}

export interface DeliverOptions {
  /** Leases from before are void (the local stack at its start: the process that held them is gone). */
  takeOver?: boolean;
  /** Epoch ms: no attempt or wait that would end after it is begun (a Lambda invocation's time left). */
  deadline?: number;
}

export interface SweepRun {
  jobs: number;
  attempts: AttemptReport[];
  errors: { jobId: string; error: string }[];
}

/** The wait after failed attempt `n` (1-based): backoff, doubled each time, at most MAX_BACKOFF_SECONDS. */
export const backoffSeconds = (base: number, attempt: number): number => Math.min(MAX_BACKOFF_SECONDS, base * 2 ** (attempt - 1));

export class Notifier {
  private readonly now: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly byName: Map<string, NotificationTarget>;
  private readonly waits = new Set<() => void>();
  private aborted = false;

  constructor(private readonly deps: NotifierDeps) {
    this.now = deps.now ?? (() => new Date());
    this.sleep = deps.sleep ?? ((ms) => this.wait(ms));
    this.byName = new Map(deps.notifications.map((n) => [n.name, n]));
  }

  /** Ends every backoff wait now and any later one at once (a stopping process): the deliveries stay due, leased until their lease runs out. */
  abortWaits(): void {
    this.aborted = true;
    for (const abort of this.waits) abort();
  }

  private wait(ms: number): Promise<void> {
    if (this.aborted) return Promise.reject(new Error('the notifier is stopping'));
    return new Promise((resolve, reject) => {
      const abort = () => {
        clearTimeout(timer);
        this.waits.delete(abort);
        reject(new Error('the notifier is stopping'));
      };
      const timer = setTimeout(() => {
        this.waits.delete(abort);
        resolve();
      }, ms);
      this.waits.add(abort);
    });
  }

  /**
   * Every delivery of the job that is due now, each to its end (delivered, or given up) unless its next wait is
   * longer than MAX_INLINE_WAIT_SECONDS. `takeOver`: leases from before are void (the local stack at its start: the
   * process that held them is gone).
   */
  async deliverJob(jobId: string, options: DeliverOptions = {}): Promise<AttemptReport[]> {
    const job = await this.deps.jobs.get(jobId);
    const reports: AttemptReport[] = [];
    for (const due of job?.notifyDue ?? []) {
      if (!this.ready(due, options.takeOver)) continue;
      reports.push(...(await this.deliver(jobId, due.id, options)));
    }
    return reports;
  }

  /** Every job with deliveries due, a page at a time (the fallback of the stream). */
  async sweep(options: DeliverOptions = {}): Promise<SweepRun> {
    const run: SweepRun = { jobs: 0, attempts: [], errors: [] };
    let cursor: string | undefined;
    do {
      const page = await this.deps.jobs.withDeliveriesDue(cursor);
      cursor = page.cursor;
      const ready = page.jobs.filter((j) => (j.notifyDue ?? []).some((d) => this.ready(d, options.takeOver)));
      run.jobs += ready.length;
      await eachLimited(ready, 8, async (job) => {
        try {
          run.attempts.push(...(await this.deliverJob(job.jobId, options)));
        } catch (error) {
          run.errors.push({ jobId: job.jobId, error: error instanceof Error ? error.message : String(error) });
        }
      });
    } while (cursor !== undefined);
    return run;
  }

  private ready(due: DueDelivery, takeOver = false): boolean {
    const now = this.now().toISOString();
    return (due.nextAt ?? due.at) <= now && (takeOver || !due.lease || due.lease.until <= now);
  }

  /** One delivery, attempt after attempt, while the job holds it, this notifier its lease, and the deadline allows. */
  private async deliver(jobId: string, deliveryId: string, options: DeliverOptions): Promise<AttemptReport[]> {
    const reports: AttemptReport[] = [];
    const target = (due: DueDelivery) => this.byName.get(due.name);
    const lease = randomUUID();
    let takeOver = options.takeOver ?? false;
    for (;;) {
      // An attempt that could outlast the invocation is left to the next one (the sweep's, or the stream's).
      const timeout = (this.byName.get(deliveryId.split('/').at(-1) ?? '')?.retry.timeoutSeconds ?? 0) * 1000;
      if (options.deadline !== undefined && this.now().getTime() + timeout > options.deadline) return reports;
      const leased = await this.lease(jobId, deliveryId, lease, takeOver);
      if (!leased) return reports;
      takeOver = false;
      const { job, due } = leased;
      const notification = target(due);
      const attempt = due.attempts + 1;
      if (!notification) {
        // The configuration no longer has it (renamed or removed since the job was submitted): said once, then dropped.
        await this.record(job, due, { attempt, outcome: 'skipped', error: `no notification named ${due.name} is configured any more` }, true);
        reports.push({ jobId, deliveryId, attempt, outcome: 'skipped' });
        return reports;
      }
      const started = this.now();
      const outcome = await this.send(job, due, notification).catch((error: unknown): SendOutcome => ({ ok: false, error: error instanceof Error ? error.message : String(error) }));
      const durationMs = this.now().getTime() - started.getTime();
      const last = attempt >= notification.retry.attempts;
      const wait = backoffSeconds(notification.retry.backoffSeconds, attempt);
      const result = outcome.ok ? 'delivered' : last ? 'abandoned' : 'failed';
      const nextAt = outcome.ok || last ? undefined : new Date(this.now().getTime() + wait * 1000).toISOString();
      await this.record(job, due, {
        attempt,
        of: notification.retry.attempts,
        outcome: result,
        durationMs,
        ...(outcome.status !== undefined ? { httpStatus: outcome.status } : {}),
        ...(outcome.ok && outcome.messageId ? { messageId: outcome.messageId } : {}),
        ...(!outcome.ok ? { error: outcome.error.slice(0, 1024) } : {}),
        ...(nextAt ? { nextAttemptAt: nextAt } : {}),
      }, outcome.ok || last, nextAt);
      reports.push({ jobId, deliveryId, attempt, outcome: result, ...(!outcome.ok ? { error: outcome.error } : {}) });
      if (outcome.ok || last) return reports;
      // A short wait is slept through here; a long one is the sweep's (the delivery's nextAt says when).
      if (wait > MAX_INLINE_WAIT_SECONDS) return reports;
      // Nor a wait after which the next attempt could not end in time.
      if (options.deadline !== undefined && this.now().getTime() + (wait + notification.retry.timeoutSeconds) * 1000 > options.deadline) return reports;
      await this.sleep(wait * 1000);
    }
  }

  /** Takes the delivery for this notifier (unless another holds it): the job with the delivery as leased, or undefined. */
  private async lease(jobId: string, deliveryId: string, lease: string, takeOver: boolean): Promise<{ job: Job; due: DueDelivery } | undefined> {
    const ours = (j: Job) => j.notifyDue?.find((d) => d.id === deliveryId);
    let taken = false;
    const job = await this.deps.jobs.transition(jobId, (j) => {
      taken = false;
      const due = ours(j);
      if (!due) return undefined;
      const now = this.now();
      const mine = due.lease?.by === lease;
      if (!mine && due.lease && due.lease.until > now.toISOString() && !takeOver) return undefined;
      const timeout = this.byName.get(due.name)?.retry.timeoutSeconds ?? 0;
      const until = new Date(now.getTime() + (timeout + LEASE_MARGIN_SECONDS) * 1000).toISOString();
      taken = true;
      return outbox((j.notifyDue ?? []).map((d) => (d.id === deliveryId ? { ...d, lease: { by: lease, until } } : d)));
    });
    const due = ours(job);
    return taken && due?.lease?.by === lease ? { job, due } : undefined;
  }

  /** The attempt on the audit trail, and the delivery updated in the same job write (removed when `done`). */
  private async record(job: Job, due: DueDelivery, detail: Record<string, unknown>, done: boolean, nextAt?: string): Promise<void> {
    const notification = this.byName.get(due.name);
    const draft: AuditDraft = {
      type: 'NOTIFICATION',
      dedupeKey: `NOTIFICATION:${due.id}:${String(detail.attempt)}`,
      actor: { ...NOTIFIER_ACTOR },
      subject: subjectOf(job),
      detail: {
        deliveryId: due.id,
        notification: due.name,
        state: due.state,
        ...(notification?.webhook ? { target: 'webhook', endpoint: webhookOrigin(notification.webhook.url) } : {}),
        ...(notification?.sns ? { target: 'sns', endpoint: notification.sns.topicArn } : {}),
        ...detail,
      },
    };
    await recordEvent(this.deps.jobs, this.deps.audit, job.jobId, draft, (j) => {
      const current = j.notifyDue ?? [];
      if (!current.some((d) => d.id === due.id)) return undefined;
      const rest = done ? current.filter((d) => d.id !== due.id) : current.map((d) => (d.id === due.id ? { ...d, attempts: Number(detail.attempt), ...(nextAt ? { nextAt } : {}), lease: undefined } : d));
      return outbox(rest.map(stripUndefinedLease));
    }, { known: job });
  }

  private async send(job: Job, due: DueDelivery, notification: NotificationTarget): Promise<SendOutcome> {
    const events = await this.deps.audit.list(job.jobId);
    const message = notificationMessage(job, due, events, this.deps.apiUrl);
    const body = JSON.stringify(message);
    const timeoutMs = notification.retry.timeoutSeconds * 1000;
    if (notification.webhook) {
      const secret = await this.deps.secrets.get(notification.webhook.secret);
      const t = Math.floor(this.now().getTime() / 1000);
      return this.deps.sender.webhook({
        url: notification.webhook.url,
        body,
        timeoutMs,
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'emr-step-gateway-notifier/1',
          [DELIVERY_HEADER]: due.id,
          [EVENT_HEADER]: `job.${due.state}`,
          [SIGNATURE_HEADER]: signatureHeader(secret, t, body),
        },
      });
    }
    if (notification.sns) {
      const fifo = notification.sns.topicArn.endsWith('.fifo') ? { groupId: job.jobId, deduplicationId: sha256(due.id) } : undefined;
      return this.deps.sender.sns({
        topicArn: notification.sns.topicArn,
        message: body,
        subject: snsSubject(message),
        attributes: { status: due.state, notification: due.name, clusterId: job.clusterId, jobId: job.jobId },
        ...(fifo ? { fifo } : {}),
        timeoutMs,
      });
    }
    return { ok: false, error: `notification ${notification.name} has no target` };
  }
}

/** A delivery without the `lease: undefined` a released one would keep (a DynamoDB map cannot hold undefined). */
function stripUndefinedLease(d: DueDelivery): DueDelivery {
  const { lease, ...rest } = d;
  return lease ? { ...rest, lease } : rest;
}
