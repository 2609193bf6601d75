/**
 * A data directory that cannot be written (no space left, a read-only or unwritable file system, an I/O error),
 * as the local services live with it: an error of their requests, not of the process. This is the state they
 * share: one ERROR when writes start failing, one INFO when they take again, and in between a retry on a timer
 * (that keeps no process alive) until the service says its writes take again.
 */
import { unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logger } from '../util/logger';

export class WriteOutage {
  private failing: string | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** Tries the writes again; calls `ended` once they take. */
    private readonly retry: () => void,
    private readonly retryEveryMs: number,
  ) {}

  /** Why writes fail, while they do; undefined otherwise. */
  get cause(): string | undefined {
    return this.failing;
  }

  /** Writes fail: logged (`message`, with the cause) the first time only, and retried from now on. */
  began(message: string, cause: string, context: Record<string, unknown> = {}): void {
    if (this.failing !== undefined) return;
    this.failing = cause;
    logger.error(message, { ...context, cause });
    this.timer = setInterval(() => this.retry(), this.retryEveryMs);
    this.timer.unref();
  }

  /** Writes take again: logged (`message`) if they had failed. */
  ended(message: string, context: Record<string, unknown> = {}): void {
    if (this.failing === undefined) return;
    this.failing = undefined;
    this.stop();
    logger.info(message, context);
  }

  /** No more retries (the service is closing). */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** Whether `dir` takes, now, a file of `bytes` (written and removed again): room for what a service must write. */
export function hasRoom(dir: string, bytes: number): boolean {
  const probe = join(dir, '.write-probe');
  try {
    writeFileSync(probe, Buffer.alloc(bytes), { mode: 0o600 });
    return true;
  } catch {
    return false;
  } finally {
    try {
      unlinkSync(probe);
    } catch {
      // not there: nothing to remove
    }
  }
}

/** An error's message, for a log line or an answer (not `instanceof Error`: Node's own errors may come from another realm, as under jest). */
export function causeOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}
