/** The DynamoDB tables, defined once: the local stack and the tests create them from here, serverless.yml mirrors them. */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { JOB_INDEXES } from '../jobs/store';

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
