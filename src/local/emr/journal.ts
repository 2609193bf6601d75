/**
 * The local EMR's state and its persistence: an append-only JSONL journal in the data directory. Every change
 * appends the whole record as it now is, so on replay the last line of an id is its state; a line torn by a
 * crash is skipped. A change of a step's state is also announced (EMR's "Step Status Change" event), until
 * the emulator stops.
 *
 * A journal that cannot be written (no space left, a read-only or unwritable file system, an I/O error) stops
 * nothing but changes, and loses none that was made:
 * - A change someone asked for (`commit`, `addSteps`, `saveCluster`, ...) is made only once it is journaled: if
 *   it cannot be, it throws JournalWriteError and nothing changes, in memory or on disk (a partial line is cut off
 *   again). The API answers that as EMR's internal error, which the SDKs retry. Starting a step is such a change:
 *   a step must not run unless the journal says it does, or a crash would run it twice.
 * - A change nobody can refuse (a step's process ended, `update`) is made in memory at once, as the API shows
 *   it, and journaled, in order, with the next write that succeeds, or by a retry every `retryEveryMs`.
 * One ERROR is logged when writes start failing and one INFO when they take again.
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { logger } from '../../util/logger';
import { causeOf, hasRoom, WriteOutage } from '../write-outage';
import type { LocalCluster, LocalStep, SecurityConfiguration } from './model';

type JournalEntry =
  | { kind: 'cluster'; cluster: LocalCluster }
  | { kind: 'securityConfiguration'; config: SecurityConfiguration }
  | { kind: 'step'; step: LocalStep };

/** Why a step that was running when the local EMR stopped (or died) is INTERRUPTED. */
export const INTERRUPTED_MESSAGE = 'The step process ended when the local EMR stopped.';

/** Room asked of the directory, beyond what waits to be journaled, before writes are tried again. */
const RETRY_MARGIN_BYTES = 64 * 1024;

/** A change that could not be journaled, and so was not made. */
export class JournalWriteError extends Error {
  override readonly name = 'JournalWriteError';
}

export interface EmrJournalOptions {
  onStepChange?: (step: Readonly<LocalStep>) => void;
  /** Told (in a microtask) when the journal takes writes again after failing: steps held back may start. */
  onWritable?: () => void;
  /** While writes fail, how often they are tried again (default 1 s). */
  retryEveryMs?: number;
}

const line = (entry: JournalEntry): string => `${JSON.stringify(entry)}\n`;

export class EmrJournal {
  readonly clusters = new Map<string, LocalCluster>();
  readonly steps = new Map<string, LocalStep>();
  readonly securityConfigurations = new Map<string, SecurityConfiguration>();
  private announcing = true;
  /** Changes made but not journaled yet, in order. */
  private readonly unwritten: string[] = [];
  /** The file may end in a partial line (a crash, or a failed write that could not be cut off): the next write starts a new one. */
  private torn = false;
  private readonly outage: WriteOutage;

  /** Reads `file` back, if it exists; its directory must exist before the first change. */
  constructor(
    private readonly file: string,
    private readonly options: EmrJournalOptions = {},
  ) {
    this.outage = new WriteOutage(() => this.retry(), options.retryEveryMs ?? 1000);
    this.replay();
  }

  /** Whether changes wait to be journaled (the journal could not be written). */
  get behind(): boolean {
    return this.unwritten.length > 0;
  }

  saveCluster(cluster: LocalCluster): void {
    this.write(line({ kind: 'cluster', cluster }));
    this.clusters.set(cluster.id, cluster);
  }

  saveSecurityConfiguration(config: SecurityConfiguration): void {
    this.write(line({ kind: 'securityConfiguration', config }));
    this.securityConfigurations.set(config.name, config);
  }

  /** New steps (PENDING), all or none: journaled, not announced, as EMR sends no event for a step being added. */
  addSteps(steps: readonly LocalStep[]): void {
    this.write(steps.map((step) => line({ kind: 'step', step })).join(''));
    for (const step of steps) this.steps.set(step.id, step);
  }

  /** Changes a step in place once the change is journaled (else JournalWriteError, nothing changed); announces a change of state. */
  commit(step: LocalStep, changes: Partial<LocalStep>): void {
    this.write(line({ kind: 'step', step: { ...step, ...changes } }));
    this.change(step, changes);
  }

