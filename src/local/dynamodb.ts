/**
 * Local DynamoDB: dynalite, persisted in the data directory and served only in-process, by the AWS port
 * behind its browser guard. dynalite's own server answers any Host and any Origin and allows every CORS
 * preflight (`*`), so it gets no TCP port: a page could otherwise read every job and plant one that the
 * stack runs on its next start.
 */
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  type AttributeValue,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { closeSync, existsSync, fsyncSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dynalite from 'dynalite';
import { logger } from '../util/logger';

export interface LocalDynamo {
  /** dynalite's request handler, for the AWS port to call. */
  handle: RequestListener;
  /** Closes the database (its LevelDB lock is released, so the same directory can be opened again). */
  close(): Promise<void>;
}

/** Beyond this, a Unix socket path is silently cut short by the kernel (104 bytes on macOS, 108 on Linux). */
const MAX_SOCKET_PATH = 100;

export async function openLocalDynamo(path: string): Promise<LocalDynamo> {
  const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  // dynalite closes its LevelDB only from its server's close, which fails (and skips the database) on a server
  // that never listened. So it listens, but where no one can connect: a Unix socket in a fresh 0700 directory,
  // both removed again at once. Its requests never come through it.
  const dir = mkdtempSync(join(tmpdir(), 'emr-gateway-dynamodb-'));
  const socket = join(dir, 's');
  try {
    if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) throw new Error(`the temporary directory's path is too long for a Unix socket: ${socket} (set TMPDIR to a shorter one)`);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socket, () => resolve());
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    handle: (req, res) => server.emit('request', req, res),
    close: () =>
      new Promise<void>((resolve) =>
        server.close((error) => {
          if (error) logger.warn('local DynamoDB: closing the database failed', { error });
          resolve();
        }),
      ),
  };
}

/**
 * Creates a table, or brings one made by an older version of the stack up to `definition`'s indexes. dynalite
 * cannot add an index to a table, so the table is rebuilt: its items are saved to a file in the data directory
 * first (fsynced, renamed into place), the table deleted and created anew, the items put back, the file
 * removed. A crash anywhere in between resumes from the file at the next start: no item is lost.
 */
export async function ensureLocalTable(db: DynamoDBClient, definition: CreateTableCommandInput, dataDir: string): Promise<void> {
  const name = definition.TableName!;
  const saved = join(dataDir, `rebuild-${name}.json`);
  if (existsSync(saved)) return restoreTable(db, definition, saved);
  let existing: string[];
  try {
    const out = await db.send(new DescribeTableCommand({ TableName: name }));
    existing = (out.Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName ?? '');
  } catch (error) {
    if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
    await db.send(new CreateTableCommand(definition));
    return;
  }
  const missing = (definition.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName ?? '').filter((index) => !existing.includes(index));
  if (!missing.length) return;
  const items: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await db.send(new ScanCommand({ TableName: name, ConsistentRead: true, ExclusiveStartKey: start }));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  logger.info(`local DynamoDB: rebuilding table ${name} (${items.length} items) to add the ${missing.join(', ')} index${missing.length > 1 ? 'es' : ''}`);
  const temporary = `${saved}.tmp`;
  const fd = openSync(temporary, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(items));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, saved);
  await restoreTable(db, definition, saved);
}

async function restoreTable(db: DynamoDBClient, definition: CreateTableCommandInput, saved: string): Promise<void> {
  const items = JSON.parse(readFileSync(saved, 'utf8')) as Record<string, AttributeValue>[];
  try {
    await db.send(new DeleteTableCommand({ TableName: definition.TableName }));
  } catch (error) {
    if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
  }
  await db.send(new CreateTableCommand(definition));
  for (let i = 0; i < items.length; i += 25) {
    let batch: WriteRequest[] = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    while (batch.length) {
      const out = await db.send(new BatchWriteItemCommand({ RequestItems: { [definition.TableName!]: batch } }));
      batch = out.UnprocessedItems?.[definition.TableName!] ?? [];
    }
  }
  rmSync(saved);
}

/**
 * Writes each job's item again, unchanged (a PutItem conditional on the version read, so a job that changed since
 * is left alone: that change wrote its entries), so that dynalite puts every index entry of the item again. A kill
 * between dynalite's index writes and its item write can delete a job's entries under the keys that were changing
 * without writing the new ones: the job is then in no status listing. Ghost entries (of states the item never
 * reached) stay; listings read every entry through to its item and drop them.
 */
export async function repairJobIndexes(db: DynamoDBClient, table: string, jobIds: readonly string[]): Promise<void> {
  for (const jobId of jobIds) {
    const { Item } = await db.send(new GetItemCommand({ TableName: table, Key: { jobId: { S: jobId } }, ConsistentRead: true }));
    const version = Item?.version;
    if (!Item || !version) continue;
    try {
      await db.send(new PutItemCommand({ TableName: table, Item, ConditionExpression: '#v = :v', ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':v': version } }));
    } catch (error) {
      if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
    }
  }
}
