/**
 * The local DynamoDB (dynalite on LevelDB, src/local/dynamodb.ts) closes the LevelDB iterator of every read that
 * walks a range (Query, Scan, ListTables), whether it read to the end or stopped at its Limit (issue 11 item 8).
 * An iterator left open holds native memory (and pins the memtables and table files it was opened on) until the
 * database closes, so the stack's resident memory grew with every request. Counted in open iterators, never
 * in bytes: the ones LevelDB's wrapper attaches to the database and detaches when they close.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand, PutItemCommand, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { createTable } from '../../src/adapters/dynamodb/tables';
import { openLocalDynamo, type LocalDynamo } from '../../src/local/dynamodb';

jest.setTimeout(60_000);

/** The resources (iterators) attached to any LevelDB database of dynalite's `level`, and not detached yet. */
const open = new Set<object>();
interface Resources {
  attachResource: (this: Resources, resource: object) => void;
  detachResource: (this: Resources, resource: object) => void;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports -- dynalite's own copy of `level`, found at run time
const { Level } = require(require.resolve('level', { paths: [dirname(require.resolve('dynalite'))] })) as { Level: { prototype: Resources } };
const abstractLevel = Object.getPrototypeOf(Level.prototype) as Resources;
const { attachResource, detachResource } = abstractLevel;
beforeAll(() => {
  abstractLevel.attachResource = function (this: Resources, resource) {
    open.add(resource);
    attachResource.call(this, resource);
  };
  abstractLevel.detachResource = function (this: Resources, resource) {
    open.delete(resource);
    detachResource.call(this, resource);
  };
});
afterAll(() => Object.assign(abstractLevel, { attachResource, detachResource }));

let dir: string;
let dynamo: LocalDynamo;
let server: Server;
let db: DynamoDBClient;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emr-gateway-iterators-'));
  dynamo = await openLocalDynamo(join(dir, 'db'));
  server = createServer((req, res) => dynamo.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  db = new DynamoDBClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
});
afterAll(async () => {
  db.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await dynamo.close();
  rmSync(dir, { recursive: true, force: true });
});

const TABLE = 'iterators';
const byStatus = { TableName: TABLE, IndexName: 'byStatus', KeyConditionExpression: '#s = :s', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':s': { S: 'RUNNING' } } };

it('every Query, Scan and ListTables closes its iterator, read to the end or stopped at its Limit', async () => {
  await createTable(db, {
    TableName: TABLE,
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'N' }, { AttributeName: 'status', AttributeType: 'S' }],
    GlobalSecondaryIndexes: [{ IndexName: 'byStatus', KeySchema: [{ AttributeName: 'status', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }], Projection: { ProjectionType: 'KEYS_ONLY' } }],
    BillingMode: 'PAY_PER_REQUEST',
  });
  for (let i = 0; i < 20; i++) await db.send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: 'jobs' }, sk: { N: String(i) }, status: { S: 'RUNNING' } } }));
  const before = open.size;

  for (let i = 0; i < 25; i++) {
    await db.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'jobs' } } }));
    await db.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'jobs' } }, Limit: 1 }));
    await db.send(new QueryCommand(byStatus));
    await db.send(new QueryCommand({ ...byStatus, Limit: 2 }));
    await db.send(new ScanCommand({ TableName: TABLE, Limit: 5 }));
    await db.send(new ListTablesCommand({}));
  }
  // Closing is asynchronous: whatever closes does so within moments of the answer.
  for (let i = 0; i < 50 && open.size > before; i++) await new Promise((r) => setTimeout(r, 10));
  expect(open.size - before).toBe(0);
});
