/**
 * Jobs in DynamoDB: one item per job, created once (conditional put), then changed only with optimistic
 * concurrency on `version`. Three sparse-free indexes list jobs newest first by caller, status and cluster,
 * so no listing ever scans the table; one list call is one Query.
 */
import {
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { IntegrityError, JobConflictError, ValidationError } from '../../errors';
import { jobIdOfListKey, type Job } from '../../jobs/model';
import type { JobChanges, JobPage, JobRepository, ListQuery } from '../../jobs/ports';
import { awsCall, isConditionalCheckFailed, translateAwsError } from '../aws-errors';
import { HEAD_CHANGES_INDEX, JOB_INDEXES, headChangesKey, headChangesKeys, type JobIndex } from './tables';
import type { DigestEntry } from '../../audit/digest';

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
          Item: marshall({ ...job, [HEAD_CHANGES_INDEX.partition]: headChangesKey(job.jobId, job.updatedAt) }, { removeUndefinedValues: true, convertClassInstanceToMap: true }),
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

  /**
   * Read-modify-write with retries: `change` sees the current job and returns the changes to make, or
   * undefined for none (e.g. the job is already terminal). Returns the job as it then is.
   */
  async transition(jobId: string, change: (job: Job) => JobChanges | undefined): Promise<Job> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const job = await this.get(jobId);
      if (!job) throw new JobConflictError(`job ${jobId} does not exist`);
      const changes = change(job);
      if (!changes) return job;
      const updated = await this.update(job, changes);
      if (updated) return updated;
    }
    throw new JobConflictError(`job ${jobId} changed too often to update`);
  }

  /**
   * One Query, newest first, through the index that fits the filters; the other filters apply on the way, after
   * `limit` items are read (DynamoDB's Limit), so a page may be short or empty with more after it.
   */
  async list(query: ListQuery): Promise<JobPage> {
    const { index, partition } = chooseIndex(query);
    const values: Record<string, unknown> = { ':pk': partition, ':from': query.from ?? '0', ':to': `${query.to ?? '9999'}~` };
    const filters: string[] = [];
    const names: Record<string, string> = { '#pk': JOB_INDEXES[index] };
    if (query.status && index !== 'byStatus') {
      filters.push('#status = :status');
      names['#status'] = 'status';
      values[':status'] = query.status;
    }
    if (query.clusterId && index !== 'byCluster') {
      filters.push('clusterId = :cluster');
      values[':cluster'] = query.clusterId;
    }
    const out = await awsCall('DynamoDB Query', () => this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: index,
        KeyConditionExpression: '#pk = :pk AND listKey BETWEEN :from AND :to',
        ...(filters.length ? { FilterExpression: filters.join(' AND ') } : {}),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: marshall(values),
        ScanIndexForward: false,
        Limit: query.limit,
        ExclusiveStartKey: startKey(query.nextToken, JOB_INDEXES[index], partition),
      }),
    ));
    const jobs = (out.Items ?? []).map(toJob);
    return { jobs, ...(out.LastEvaluatedKey ? { nextToken: positionOf(out.LastEvaluatedKey) } : {}) };
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
  const { [HEAD_CHANGES_INDEX.partition]: _index, ...job } = unmarshall(item);
  return job as Job;
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
