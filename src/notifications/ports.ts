/** What the notifier needs from the outside world: the two kinds of target, the secrets, and the jobs with deliveries due. */
import type { Job } from '../jobs/model';
import type { JobRepository } from '../jobs/ports';

/** One attempt's outcome: delivered (the endpoint's 2xx, SNS's MessageId), or why not, in words fit for the audit trail. */
export type SendOutcome = { ok: true; status?: number; messageId?: string } | { ok: false; status?: number; error: string };

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

export interface SnsRequest {
  topicArn: string;
  message: string;
  subject: string;
  /** String message attributes (subscription filter policies can select on them). */
  attributes: Record<string, string>;
  /** For a FIFO topic: the group (the job) and the deduplication id (the delivery). */
  fifo?: { groupId: string; deduplicationId: string };
  timeoutMs: number;
}

/** Sends one attempt; never throws for the endpoint's failure (a refused connection, a timeout, a 500): that is an outcome. */
export interface NotificationSender {
  webhook(request: WebhookRequest): Promise<SendOutcome>;
  sns(request: SnsRequest): Promise<SendOutcome>;
}

/** A webhook's signing secret, by where it is kept. Throws (with a message naming the reference, never the value) when it cannot be read. */
export interface SecretSource {
  get(ref: { secretsManager: string } | { ssmParameter: string }): Promise<string>;
}

/** A page of the jobs that have deliveries due (read from the table, as JobRepository.unfinished reads). */
export interface DuePage {
  jobs: Job[];
  cursor?: string;
}

export interface DueJobs extends JobRepository {
  withDeliveriesDue(cursor?: string): Promise<DuePage>;
}
