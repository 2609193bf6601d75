/**
 * Local DynamoDB: dynalite, persisted in the data directory and served only in-process, by the AWS port
 * behind its browser guard. dynalite's own server answers any Host and any Origin and allows every CORS
 * preflight (`*`), so it gets no TCP port: a page could otherwise read every job and plant one that the
 * stack runs on its next start.
 *
 * A data directory that cannot be written (no space left, a read-only or unwritable file system) is an error
 * of the requests, not of the process: dynalite throws LevelDB's write errors out of its callbacks, which would
 * end the stack, so they are turned into DynamoDB's InternalServerError (500, which the SDKs retry) on their way
 * up. LevelDB refuses every write after one has failed, until it is opened again, so from the first failure on
 * writes are refused here at once (the same 500), reads go on, and every `recoverEveryMs` the directory is tried:
 * once it takes a file the size of LevelDB's log again, the database is closed and reopened (requests wait the
 * few milliseconds that takes) and writes resume. Every acknowledged write is in LevelDB's log, so nothing
 * acknowledged is lost; a refused one left at most a torn record at the log's end, which reopening drops.
 */
import {
  BatchWriteItemCommand,
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
import { closeSync, existsSync, fsyncSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import type { RequestListener, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { crc32 } from 'node:zlib';
import { dirname, join, resolve } from 'node:path';
import dynalite from 'dynalite';
import { createTable } from '../adapters/dynamodb/tables';
import { eachLimited } from '../util/concurrency';
import { logger } from '../util/logger';
import { hasRoom, WriteOutage } from './write-outage';

export interface LocalDynamo {
  /** dynalite's request handler, for the AWS port to call. */
  handle: RequestListener;
  /** Closes the database (its LevelDB lock is released, so the same directory can be opened again). */
  close(): Promise<void>;
  /** Why writes are refused (the data directory could not be written), while they are; undefined otherwise. */
  readonly writesRefused: string | undefined;
}

export interface LocalDynamoOptions {
  /** While writes are refused, how often the data directory is tried again (default 1 s). */
  recoverEveryMs?: number;
  /** Where the tables are (the config's): their ARNs say so. dynalite's own come from AWS_* variables or 000000000000. */
  arns?: { partition: string; region: string; account: string };
}

/** Operations whose answer describes a table (TableDescription, or Table for DescribeTable). */
const DESCRIBES_TABLE = new Set(['CreateTable', 'DescribeTable', 'UpdateTable', 'DeleteTable']);

/**
 * A table description as DynamoDB writes it: its ARNs (the table's, its indexes', its stream's) in the
 * stack's account and region, and without dynalite's TableThroughputModeSummary, a member DynamoDB does not
 * have (BillingModeSummary says the same).
 */
export function fixTableDescription(body: string, arns: NonNullable<LocalDynamoOptions['arns']>): string {
  let parsed: Record<string, Record<string, unknown> | undefined>;
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    return body;
  }
  const table = parsed.TableDescription ?? parsed.Table;
  if (!table) return body;
  delete table.TableThroughputModeSummary;
  return JSON.stringify(parsed).replace(/"arn:[^:"]*:dynamodb:[^:"]*:[^:"]*:table\//g, `"arn:${arns.partition}:dynamodb:${arns.region}:${arns.account}:table/`);
}

/** `res` with a table description's body fixed (fixTableDescription) and its length and CRC32 (which the SDKs check) written again. */
function fixingTableDescriptions(res: ServerResponse, arns: NonNullable<LocalDynamoOptions['arns']>): void {
  const end = res.end.bind(res);
  res.end = ((...args: unknown[]) => {
    const [chunk] = args;
    if (typeof chunk !== 'string' || res.headersSent || res.statusCode !== 200) return Reflect.apply(end, res, args) as ServerResponse;
    const body = fixTableDescription(chunk, arns);
    res.setHeader('content-length', Buffer.byteLength(body));
    res.setHeader('x-amz-crc32', crc32(body));
    return end(body);
  }) as ServerResponse['end'];
}

/** Milliseconds closing waits for the requests in progress. */
const CLOSE_WAIT_MS = 2000;

/** Beyond this, a Unix socket path is silently cut short by the kernel (104 bytes on macOS, 108 on Linux). */
const MAX_SOCKET_PATH = 100;

/** DynamoDB operations that write (every other one only reads). */
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'CreateTable', 'DeleteTable', 'UpdateTable', 'TagResource', 'UntagResource', 'UpdateTimeToLive']);
/** Room asked of the directory, beyond the size of LevelDB's logs, before it is opened again. */
const REOPEN_MARGIN_BYTES = 256 * 1024;
const INTERNAL_SERVER_ERROR = 'com.amazonaws.dynamodb.v20120810#InternalServerError';

