/** The DynamoDB tables, defined once: the local stack and the tests create them from here, serverless.yml mirrors them. */
import { CreateTableCommand, type CreateTableCommandInput, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { errorName } from '../aws-errors';

/** The jobs table's list indexes: name → partition attribute. Sort key `listKey` in all. */
export const JOB_INDEXES = {
  byCaller: 'principalArn',
  byStatus: 'status',
  byCluster: 'clusterId',
} as const;
export type JobIndex = keyof typeof JOB_INDEXES;

export function jobsTable(name: string): CreateTableCommandInput {
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: [{ AttributeName: 'jobId', KeyType: 'HASH' }],
    AttributeDefinitions: [
      { AttributeName: 'jobId', AttributeType: 'S' },
      { AttributeName: 'listKey', AttributeType: 'S' },
      ...Object.values(JOB_INDEXES).map((attribute) => ({ AttributeName: attribute, AttributeType: 'S' as const })),
    ],
    GlobalSecondaryIndexes: Object.entries(JOB_INDEXES).map(([index, attribute]) => ({
      IndexName: index,
      KeySchema: [
        { AttributeName: attribute, KeyType: 'HASH' as const },
        { AttributeName: 'listKey', KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'ALL' as const },
    })),
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

/** Creates a table unless it exists (the local stack and the tests; in AWS CloudFormation creates them). */
export async function ensureTable(db: DynamoDBClient, table: CreateTableCommandInput): Promise<void> {
  try {
    await db.send(new CreateTableCommand(table));
  } catch (error) {
    if (errorName(error) !== 'ResourceInUseException') throw error;
  }
}
