/**
 * Jobs in DynamoDB: one item per job, created once (conditional put), then changed only with optimistic
 * concurrency on `version`. Three sparse-free indexes list jobs newest first by caller, status and cluster,
 * so no listing ever scans the table; one list call is one Query, then one BatchGetItem (consistent) that reads
 * its jobs through to the table: an index is not the table (GSIs lag behind it in AWS; the local dynalite writes
 * index entries and the item separately, so a killed process leaves entries of states the item never reached).
 * Only finding unfinished jobs scans the table, because no index may be trusted to hold every one of them.
 */
import {
  BatchGetItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { IntegrityError, TransientError, ValidationError } from '../../errors';
import { ACTIVE_STATUSES, jobIdOfListKey, type Job } from '../../jobs/model';
import type { JobChanges, JobPage, JobRepository, ListedJob, ListQuery, UnfinishedPage, UsageEntry, UsageQuery } from '../../jobs/ports';
import { transitionJob } from '../../jobs/transition';
import { awsCall, isConditionalCheckFailed, translateAwsError } from '../aws-errors';
import { HEAD_CHANGES_INDEX, JOB_INDEXES, USAGE_INDEX, headChangesKey, headChangesKeys, type JobIndex } from './tables';
import type { DigestEntry } from '../../audit/digest';
import { sleep } from '../../util/concurrency';


export class DynamoJobStore implements JobRepository {
  constructor(
    private readonly db: DynamoDBClient,
    private readonly table: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Creates the job; false (and nothing written) if a job with that id exists. */
  async create(job: Job): Promise<boolean> {
    try {
      await this.db.send(
        new PutItemCommand({
          TableName: this.table,
          Item: marshall({ ...job, [HEAD_CHANGES_INDEX.partition]: headChangesKey(job.jobId, job.updatedAt), ...usageAttributes(job) }, { removeUndefinedValues: true, convertClassInstanceToMap: true }),
          ConditionExpression: 'attribute_not_exists(jobId)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw translateAwsError('DynamoDB PutItem', error);
    }
  }

  async get(jobId: string): Promise<Job | undefined> {
    const out = await awsCall('DynamoDB GetItem', () => this.db.send(new GetItemCommand({ TableName: this.table, Key: marshall({ jobId }), ConsistentRead: true })));
    return out.Item ? toJob(out.Item) : undefined;
  }

  /** Applies changes if the job is still at `version`; returns the new job, or undefined if it moved on. */
  async update(job: Job, changes: JobChanges): Promise<Job | undefined> {
    const next: Job = { ...job, ...changes, version: job.version + 1, updatedAt: this.now().toISOString() };
    const fields = Object.keys(changes).concat('version', 'updatedAt') as (keyof Job)[];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':expected': job.version, ':changes': headChangesKey(job.jobId, next.updatedAt) };
    // Every update may move the audit head: the digester finds the job again in this hour's index partition.
    const sets: string[] = [`${HEAD_CHANGES_INDEX.partition} = :changes`];
    // The job's end puts it in the usage index, under its day (finishedAt is written once, with the end).
    if (changes.finishedAt !== undefined && next.finishedAt !== undefined) {
      Object.assign(values, { ':finishDay': next.finishedAt.slice(0, 10) });
      sets.push(`${USAGE_INDEX.partition} = :finishDay`);
    }
    const removes: string[] = [];
    fields.forEach((field, i) => {
      names[`#f${i}`] = field;
      if (next[field] === undefined) removes.push(`#f${i}`);
      else {
        values[`:v${i}`] = next[field];
        sets.push(`#f${i} = :v${i}`);
      }
    });
    try {
      await this.db.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall({ jobId: job.jobId }),
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: 'version = :expected',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: marshall(values, { removeUndefinedValues: true }),
        }),
      );
      return next;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw translateAwsError('DynamoDB UpdateItem', error);
    }
  }

  /** Read-modify-write with retries (transitionJob); `known` saves the read while it is current. */
  transition(jobId: string, change: (job: Job) => JobChanges | undefined, known?: Job): Promise<Job> {
    return transitionJob(this, jobId, change, known);
  }

  /**
   * One Query, newest first, through the index that fits the filters, for `limit` entries (their position and what
   * never changes: owner, cluster, role); then the jobs of the entries `visible` accepts, as the table holds them
   * (BatchGetItem, consistent). An entry is dropped when its job is not in the table, sits at another position (a
   * ghost of a create retried later), or no longer matches the filters (the index lags, or kept an entry of a state
   * the job never reached): so a job is listed only at its own position, once across pages, in its real state.
   * `limit` counts entries read, whatever is dropped.
   */
  async list(query: ListQuery): Promise<JobPage> {
    const { index, partition } = chooseIndex(query);
    const values: Record<string, unknown> = { ':pk': partition, ':from': query.from ?? '0', ':to': `${query.to ?? '9999'}~` };
    const out = await awsCall('DynamoDB Query', () => this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: index,
        KeyConditionExpression: '#pk = :pk AND listKey BETWEEN :from AND :to',
        ProjectionExpression: 'jobId, listKey, principalArn, clusterId, executionRoleArn',
        ExpressionAttributeNames: { '#pk': JOB_INDEXES[index] },
        ExpressionAttributeValues: marshall(values),
        ScanIndexForward: false,
        Limit: query.limit,
        ExclusiveStartKey: startKey(query.nextToken, JOB_INDEXES[index], partition),
      }),
    ));
    const entries = (out.Items ?? []).map((item) => unmarshall(item) as ListedJob).filter((entry) => typeof entry.jobId === 'string' && (query.visible?.(entry) ?? true));
    const items = await this.getMany(entries.map((e) => e.jobId));
    const jobs = entries.flatMap((entry) => {
      const job = items.get(entry.jobId);
      return job && job.listKey === entry.listKey && matches(job, query) ? [job] : [];
    });
    return { jobs, ...(out.LastEvaluatedKey ? { nextToken: positionOf(out.LastEvaluatedKey) } : {}) };
  }

  /** Jobs by id, consistent reads, 100 keys per BatchGetItem; keys DynamoDB leaves unprocessed are asked for again. */
  private async getMany(jobIds: string[]): Promise<Map<string, Job>> {
    const found = new Map<string, Job>();
    const unique = [...new Set(jobIds)];
    for (let i = 0; i < unique.length; i += 100) {
      let keys: Record<string, AttributeValue>[] = unique.slice(i, i + 100).map((jobId) => marshall({ jobId }));
      for (let attempt = 0; keys.length; attempt++) {
        if (attempt >= 10) throw new TransientError('DynamoDB BatchGetItem: keys left unprocessed after 10 attempts', { throttled: true, dependency: 'DynamoDB BatchGetItem: UnprocessedKeys' });
        if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt) * Math.random());
        const out = await awsCall('DynamoDB BatchGetItem', () => this.db.send(new BatchGetItemCommand({ RequestItems: { [this.table]: { Keys: keys, ConsistentRead: true } } })));
        for (const item of out.Responses?.[this.table] ?? []) {
          const job = toJob(item);
          found.set(job.jobId, job);
        }
        keys = out.UnprocessedKeys?.[this.table]?.Keys ?? [];
      }
    }
    return found;
  }

  /**
   * A page of the jobs not in a terminal state (or holding a wait's token: JobRepository.unfinished), read from the table itself (a Scan, not an index: a lagging or
   * torn index could hide one), in no particular order. Eventually consistent: the item a Scan may miss or show
   * older is one written in the last second, and an unfinished job's older version is unfinished too (terminal
   * states are final), so a job that stays unfinished is found by this run or the next. `cursor` is the last
   * jobId of the previous page; an empty page may still have a cursor (the filter applies after the read).
   */
  /**
   * A page of the jobs with deliveries due (`notifyAt` set), from the table itself, as `unfinished` reads: the
   * notifier's sweep, the fallback of the jobs stream.
   */
  async withDeliveriesDue(cursor?: string): Promise<UnfinishedPage> {
    const out = await awsCall('DynamoDB Scan', () => this.db.send(
      new ScanCommand({
        TableName: this.table,
        FilterExpression: 'attribute_exists(#due)',
        ExpressionAttributeNames: { '#due': 'notifyAt' },
        ...(cursor !== undefined ? { ExclusiveStartKey: marshall({ jobId: cursor }) } : {}),
      }),
    ));
    const last = out.LastEvaluatedKey ? (unmarshall(out.LastEvaluatedKey) as { jobId?: unknown }).jobId : undefined;
    if (out.LastEvaluatedKey && typeof last !== 'string') throw new IntegrityError('DynamoDB answered a Scan LastEvaluatedKey without a jobId');
    return { jobs: (out.Items ?? []).map(toJob), ...(typeof last === 'string' ? { cursor: last } : {}) };
  }

  async unfinished(cursor?: string): Promise<UnfinishedPage> {
    const statuses = Object.fromEntries(ACTIVE_STATUSES.map((status, i) => [`:s${i}`, status]));
    const out = await awsCall('DynamoDB Scan', () => this.db.send(
      new ScanCommand({
        TableName: this.table,
        FilterExpression: `#status IN (${Object.keys(statuses).join(', ')}) OR attribute_exists(#wait)`,
        ExpressionAttributeNames: { '#status': 'status', '#wait': 'waitToken' },
        ExpressionAttributeValues: marshall(statuses),
        ...(cursor !== undefined ? { ExclusiveStartKey: marshall({ jobId: cursor }) } : {}),
      }),
    ));
    const last = out.LastEvaluatedKey ? (unmarshall(out.LastEvaluatedKey) as { jobId?: unknown }).jobId : undefined;
    if (out.LastEvaluatedKey && typeof last !== 'string') throw new IntegrityError('DynamoDB answered a Scan LastEvaluatedKey without a jobId');
    return { jobs: (out.Items ?? []).map(toJob), ...(typeof last === 'string' ? { cursor: last } : {}) };
  }

  /** The jobs that ended on `day` in [from, to], from the usage index: one Query page. */
  async usage(query: UsageQuery): Promise<{ entries: UsageEntry[]; cursor?: string }> {
    const out = await awsCall('DynamoDB Query', () => this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: USAGE_INDEX.name,
        KeyConditionExpression: '#day = :day AND #at BETWEEN :from AND :to',
        ExpressionAttributeNames: { '#day': USAGE_INDEX.partition, '#at': USAGE_INDEX.sort },
        ExpressionAttributeValues: marshall({ ':day': query.day, ':from': query.from, ':to': query.to }),
        ...(query.cursor !== undefined ? { ExclusiveStartKey: JSON.parse(Buffer.from(query.cursor, 'base64url').toString('utf8')) as Record<string, AttributeValue> } : {}),
      }),
    ));
    const entries = (out.Items ?? []).flatMap((item) => usageEntry(item) ?? []);
    return { entries, ...(out.LastEvaluatedKey ? { cursor: Buffer.from(JSON.stringify(out.LastEvaluatedKey), 'utf8').toString('base64url') } : {}) };
  }

  /**
   * The audit heads of jobs updated in (from, to], through the head-changes index (a few queries per hour of
   * the window); without `from`, of every job (the first digest), by a scan. A job may appear more than once
   * (an index entry may lag an update): the digest keeps the highest seq.
   */
  async changedHeads(window: { from?: Date; to: Date }): Promise<DigestEntry[]> {
    const heads: DigestEntry[] = [];
    const projection = { ProjectionExpression: 'jobId, auditSeq, auditHash' };
    const collect = (items: Record<string, AttributeValue>[] | undefined): void => {
      for (const item of items ?? []) {
        const { jobId, auditSeq, auditHash } = unmarshall(item) as Partial<Job>;
        if (typeof jobId === 'string' && typeof auditSeq === 'number' && typeof auditHash === 'string') heads.push({ chainId: jobId, seq: auditSeq, hash: auditHash });
      }
    };
    const { from, to } = window;
    if (!from) {
      let start: Record<string, AttributeValue> | undefined;
      do {
        const out = await awsCall('DynamoDB Scan', () => this.db.send(new ScanCommand({ TableName: this.table, ...projection, ConsistentRead: true, ExclusiveStartKey: start })));
        collect(out.Items);
        start = out.LastEvaluatedKey;
      } while (start);
      return heads;
    }
    for (const partition of headChangesKeys(from, to)) {
      let start: Record<string, AttributeValue> | undefined;
      do {
        const out = await awsCall('DynamoDB Query', () => this.db.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: HEAD_CHANGES_INDEX.name,
            KeyConditionExpression: '#pk = :pk AND updatedAt BETWEEN :from AND :to',
            ExpressionAttributeNames: { '#pk': HEAD_CHANGES_INDEX.partition },
            ExpressionAttributeValues: marshall({ ':pk': partition, ':from': from.toISOString(), ':to': to.toISOString() }),
            ...projection,
            ExclusiveStartKey: start,
          }),
        ));
        collect(out.Items);
        start = out.LastEvaluatedKey;
      } while (start);
    }
    return heads;
  }
}

