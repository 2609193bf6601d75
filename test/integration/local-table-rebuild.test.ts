/**
 * A data directory from an older stack: its jobs table lacks an index this version needs (dynalite cannot add
 * one). ensureLocalTable rebuilds the table without losing an item, and a crash in the middle of the rebuild
 * resumes from the saved items at the next start.
 */
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AttributeValue, DeleteTableCommand, DescribeTableCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { createTable, HEAD_CHANGES_INDEX, jobsTable } from '../../src/adapters/dynamodb/tables';
import { ensureLocalTable } from '../../src/local/dynamodb';
import { startDynamo, type TestDynamo } from '../support/dynamo';

let dynamo: TestDynamo;
beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(() => dynamo.stop());

const oldDefinition = (name: string) => {
  const current = jobsTable(name);
  return { ...current, GlobalSecondaryIndexes: current.GlobalSecondaryIndexes!.filter((i) => i.IndexName !== HEAD_CHANGES_INDEX.name), AttributeDefinitions: current.AttributeDefinitions!.filter((a) => a.AttributeName !== HEAD_CHANGES_INDEX.partition && a.AttributeName !== 'updatedAt') };
};
const item = (i: number) => marshall({ jobId: `j-${i}`, listKey: `2026-01-01T00:00:00.000Z#j-${i}`, principalArn: 'p', status: 'COMPLETED', clusterId: 'c', payload: 'x'.repeat(100) });
const indexes = async (name: string) => ((await dynamo.client.send(new DescribeTableCommand({ TableName: name }))).Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName).sort();
const count = async (name: string) => {
  let n = 0;
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await dynamo.client.send(new ScanCommand({ TableName: name, ExclusiveStartKey: start }));
    n += out.Count ?? 0;
    start = out.LastEvaluatedKey;
  } while (start);
  return n;
};

it('adds the missing index to a table of an older version, keeping every item', async () => {
  const name = `old-jobs-${process.pid}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'rebuild-'));
  await createTable(dynamo.client, oldDefinition(name));
  for (let i = 0; i < 60; i++) await dynamo.client.send(new PutItemCommand({ TableName: name, Item: item(i) }));
  expect(await indexes(name)).not.toContain(HEAD_CHANGES_INDEX.name);
  await ensureLocalTable(dynamo.client, jobsTable(name), dataDir);
  expect(await indexes(name)).toEqual(jobsTable(name).GlobalSecondaryIndexes!.map((i) => i.IndexName).sort());
  expect(await count(name)).toBe(60);
  expect(existsSync(join(dataDir, `rebuild-${name}.json`))).toBe(false);
  // Up to date now: a second start changes nothing.
  await ensureLocalTable(dynamo.client, jobsTable(name), dataDir);
  expect(await count(name)).toBe(60);
});

it('a crash after the table was deleted loses nothing: the next start restores from the saved items', async () => {
  const name = `crashed-jobs-${process.pid}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'rebuild-'));
  await createTable(dynamo.client, oldDefinition(name));
  // What the rebuild had done when it was killed: items saved, table deleted, not yet created again.
  writeFileSync(join(dataDir, `rebuild-${name}.json`), JSON.stringify(Array.from({ length: 30 }, (_, i) => item(i))));
  await dynamo.client.send(new DeleteTableCommand({ TableName: name }));
  await ensureLocalTable(dynamo.client, jobsTable(name), dataDir);
  expect(await count(name)).toBe(30);
  expect(await indexes(name)).toContain(HEAD_CHANGES_INDEX.name);
});
