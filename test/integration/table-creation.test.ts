/**
 * CreateTable answers while the table is still CREATING, in DynamoDB and in dynalite alike (dynalite flips it to
 * ACTIVE on a timer, even at createTableMs 0); a write in between is answered ResourceNotFoundException. CI
 * met that race on a busy machine (a Put right after CreateTable). Whoever creates a table waits for it to be
 * ACTIVE before using it: the local stack at start, its table rebuild, and the tests' tables.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { auditTable, createTable, jobsTable } from '../../src/adapters/dynamodb/tables';
import { ensureLocalTable } from '../../src/local/dynamodb';

jest.setTimeout(30_000);

/** A dynalite whose tables take 300 ms to become ACTIVE, as a busy machine makes them take. */
let server: ReturnType<typeof dynalite>;
let db: DynamoDBClient;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emr-gateway-create-'));
  server = dynalite({ createTableMs: 300, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  db = new DynamoDBClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
});
afterAll(async () => {
  db.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

const putAudit = (table: string) => db.send(new PutItemCommand({ TableName: table, Item: { jobId: { S: 'job-1' }, seq: { N: '0' } } }));

it('createTable returns once the table is ACTIVE: a write right after it lands', async () => {
  const definition = auditTable('created');
  await createTable(db, definition);
  await expect(putAudit('created')).resolves.toBeDefined();
});

it('the local stack\'s ensureLocalTable returns once its new table is ACTIVE', async () => {
  await ensureLocalTable(db, auditTable('ensured'), dir);
  await expect(putAudit('ensured')).resolves.toBeDefined();
  await ensureLocalTable(db, jobsTable('ensured-jobs'), dir);
  await expect(db.send(new PutItemCommand({ TableName: 'ensured-jobs', Item: { jobId: { S: 'job-1' } } }))).resolves.toBeDefined();
});

it('a table rebuilt to add an index takes its items back once the new table is ACTIVE', async () => {
  const { GlobalSecondaryIndexes: _indexes, ...older } = jobsTable('rebuilt');
  await createTable(db, { ...older, AttributeDefinitions: [{ AttributeName: 'jobId', AttributeType: 'S' }] });
  await db.send(new PutItemCommand({ TableName: 'rebuilt', Item: { jobId: { S: 'job-1' } } }));
  await ensureLocalTable(db, jobsTable('rebuilt'), dir);
  const { Items } = await db.send(new ScanCommand({ TableName: 'rebuilt' }));
  expect(Items?.map((item) => item.jobId?.S)).toEqual(['job-1']);
});