/** The data directories open here, by resolved path: who is told when LevelDB fails to write in one. */
const writeFailures = new Map<string, (error: Error) => void>();

type LevelWrite = (this: WritableLevel, ...args: unknown[]) => Promise<unknown>;
interface WritableLevel {
  readonly location: string;
  _put: LevelWrite;
  _del: LevelWrite;
  _batch: LevelWrite;
}

/** What dynalite reads ranges through (Query, Scan, ListTables): iterators of keys or of values. */
interface LevelIterator {
  close(): Promise<void>;
  return?: () => Promise<IteratorReturnResult<undefined>>;
}
type LevelRead = (this: ReadableLevel, ...args: unknown[]) => LevelIterator;
interface ReadableLevel {
  keys: LevelRead;
  values: LevelRead;
}

let levelPatched = false;
/**
 * Two corrections to classic-level, the LevelDB binding under dynalite, made once on its prototype (loaded as
 * dynalite loads it, so that it is the very class dynalite uses):
 * - LevelDB's write errors (an I/O error: ENOSPC, EACCES, EROFS, ...) leave it as errors that dynalite answers
 *   (`statusCode`, `body`) instead of throwing. Only the binding's writes are wrapped, and only I/O errors
 *   changed; in-memory stores are untouched.
 * - Every iterator is closed once dynalite is done with it. dynalite reads ranges through streams over
 *   `keys()` / `values()` and, when a stream ends or is cut short (a Limit), closes its iterator by calling
 *   `return()`, as on an async generator; abstract-level's iterators have `close()` and no `return()`, so
 *   none was ever closed. Each open one kept its native LevelDB iterator, and the memtable and table blocks it
 *   was opened on, until the database closed: two per Query, so the stack's resident memory grew by hundreds
 *   of megabytes over a few thousand jobs and never came back.
 */
function patchLevel(): void {
  if (levelPatched) return;
  levelPatched = true;
  // dynalite's own copy of `level`, found as dynalite finds it, and loaded through this module's require so
  // that it is the very instance dynalite uses (a module loader of its own, as jest's, would load another).
  const levelPath = require.resolve('level', { paths: [dirname(require.resolve('dynalite'))] });
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a module located at run time, beside dynalite
  const { Level } = require(levelPath) as { Level: { prototype: WritableLevel & ReadableLevel } };
  const proto = Level.prototype;
  for (const method of ['_put', '_del', '_batch'] as const) {
    const write = proto[method];
    proto[method] = function (this: WritableLevel, ...args: unknown[]): Promise<unknown> {
      return write.apply(this, args).catch((error: unknown) => {
        throw asDynamoWriteError(this.location, error);
      });
    };
  }
  for (const method of ['keys', 'values'] as const) {
    const read = proto[method];
    proto[method] = function (this: ReadableLevel, ...args: unknown[]): LevelIterator {
      const iterator = read.apply(this, args);
      iterator.return ??= () => iterator.close().then(() => ({ done: true, value: undefined }));
      return iterator;
    };
  }
}

function asDynamoWriteError(location: string, error: unknown): unknown {
  // Not `instanceof Error`: the binding's errors come from Node's own realm, which need not be this code's (jest).
  if (typeof error !== 'object' || error === null) return error;
  const e = error as Error & { code?: unknown };
  if (e.code !== 'LEVEL_IO_ERROR' && !/^IO error/.test(String(e.message))) return error;
  writeFailures.get(resolve(location))?.(e);
  return Object.assign(e, { statusCode: 500, body: { __type: INTERNAL_SERVER_ERROR, message: refusal(String(e.message)) } });
}

const refusal = (cause: string): string =>
  `the local DynamoDB cannot write to its data directory (${cause}); writes are refused until it can again, reads go on`;

function sendInternalError(res: ServerResponse, message: string): void {
  const body = JSON.stringify({ __type: INTERNAL_SERVER_ERROR, message });
  res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(body), 'x-amzn-requestid': crypto.randomUUID() });
  res.end(body);
}

interface Dynalite {
  handle: RequestListener;
  close(): Promise<void>;
}

