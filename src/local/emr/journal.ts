/**
 * The local EMR's state and its persistence: an append-only JSONL journal in the data directory. Every change
 * appends the whole record as it now is, so on replay the last line of an id is its state; a line torn by a
 * crash is skipped. A change of a step's state is also announced (EMR's "Step Status Change" event), until
 * the emulator stops.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import type { LocalCluster, LocalStep, SecurityConfiguration } from './model';

type JournalEntry =
  | { kind: 'cluster'; cluster: LocalCluster }
  | { kind: 'securityConfiguration'; config: SecurityConfiguration }
  | { kind: 'step'; step: LocalStep };

/** Why a step that was running when the local EMR stopped (or died) is INTERRUPTED. */
export const INTERRUPTED_MESSAGE = 'The step process ended when the local EMR stopped.';

export class EmrJournal {
  readonly clusters = new Map<string, LocalCluster>();
  readonly steps = new Map<string, LocalStep>();
  readonly securityConfigurations = new Map<string, SecurityConfiguration>();
  private announcing = true;

  /** Reads `file` back, if it exists; its directory must exist before the first change. */
  constructor(
    private readonly file: string,
    private readonly onStepChange?: (step: Readonly<LocalStep>) => void,
  ) {
    this.replay();
  }

  saveCluster(cluster: LocalCluster): void {
    this.clusters.set(cluster.id, cluster);
    this.append({ kind: 'cluster', cluster });
  }

  saveSecurityConfiguration(config: SecurityConfiguration): void {
    this.securityConfigurations.set(config.name, config);
    this.append({ kind: 'securityConfiguration', config });
  }

  /** A new step (PENDING): journaled, not announced, as EMR sends no event for a step being added. */
  addStep(step: LocalStep): void {
    this.steps.set(step.id, step);
    this.append({ kind: 'step', step });
  }

  /** Changes a step in place, journals it, and announces a change of state. */
  update(step: LocalStep, changes: Partial<LocalStep>): void {
    const before = step.state;
    Object.assign(step, changes);
    this.append({ kind: 'step', step });
    if (step.state !== before && this.announcing) this.onStepChange?.(step);
  }

  /** From now on changes are journaled but not announced: the emulator is stopping. */
  silence(): void {
    this.announcing = false;
  }

  private replay(): void {
    if (!existsSync(this.file)) return;
    for (const line of readFileSync(this.file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      let entry: JournalEntry;
      try {
        entry = JSON.parse(line) as JournalEntry;
      } catch {
        continue; // a torn last line from a crash
      }
      if (entry.kind === 'cluster') this.clusters.set(entry.cluster.id, entry.cluster);
      else if (entry.kind === 'securityConfiguration') this.securityConfigurations.set(entry.config.name, entry.config);
      else this.steps.set(entry.step.id, entry.step);
    }
  }

  private append(entry: JournalEntry): void {
    appendFileSync(this.file, `${JSON.stringify(entry)}\n`);
  }
}
