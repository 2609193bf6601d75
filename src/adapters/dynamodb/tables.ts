/** The DynamoDB tables, defined once: the local stack and the tests create them from here, serverless.yml mirrors them. */
import { CreateTableCommand, type CreateTableCommandInput, type DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { createHash } from 'node:crypto';

/** The jobs table's list indexes: name → partition attribute. Sort key `listKey` in all. */
export const JOB_INDEXES = {
  byCaller: 'principalArn',
  byStatus: 'status',
  byCluster: 'clusterId',
} as const;
export type JobIndex = keyof typeof JOB_INDEXES;

/**
 * The index the audit digester reads: jobs by the hour (and one of a few shards, so a busy hour's writes
 * spread over several index partitions) of their last update, sorted by updatedAt. Every update rewrites the
 * partition attribute, so a job sits under the hour it last changed in.
 */
export const HEAD_CHANGES_INDEX = { name: 'byUpdateHour', partition: 'updateHour', sort: 'updatedAt', shards: 8 } as const;

/** The head-changes partition of a job updated at `updatedAt` (ISO): `2026-12-02T01#5`. */
export function headChangesKey(jobId: string, updatedAt: string): string {
  const shard = createHash('sha256').update(jobId).digest()[0]! % HEAD_CHANGES_INDEX.shards;
  return `${updatedAt.slice(0, 13)}#${shard}`;
}

/** Every head-changes partition holding updates in [from, to]. */
export function headChangesKeys(from: Date, to: Date): string[] {
  const keys: string[] = [];
  const hour = new Date(from);
  hour.setUTCMinutes(0, 0, 0);
  for (; hour.getTime() <= to.getTime(); hour.setUTCHours(hour.getUTCHours() + 1)) {
    for (let shard = 0; shard < HEAD_CHANGES_INDEX.shards; shard++) keys.push(`${hour.toISOString().slice(0, 13)}#${shard}`);
  }
  return keys;
}

/**
 * Interactive sessions live in the jobs table too (their own id prefix, `ses-`), so that the digests of the chain heads
 * cover them through the head-changes index as they cover jobs. A session has no listKey, so no job listing's index
 * holds it, and its status is no job state, so no unfinished-job scan takes it; this index lists one owner's sessions,
 * newest first (jobs have no sessionKey, so it holds no job).
 */
export const SESSION_INDEX = { name: 'sessionsByCaller', partition: 'principalArn', sort: 'sessionKey' } as const;

/**
 * GET /usage's index: the jobs that have ended, by the UTC day they ended (a partition per day), sorted by the end; a
 * job gets its `finishDay` when it ends (the job store writes it with finishedAt), so no running job is in it. Only
 * what a usage report counts is projected: the index stays small, and no request leaves the table.
 */
export const USAGE_INDEX = { name: 'byFinishDay', partition: 'finishDay', sort: 'finishedAt', attributes: ['status', 'principalArn', 'clusterId', 'executionRoleArn', 'stepSeconds', 'usageTags'] } as const;

export function jobsTable(name: string): CreateTableCommandInput {
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: [{ AttributeName: 'jobId', KeyType: 'HASH' }],
    AttributeDefinitions: [
      { AttributeName: 'jobId', AttributeType: 'S' },
      { AttributeName: 'listKey', AttributeType: 'S' },
      ...Object.values(JOB_INDEXES).map((attribute) => ({ AttributeName: attribute, AttributeType: 'S' as const })),
      { AttributeName: HEAD_CHANGES_INDEX.partition, AttributeType: 'S' },
      { AttributeName: HEAD_CHANGES_INDEX.sort, AttributeType: 'S' },
      { AttributeName: SESSION_INDEX.sort, AttributeType: 'S' },
      { AttributeName: USAGE_INDEX.partition, AttributeType: 'S' },
      { AttributeName: USAGE_INDEX.sort, AttributeType: 'S' },
    ],
    GlobalSecondaryIndexes: [
      ...Object.entries(JOB_INDEXES).map(([index, attribute]) => ({
        IndexName: index,
        KeySchema: [
          { AttributeName: attribute, KeyType: 'HASH' as const },
          { AttributeName: 'listKey', KeyType: 'RANGE' as const },
        ],
        Projection: { ProjectionType: 'ALL' as const },
      })),
      {
        IndexName: HEAD_CHANGES_INDEX.name,
        KeySchema: [
          { AttributeName: HEAD_CHANGES_INDEX.partition, KeyType: 'HASH' },
          { AttributeName: HEAD_CHANGES_INDEX.sort, KeyType: 'RANGE' },
        ],
        // Only what a digest records: the index stays small, and a job's request never leaves the table.
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['auditSeq', 'auditHash'] },
      },
      {
        IndexName: SESSION_INDEX.name,
        KeySchema: [
          { AttributeName: SESSION_INDEX.partition, KeyType: 'HASH' },
          { AttributeName: SESSION_INDEX.sort, KeyType: 'RANGE' },
        ],
        // A session is written once, whole: the listing reads it from the index.
        Projection: { ProjectionType: 'ALL' },
      },
      {
        IndexName: USAGE_INDEX.name,
        KeySchema: [
          { AttributeName: USAGE_INDEX.partition, KeyType: 'HASH' },
          { AttributeName: USAGE_INDEX.sort, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...USAGE_INDEX.attributes] },
      },
    ],
  };
}

export function auditTable(name: string): CreateTableCommandInput {
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: [
      { AttributeName: 'jobId', KeyType: 'HASH' },
      { AttributeName: 'seq', KeyType: 'RANGE' },
    ],
    AttributeDefinitions: [
      { AttributeName: 'jobId', AttributeType: 'S' },
      { AttributeName: 'seq', AttributeType: 'N' },
    ],
  };
}

/**
 * Creates a table and returns once it is ACTIVE. CreateTable answers while the table is still CREATING (in
 * DynamoDB, and in dynalite until its timer fires), and a write in between is answered ResourceNotFoundException;
 * the SDK's own waiter polls DescribeTable, first at once, so an already ACTIVE table costs one call.
 */
export async function createTable(db: DynamoDBClient, table: CreateTableCommandInput): Promise<void> {
  await db.send(new CreateTableCommand(table));
  await waitUntilTableExists({ client: db, maxWaitTime: 120, minDelay: 0.02, maxDelay: 1 }, { TableName: table.TableName });
}
