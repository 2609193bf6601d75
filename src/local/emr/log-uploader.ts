/**
 * The local EMR's log pusher: as EMR copies a step's logs from the primary node (/mnt/var/log/hadoop/steps/STEP_ID/)
 * to the cluster's LogUri, gzipped, as `<LogUri><clusterId>/steps/<stepId>/<file>.gz`, every few minutes while the
 * step runs and once more when it has ended, this copies the local step directory's files (controller, stdout,
 * stderr, syslog where one was written) into the local S3, so that GET /jobs/{id}/logs, `aws s3 ls` and `aws s3 cp`
 * read them where they would in AWS. A cluster without a LogUri keeps its logs on the node only, as on EMR.
 * An upload that fails (no such bucket, a full disk) is left out, as EMR's log pusher skips it: the next one may do.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseLogUri } from '../../identifiers';
import type { LocalStep } from './model';

/** The files of a step directory EMR uploads, in this order. */
export const STEP_LOG_FILES = ['controller', 'stdout', 'stderr', 'syslog'] as const;

/** Where the gzipped logs go (the stack: the local S3 store). */
export interface StepLogSink {
  put(bucket: string, key: string, body: Buffer): void;
}

export interface StepLogUploaderOptions {
  sink: StepLogSink;
  /** `<logsDir>/<stepId>/` holds a step's files. */
  logsDir: string;
  /** The cluster's LogUri, if it has one. */
  logUriOf: (clusterId: string) => string | undefined;
  /** How often a running step's logs are uploaded (EMR: about every five minutes). */
  intervalMs: number;
}

const TERMINAL = new Set(['COMPLETED', 'CANCELLED', 'FAILED', 'INTERRUPTED']);

export class StepLogUploader {
  /** Running steps, and the size of each file at its last upload (a file that has not grown is not uploaded again). */
  private readonly running = new Map<string, { step: Readonly<LocalStep>; sizes: Map<string, number> }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: StepLogUploaderOptions) {}

  /** The S3 key prefix of a step's logs, or undefined where its cluster has no LogUri. */
  location(step: Pick<LocalStep, 'id' | 'clusterId'>): { bucket: string; prefix: string } | undefined {
    const logUri = this.options.logUriOf(step.clusterId);
    if (logUri === undefined) return undefined;
    const { bucket, prefix } = parseLogUri(logUri);
    return { bucket, prefix: `${prefix}${step.clusterId}/steps/${step.id}/` };
  }

  /** Told of each change of a step's state: a running step is uploaded periodically, an ended one once more, now. */
  changed(step: Readonly<LocalStep>): void {
    if (step.state === 'RUNNING') {
      if (!this.running.has(step.id)) this.running.set(step.id, { step, sizes: new Map() });
      this.timer ??= setInterval(() => this.tick(), this.options.intervalMs).unref();
    } else if (TERMINAL.has(step.state)) {
      const sizes = this.running.get(step.id)?.sizes ?? new Map<string, number>();
      this.running.delete(step.id);
      this.upload(step, sizes);
      if (!this.running.size) this.clearTimer();
    }
  }

  /** At the emulator's stop: the last logs of the steps it was following, as they are now (`current`: their records). */
  flush(current: (stepId: string) => Readonly<LocalStep> | undefined): void {
    this.clearTimer();
    for (const [id, { step, sizes }] of this.running) this.upload(current(id) ?? step, sizes);
    this.running.clear();
  }

  private clearTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    for (const { step, sizes } of this.running.values()) this.upload(step, sizes);
  }

  private upload(step: Readonly<LocalStep>, sizes: Map<string, number>): void {
    const where = this.location(step);
    if (!where) return;
    const dir = join(this.options.logsDir, step.id);
    for (const name of STEP_LOG_FILES) {
      const file = join(dir, name);
      try {
        if (!existsSync(file)) continue;
        const size = statSync(file).size;
        if (sizes.get(name) === size) continue;
        this.options.sink.put(where.bucket, `${where.prefix}${name}.gz`, gzipSync(readFileSync(file)));
        sizes.set(name, size);
      } catch {
        // left out, as EMR's log pusher skips an upload that fails: the next one (or the step's end) may do
      }
    }
  }
}