  /** Changes a step in place, journals it now or as soon as it can, and announces a change of state. */
  update(step: LocalStep, changes: Partial<LocalStep>): void {
    this.change(step, changes);
    this.keep({ kind: 'step', step });
  }

  /** Changes a cluster in place, journaled now or as soon as it can. */
  updateCluster(cluster: LocalCluster, changes: Partial<LocalCluster>): void {
    Object.assign(cluster, changes);
    this.keep({ kind: 'cluster', cluster });
  }

  /** From now on changes are journaled but not announced: the emulator is stopping. */
  silence(): void {
    this.announcing = false;
  }

  /** No more retries; what still waits is written now if it can be, else the loss is logged. */
  close(): void {
    this.outage.stop();
    if (!this.behind) return;
    try {
      this.write('');
    } catch {
      logger.error(`local EMR: ${this.unwritten.length} change(s) could not be journaled before the local EMR stopped; the next start records the steps concerned from their exits, or INTERRUPTED`, { file: this.file });
    }
  }

  private change(step: LocalStep, changes: Partial<LocalStep>): void {
    const before = step.state;
    Object.assign(step, changes);
    if (step.state !== before && this.announcing) this.options.onStepChange?.(step);
  }

  private replay(): void {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    this.torn = text.length > 0 && !text.endsWith('\n');
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      let entry: JournalEntry;
      try {
        entry = JSON.parse(line) as JournalEntry;
      } catch {
        continue; // a torn line from a crash
      }
      // A line of no kind it knows (another version's, or not the journal's) is skipped, not a crash at start.
      if (entry?.kind === 'cluster' && typeof entry.cluster?.id === 'string') this.clusters.set(entry.cluster.id, entry.cluster);
      else if (entry?.kind === 'securityConfiguration' && typeof entry.config?.name === 'string') this.securityConfigurations.set(entry.config.name, entry.config);
      else if (entry?.kind === 'step' && typeof entry.step?.id === 'string') this.steps.set(entry.step.id, entry.step);
      else logger.warn('local EMR: skipped a journal line it does not know', { file: this.file });
    }
  }

  /** A change already made: journaled with what waits before it, now, or by a later write. */
  private keep(entry: JournalEntry): void {
    this.unwritten.push(line(entry));
    try {
      this.write('');
    } catch {
      // it waits, in order: the next write that succeeds, or the retry, journals it
    }
  }

  /** Journals what waits, then `text`, or throws JournalWriteError with none of it on disk (`text` is dropped, what waits still waits). */
  private write(text: string): void {
    try {
      this.append(this.unwritten.join('') + text);
    } catch (error) {
      const cause = causeOf(error);
      this.outage.began(
        `local EMR: cannot write its journal ${this.file}: changes asked for are answered InternalServerError (retried by the SDKs) and no step starts until it can again; changes of running steps are kept in memory and journaled then; reads go on`,
        cause,
      );
      throw new JournalWriteError(`the local EMR cannot write its journal (${cause}); changes are refused until it can again, reads go on`);
    }
    this.unwritten.length = 0;
    if (this.outage.cause === undefined) return;
    this.outage.ended('local EMR: its journal takes writes again; the changes kept in memory are journaled and steps start again', { file: this.file });
    if (this.options.onWritable) queueMicrotask(this.options.onWritable);
  }

  /** Appends `text` whole, or cuts the file back to where it was (empty `text`: only whether the file opens for appending). */
  private append(text: string): void {
    const fd = openSync(this.file, 'a');
    try {
      if (!text) return;
      const size = fstatSync(fd).size;
      try {
        writeFileSync(fd, this.torn ? `\n${text}` : text);
      } catch (error) {
        try {
          ftruncateSync(fd, size);
        } catch {
          this.torn = true;
        }
        throw error;
      }
      this.torn = false;
    } finally {
      closeSync(fd);
    }
  }

  /** While writes fail: once the directory has room for what waits, write it. */
  private retry(): void {
    const waiting = this.unwritten.reduce((sum, l) => sum + Buffer.byteLength(l), 0);
    if (!hasRoom(dirname(this.file), waiting + RETRY_MARGIN_BYTES)) return;
    try {
      this.write('');
    } catch {
      // still failing: the next retry
    }
  }
}
