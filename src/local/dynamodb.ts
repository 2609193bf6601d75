/**
 * Local DynamoDB: dynalite, persisted in the data directory and served only in-process, by the AWS port
 * behind its browser guard. dynalite's own server answers any Host and any Origin and allows every CORS
 * preflight (`*`), so it gets no TCP port: a page could otherwise read every job and plant one that the
 * stack runs on its next start.
 */
import { mkdtempSync, rmSync } from 'node:fs';
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
