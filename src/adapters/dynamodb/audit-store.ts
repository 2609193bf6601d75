/**
 * The append-only audit trail in DynamoDB: one item per event, key (jobId, seq), written only with a
 * conditional put that fails if the seq is taken, so nothing is ever overwritten. Each event is sealed with
 * the audit key (AuditSealer) before it is written. No transactions: an append is safe to retry because of
 * the event's dedupe key.
 */
import { GetItemCommand, PutItemCommand, QueryCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { genesisHash, sealEvent, type AuditDraft, type AuditEvent } from '../../audit/chain';
import type { AuditSealer } from '../../audit/ports';
import { AuditContentionError, IntegrityError } from '../../errors';
import type { AppendOptions, AuditLog } from '../../jobs/ports';
import { awsCall, isConditionalCheckFailed, translateAwsError } from '../aws-errors';
import { sleep } from '../../util/concurrency';

/** Each lost race costs one more attempt; a job rarely has more than two writers at once (workflow, cancel). */
const MAX_APPEND_ATTEMPTS = 30;

export class DynamoAuditStore implements AuditLog {
  constructor(
    private readonly db: DynamoDBClient,
    private readonly table: string,
    private readonly sealer: AuditSealer,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Appends an event after the chain's last one, unless an event with the same dedupe key is already in the
   * chain: then that event is returned and nothing is written (a retried append is a no-op). Reading the keys
   * first, every time, is what makes this hold even when other writers appended in between. `firstEvent`
   * skips that read for the first event of a job whose id was just made up (nothing can precede it), and `chain`
   * for a chain the caller has just read (a stale one makes the conditional put fail, and the chain is read);
   * `onlyBefore` refuses the append once the chain holds one of those events (see AuditLog).
   */
  async append(jobId: string, draft: AuditDraft, options: AppendOptions = {}): Promise<AuditEvent> {
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
      if (attempt > 1) await sleep(Math.random() * 5 * attempt); // jitter: concurrent writers stop colliding
      // A brand-new job (a fresh random id) has no chain yet: try seq 0 straight away; if it is taken after
      // all, the conditional put fails and the usual path reads the chain.
      const known = options.chain ?? (options.firstEvent ? [] : undefined);
      const chain = known && attempt === 0 ? known : await this.keys(jobId);
      const existing = chain.find((e) => e.dedupeKey === draft.dedupeKey);
      if (existing) return this.get(jobId, existing.seq);
      // An event it must precede is in the chain: nothing is written. This chain is the one the put below
      // extends (seq last + 1, only if still free), so an event appended since this read makes the put fail
      // and the check run again: the check holds at the moment of the write.
      const blocker = options.onlyBefore && chain.findLast((e) => options.onlyBefore!.includes(e.dedupeKey));
      if (blocker) return this.get(jobId, blocker.seq);
      const last = chain.at(-1);
      const event = await sealEvent(this.sealer, draft, jobId, last ? last.seq + 1 : 0, last ? last.hash : genesisHash(jobId), this.now().toISOString());
      try {
        await this.db.send(
          new PutItemCommand({
            TableName: this.table,
            Item: marshall(event, { removeUndefinedValues: true }),
            ConditionExpression: 'attribute_not_exists(seq)',
          }),
        );
        return event;
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw translateAwsError('DynamoDB PutItem', error);
        // Someone appended first: read the chain again.
      }
    }
    throw new AuditContentionError(`could not append to the audit trail of ${jobId}: too much contention`);
  }

  async get(jobId: string, seq: number): Promise<AuditEvent> {
    const out = await awsCall('DynamoDB GetItem', () => this.db.send(new GetItemCommand({ TableName: this.table, Key: marshall({ jobId, seq }), ConsistentRead: true })));
    if (!out.Item) throw new IntegrityError(`audit event ${jobId}/${seq} vanished`);
    return unmarshall(out.Item) as AuditEvent;
  }

  /** Every event of a job, in order. */
  async list(jobId: string): Promise<AuditEvent[]> {
    return this.query<AuditEvent>(jobId);
  }

  private async keys(jobId: string): Promise<Pick<AuditEvent, 'seq' | 'dedupeKey' | 'hash'>[]> {
    return this.query<Pick<AuditEvent, 'seq' | 'dedupeKey' | 'hash'>>(jobId, 'seq, dedupeKey, #h');
  }

  private async query<T>(jobId: string, projection?: string): Promise<T[]> {
    const items: T[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const out = await awsCall('DynamoDB Query', () => this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'jobId = :j',
          ExpressionAttributeValues: marshall({ ':j': jobId }),
          ConsistentRead: true,
          ...(projection ? { ProjectionExpression: projection, ExpressionAttributeNames: { '#h': 'hash' } } : {}),
          ExclusiveStartKey: start,
        }),
      ));
      for (const item of out.Items ?? []) items.push(unmarshall(item) as T);
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }
}