async function startDynalite(path: string | undefined): Promise<Dynalite> {
  // Without a path dynalite keeps its tables in memory (memory-level).
  const server = dynalite({ ...(path ? { path } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
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
  // dynalite throws (an uncaught exception) when the database closes under a request in progress: closing
  // waits for those, and refuses any later one.
  const inProgress = new Set<ServerResponse>();
  let closing = false;
  let drained: (() => void) | undefined;
  return {
    handle: (req, res) => {
      if (closing) return sendInternalError(res, 'the local DynamoDB has stopped');
      // Done when dynalite answers (its action has finished with the database), not when the connection closes.
      inProgress.add(res);
      const end = res.end.bind(res);
      res.end = ((...args: Parameters<typeof end>) => {
        inProgress.delete(res);
        if (!inProgress.size) drained?.();
        return end(...args);
      }) as typeof res.end;
      server.emit('request', req, res);
    },
    close: async () => {
      closing = true;
      if (inProgress.size) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          drained = resolve;
          timer = setTimeout(resolve, CLOSE_WAIT_MS);
        });
        clearTimeout(timer);
        if (inProgress.size) logger.warn('local DynamoDB: closing with requests still in progress', { requests: inProgress.size });
      }
      await new Promise<void>((resolve) =>
        server.close((error) => {
          if (error) logger.warn('local DynamoDB: closing the database failed', { error });
          resolve();
        }),
      );
    },
  };
}

/** Whether the directory takes, now, a file as large as LevelDB's logs plus a margin: what reopening writes. */
function hasRoomToReopen(path: string): boolean {
  try {
    const logs = readdirSync(path).filter((f) => f.endsWith('.log')).reduce((sum, f) => sum + statSync(join(path, f)).size, 0);
    return hasRoom(path, logs + REOPEN_MARGIN_BYTES);
  } catch {
    return false;
  }
}

/**
 * The local DynamoDB in `path`, or, without one, in memory (`emr-gateway local --in-memory`, tests, benches):
 * nothing is written to disk, so there are no write failures to survive, and the tables end with the process.
 */
export async function openLocalDynamo(path: string | undefined, options: LocalDynamoOptions = {}): Promise<LocalDynamo> {
  patchLevel();
  const key = path === undefined ? undefined : resolve(path);
  if (key !== undefined && writeFailures.has(key)) throw new Error(`the local DynamoDB in ${path} is open already`);
  const recoverEveryMs = options.recoverEveryMs ?? 1000;
  let current: Dynalite | undefined = await startDynalite(path);
  let reopening: Promise<void> | undefined;
  let closed = false;

  const recover = async (): Promise<void> => {
    if (closed || reopening || path === undefined || !hasRoomToReopen(path)) return;
    reopening = (async () => {
      await current?.close();
      current = undefined;
      try {
        current = await startDynalite(path);
        outage.ended('local DynamoDB: its data directory takes writes again; the database was reopened and writes resume', { path });
      } catch (error) {
        logger.error('local DynamoDB: reopening the database failed; trying again', { path, error });
      }
    })();
    await reopening;
    reopening = undefined;
  };
  const outage = new WriteOutage(() => void recover(), recoverEveryMs);

  if (key !== undefined) {
    writeFailures.set(key, (error) => {
      if (closed) return;
      outage.began(`local DynamoDB: cannot write to ${path}: writes are answered InternalServerError (retried by the SDKs) until it can again, reads go on`, error.message);
    });
  }

  const handle: RequestListener = (req, res) => {
    if (reopening) return void reopening.then(() => handle(req, res));
    const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
    const refused = outage.cause;
    if (!current || (refused !== undefined && WRITES.has(operation))) {
      req.resume();
      return sendInternalError(res, refusal(refused ?? 'the database is not open'));
    }
    if (options.arns && DESCRIBES_TABLE.has(operation)) fixingTableDescriptions(res, options.arns);
    current.handle(req, res);
  };

  return {
    handle,
    get writesRefused() {
      return outage.cause;
    },
    async close() {
      closed = true;
      outage.stop();
      await reopening;
      if (key !== undefined) writeFailures.delete(key);
      await current?.close();
      current = undefined;
    },
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
    await createTable(db, definition);
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
  await createTable(db, definition);
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
export async function repairJobIndexes(db: DynamoDBClient, table: string, jobIds: readonly string[], signal?: AbortSignal): Promise<void> {
  // Several at a time: after a kill under load there are hundreds. None begun once `signal` aborts (a stop).
  await eachLimited(jobIds, 16, async (jobId) => {
    if (signal?.aborted) return;
    const { Item } = await db.send(new GetItemCommand({ TableName: table, Key: { jobId: { S: jobId } }, ConsistentRead: true }));
    const version = Item?.version;
    if (!Item || !version) return;
    try {
      await db.send(new PutItemCommand({ TableName: table, Item, ConditionExpression: '#v = :v', ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':v': version } }));
    } catch (error) {
      if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
    }
  });
}