/** A job item as the domain knows it: the head-changes index's key is the table's business, not the job's. */
function toJob(item: Record<string, AttributeValue>): Job {
  const { [HEAD_CHANGES_INDEX.partition]: _index, [USAGE_INDEX.partition]: _day, usageTags: _tags, ...job } = unmarshall(item);
  return job as Job;
}

/** The usage index's own attributes of a job: its day once it has ended, and its tags (fixed at submission) at the top. */
function usageAttributes(job: Job): Record<string, unknown> {
  return { ...(job.finishedAt ? { [USAGE_INDEX.partition]: job.finishedAt.slice(0, 10) } : {}), ...(job.request.tags ? { usageTags: job.request.tags } : {}) };
}

/** A usage index entry, if it is one (an index entry is read as it is: a planted or torn one is skipped). */
function usageEntry(item: Record<string, AttributeValue>): UsageEntry | undefined {
  const e = unmarshall(item) as Record<string, unknown>;
  const strings = ['jobId', 'status', 'principalArn', 'clusterId', 'executionRoleArn', 'finishedAt'] as const;
  if (!strings.every((k) => typeof e[k] === 'string')) return undefined;
  const seconds = typeof e.stepSeconds === 'number' && Number.isFinite(e.stepSeconds) && e.stepSeconds >= 0 ? { stepSeconds: e.stepSeconds } : {};
  const tags = e.usageTags && typeof e.usageTags === 'object' && Object.values(e.usageTags).every((v) => typeof v === 'string') ? { tags: e.usageTags as Record<string, string> } : {};
  return { ...(Object.fromEntries(strings.map((k) => [k, e[k]])) as Pick<UsageEntry, (typeof strings)[number]>), ...seconds, ...tags };
}

