/**
 * Each cluster's admission record in the jobs table, one item keyed `que-CLUSTER` (sessions use `ses-` there too).
 * Every entry is a top-level attribute (`A:JOBID` active, `Q:JOBID` queued) beside counters kept in the same write
 * (`active`, `queued`, and per group `A@GROUP`, `Q@GROUP`, and `L@GROUP` its last admission), so each change is ONE UpdateItem whose condition holds
 * the limits: no read-modify-write, no version to race on, and no number of racing writers can exceed a capacity.
 * The item has no status, listKey or updateHour: no job index, unfinished-job scan or digest reads it.
 */
import { GetItemCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { QueueStore } from '../../jobs/ports';
import type { ActiveEntry, AdmissionLimits, ClusterQueue, QueuedEntry } from '../../jobs/queue';
import { awsCall, isConditionalCheckFailed, translateAwsError } from '../aws-errors';

const KEY = 'jobId';
export const QUEUE_ITEM_PREFIX = 'que-';
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const GROUP = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const JOB = /^[A-Za-z0-9_.:-]{1,128}$/;

/** The record as an item holds it. A record is only data in a table: an entry of another shape (planted, or torn) is not trusted as a place. */
function queueOf(clusterId: string, item: Record<string, AttributeValue> | undefined): ClusterQueue {
  const queue: ClusterQueue = { clusterId, active: {}, queued: {} };
  if (!item) return queue;
  for (const [name, value] of Object.entries(unmarshall(item))) {
    if (name.startsWith('L@') && GROUP.test(name.slice(2)) && typeof value === 'string' && ISO.test(value)) {
      (queue.lastAdmitted ??= {})[name.slice(2)] = value;
      continue;
    }
    const kind = name.slice(0, 2);
    const jobId = name.slice(2);
    if ((kind !== 'A:' && kind !== 'Q:') || !JOB.test(jobId) || !value || typeof value !== 'object') continue;
    const { group, at, priority } = value as Record<string, unknown>;
    if (typeof group !== 'string' || !GROUP.test(group) || typeof at !== 'string' || !ISO.test(at)) continue;
    if (kind === 'A:') queue.active[jobId] = { group, at };
    else if (typeof priority === 'number' && Number.isInteger(priority) && priority >= 0 && priority <= 9) queue.queued[jobId] = { group, priority, at };
  }
  return queue;
}

/** DynamoDB compares with numbers only: an unlimited group limit is the largest the queue could ever hold. */
const bound = (limit: number): number => (Number.isFinite(limit) ? limit : 1_000_000);

const written = (answer: object | undefined): boolean => answer !== undefined;

export class DynamoQueueStore implements QueueStore {
  constructor(
    private readonly db: DynamoDBClient,
    /** The jobs table. */
    private readonly table: string,
  ) {}

  async read(clusterId: string): Promise<ClusterQueue> {
    const out = await awsCall('DynamoDB GetItem', () => this.db.send(new GetItemCommand({ TableName: this.table, Key: marshall({ [KEY]: QUEUE_ITEM_PREFIX + clusterId }), ConsistentRead: true })));
    return queueOf(clusterId, out.Item);
  }

  async startAtOnce(clusterId: string, jobId: string, entry: ActiveEntry, limits: AdmissionLimits): Promise<boolean> {
    return written(await this.write(clusterId, {
      UpdateExpression: 'SET #a = :entry, active = if_not_exists(active, :zero) + :one, #ga = if_not_exists(#ga, :zero) + :one, #la = :at',
      ConditionExpression:
        'attribute_not_exists(#a) AND attribute_not_exists(#q) AND (attribute_not_exists(queued) OR queued = :zero) ' +
        'AND (attribute_not_exists(active) OR active < :cap) AND (attribute_not_exists(#ga) OR #ga < :gcap)',
      ExpressionAttributeNames: { '#a': `A:${jobId}`, '#q': `Q:${jobId}`, '#ga': `A@${entry.group}`, '#la': `L@${entry.group}` },
      ExpressionAttributeValues: marshall({ ':entry': { group: entry.group, at: entry.at }, ':at': entry.at, ':zero': 0, ':one': 1, ':cap': limits.clusterActive, ':gcap': bound(limits.groupActive) }),
    }));
  }

  async enqueue(clusterId: string, jobId: string, entry: QueuedEntry, limits: AdmissionLimits): Promise<boolean> {
    return written(await this.write(clusterId, {
      UpdateExpression: 'SET #q = :entry, queued = if_not_exists(queued, :zero) + :one, #gq = if_not_exists(#gq, :zero) + :one',
      ConditionExpression: 'attribute_not_exists(#a) AND attribute_not_exists(#q) AND (attribute_not_exists(queued) OR queued < :cap) AND (attribute_not_exists(#gq) OR #gq < :gcap)',
      ExpressionAttributeNames: { '#a': `A:${jobId}`, '#q': `Q:${jobId}`, '#gq': `Q@${entry.group}` },
      ExpressionAttributeValues: marshall({ ':entry': { group: entry.group, priority: entry.priority, at: entry.at }, ':zero': 0, ':one': 1, ':cap': limits.clusterQueued, ':gcap': bound(limits.groupQueued) }),
    }));
  }

  async promote(clusterId: string, jobId: string, group: string, at: string, limits: AdmissionLimits): Promise<boolean> {
    return written(await this.write(clusterId, {
      UpdateExpression: 'REMOVE #q SET #a = :entry, queued = queued - :one, #gq = #gq - :one, active = if_not_exists(active, :zero) + :one, #ga = if_not_exists(#ga, :zero) + :one, #la = :at',
      ConditionExpression: 'attribute_exists(#q) AND #q.#group = :group AND (attribute_not_exists(active) OR active < :cap) AND (attribute_not_exists(#ga) OR #ga < :gcap)',
      ExpressionAttributeNames: { '#a': `A:${jobId}`, '#q': `Q:${jobId}`, '#ga': `A@${group}`, '#gq': `Q@${group}`, '#la': `L@${group}`, '#group': 'group' },
      ExpressionAttributeValues: marshall({ ':entry': { group, at }, ':at': at, ':group': group, ':zero': 0, ':one': 1, ':cap': limits.clusterActive, ':gcap': bound(limits.groupActive) }),
    }));
  }

  async remove(clusterId: string, jobId: string, where: 'active' | 'queued', group: string): Promise<ClusterQueue | undefined> {
    const [entry, total, ofGroup] = where === 'active' ? [`A:${jobId}`, 'active', `A@${group}`] : [`Q:${jobId}`, 'queued', `Q@${group}`];
    const after = await this.write(clusterId, {
      // The counters move only with an entry of this group (the condition), so they always count the entries.
      UpdateExpression: 'REMOVE #e SET #t = #t - :one, #g = #g - :one',
      ConditionExpression: 'attribute_exists(#e) AND #e.#group = :group',
      ExpressionAttributeNames: { '#e': entry, '#t': total, '#g': ofGroup, '#group': 'group' },
      ExpressionAttributeValues: marshall({ ':one': 1, ':group': group }),
      // The record after the removal, from the same write: whoever frees a slot fills it without reading again.
      ReturnValues: 'ALL_NEW',
    });
    if (!after) return undefined;
    // DynamoDB answers ALL_NEW with the item; a store that answered without it is read, rather than taken as empty.
    return after.Attributes ? queueOf(clusterId, after.Attributes) : this.read(clusterId);
  }

  /** The conditional update: its answer (with the item after it, if it asked for it), or undefined if the condition failed. */
  private async write(clusterId: string, update: Pick<ConstructorParameters<typeof UpdateItemCommand>[0], 'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues' | 'ReturnValues'>): Promise<{ Attributes?: Record<string, AttributeValue> } | undefined> {
    try {
      return await this.db.send(new UpdateItemCommand({ TableName: this.table, Key: marshall({ [KEY]: QUEUE_ITEM_PREFIX + clusterId }), ...update }));
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw translateAwsError('DynamoDB UpdateItem', error);
    }
  }
}
