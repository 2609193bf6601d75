/**
 * The local DynamoDB (dynalite on LevelDB, src/local/dynamodb.ts) when its data directory runs out of space,
 * for real: a small tmpfs filled up. A write that cannot be made is a DynamoDB InternalServerError (500, which
 * the SDK retries), never an uncaught exception; reads go on; once there is space again writes resume by
 * themselves, and every write that was acknowledged is there, also after a restart.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { createTable } from '../../src/adapters/dynamodb/tables';
import { openLocalDynamo, type LocalDynamo } from '../../src/local/dynamodb';
import { fillDisk, mountTmpfs } from '../support/tmpfs';

jest.setTimeout(60_000);

const mount = mountTmpfs('4m');
const maybe = mount.ok ? it : it.skip;
const skipped = mount.ok ? '' : ` [skipped: ${mount.reason}]`;
afterAll(() => {
  if (mount.ok) mount.unmount();
});

const TABLE = 'disk-full';
let dynamo: LocalDynamo | undefined;
let server: Server | undefined;

async function open(dir: string): Promise<DynamoDBClient> {
  dynamo = await openLocalDynamo(join(dir, 'db'), { recoverEveryMs: 100 });
  const db = dynamo;
  server = createServer((req, res) => db.handle(req, res));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return new DynamoDBClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${port}`, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
}

async function close(): Promise<void> {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await dynamo?.close();
  server = undefined;
  dynamo = undefined;
}
afterEach(close);

const item = (i: number) => ({ pk: { S: 'jobs' }, sk: { N: String(i) }, body: { S: `item ${i} `.padEnd(1_000, '.') } });
const put = (db: DynamoDBClient, i: number) => db.send(new PutItemCommand({ TableName: TABLE, Item: item(i), ConditionExpression: 'attribute_not_exists(pk)' }));
const count = async (db: DynamoDBClient) => {
  let total = 0;
  let start: QueryCommand['input']['ExclusiveStartKey'];
  do {
    const out = await db.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'jobs' } }, ConsistentRead: true, ExclusiveStartKey: start }));
    total += out.Count ?? 0;
    start = out.LastEvaluatedKey;
  } while (start);
  return total;
};

maybe(`no space left: writes answer InternalServerError (500, retryable), reads go on, writes resume once space is back, nothing acknowledged is lost${skipped}`, async () => {
  if (!mount.ok) return;
  const db = await open(mount.dir);
  await createTable(db, {
    TableName: TABLE,
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'N' }],
    BillingMode: 'PAY_PER_REQUEST',
  });
  for (let i = 0; i < 20; i++) await put(db, i);
  const filler = join(mount.dir, 'filler');
  fillDisk(filler);

  // Writes until the disk refuses one: each acknowledged write counts.
  let acknowledged = 20;
  let refusal: unknown;
  for (let i = 20; i < 5_000 && refusal === undefined; i++) {
    try {
      await put(db, i);
      acknowledged++;
    } catch (error) {
      refusal = error;
    }
  }
  expect(refusal).toMatchObject({ name: 'InternalServerError', $metadata: { httpStatusCode: 500 } });
  expect((refusal as Error).message).toMatch(/^the local DynamoDB cannot write to its data directory .*No space left on device/);
  expect(dynamo!.writesRefused).toMatch(/No space left on device/);

  // The same write again: refused at once, the same way; reads are answered.
  await expect(put(db, acknowledged)).rejects.toMatchObject({ name: 'InternalServerError', $metadata: { httpStatusCode: 500 } });
  expect((await db.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'jobs' }, sk: { N: '3' } }, ConsistentRead: true }))).Item).toEqual(item(3));
  expect(await count(db)).toBe(acknowledged);

  // Space again: writes resume by themselves (the store is reopened), and nothing acknowledged is missing.
  rmSync(filler);
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await put(db, acknowledged);
      acknowledged++;
      break;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  expect(dynamo!.writesRefused).toBeUndefined();
  for (let i = 0; i < 10; i++) await put(db, acknowledged++);
  expect(await count(db)).toBe(acknowledged);

  // And after a restart.
  await close();
  const again = await open(mount.dir);
  expect(await count(again)).toBe(acknowledged);
  expect((await again.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'jobs' }, sk: { N: String(acknowledged - 1) } }, ConsistentRead: true }))).Item).toEqual(item(acknowledged - 1));
});
