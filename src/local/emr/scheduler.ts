/**
 * EMR's step scheduling: a cluster runs at most StepConcurrencyLevel steps at once (a RUNNING or
 * CANCEL_PENDING step holds a slot) and starts its pending steps oldest first as slots free up.
 */
import type { EmrJournal } from './journal';
import type { LocalStep } from './model';

export class StepScheduler {
  private stopped = false;

  constructor(
    private readonly journal: EmrJournal,
    private readonly start: (step: LocalStep) => void,
  ) {}

  /** Starts pending steps of the cluster, oldest first, while it has free slots. */
  schedule(clusterId: string): void {
    if (this.stopped) return;
    const cluster = this.journal.clusters.get(clusterId);
    if (!cluster) return;
    const steps = [...this.journal.steps.values()].filter((s) => s.clusterId === clusterId);
    const busy = () => steps.filter((s) => s.state === 'RUNNING' || s.state === 'CANCEL_PENDING').length;
    for (const step of steps.filter((s) => s.state === 'PENDING').sort((a, b) => a.created - b.created)) {
      if (busy() >= cluster.stepConcurrencyLevel) break;
      if (step.state === 'PENDING') this.start(step); // a step that failed to start has already ended
    }
  }

  /** Nothing starts any more: the emulator is stopping. */
  stop(): void {
    this.stopped = true;
  }
}