/** Whether a job, as the table holds it, is one the listing asks for (the index said so, and may be wrong). */
function matches(job: Job, query: ListQuery): boolean {
  return (query.principalArn === undefined || job.principalArn === query.principalArn)
    && (query.clusterId === undefined || job.clusterId === query.clusterId)
    && (query.status === undefined || job.status === query.status);
}

/** The index that serves a listing: by caller, else by cluster, else by status. */
function chooseIndex(query: ListQuery): { index: JobIndex; partition: string } {
  if (query.principalArn) return { index: 'byCaller', partition: query.principalArn };
  if (query.clusterId) return { index: 'byCluster', partition: query.clusterId };
  if (query.status) return { index: 'byStatus', partition: query.status };
  throw ValidationError.single('', 'list jobs by caller, cluster or status: give at least one');
}

/** The ExclusiveStartKey of a position (a listKey) in an index partition: the table key and the index key. */
function startKey(position: string | undefined, partitionAttribute: string, partition: string): Record<string, AttributeValue> | undefined {
  if (position === undefined) return undefined;
  const jobId = jobIdOfListKey(position);
  if (!jobId) throw ValidationError.single('nextToken', 'is not a position in a job listing');
  return marshall({ jobId, listKey: position, [partitionAttribute]: partition });
}

/** The position a LastEvaluatedKey names: its listKey. */
function positionOf(key: Record<string, AttributeValue>): string {
  const { listKey } = unmarshall(key) as { listKey?: unknown };
  if (typeof listKey !== 'string') throw new IntegrityError('DynamoDB answered a LastEvaluatedKey without a listKey');
  return listKey;
}
