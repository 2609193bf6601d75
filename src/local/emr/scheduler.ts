/**
 * EMR's step scheduling: a cluster runs at most StepConcurrencyLevel steps at once (a RUNNING or
 * CANCEL_PENDING step holds a slot) and starts its pending steps oldest first as slots free up. A step the
 * journal cannot record as started stays PENDING, and so do the ones after it, until the journal takes writes.
 */
import type { EmrJournal } from './journal';
import type { LocalStep } from './model';

export class StepScheduler {
  private stopped = false;

  constructor(
    private readonly journal: EmrJournal,
    private readonly start: (step: LocalStep) => void,
    /** Nothing starts until `release()`. */
    private held = false,
  ) {}

  release(): void {
    this.held = false;
  }

  /** Starts pending steps of the cluster, oldest first, while it has free slots. */
  schedule(clusterId: string): void {
    if (this.stopped || this.held) return;
    const cluster = this.journal.clusters.get(clusterId);
    if (!cluster) return;
    const steps = [...this.journal.steps.values()].filter((s) => s.clusterId === clusterId);
    const busy = () => steps.filter((s) => s.state === 'RUNNING' || s.state === 'CANCEL_PENDING').length;
    for (const step of steps.filter((s) => s.state === 'PENDING').sort((a, b) => a.created - b.created)) {
      if (busy() >= cluster.stepConcurrencyLevel) break;
      if (step.state !== 'PENDING') continue; // a step that failed to start has already ended
      this.start(step);
      if (step.state === 'PENDING') break; // the journal could not say it started: none can start now
    }
  }

  /** Nothing starts any more: the emulator is stopping. */
  stop(): void {
    this.stopped = true;
  }
}
