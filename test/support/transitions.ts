/**
 * Simulates one job of a given length through a real state machine definition and counts what it costs: state
 * transitions (what Step Functions bills), DescribeStep calls, and the execution's history events.
 *
 * - `events`: today's definition, EMR's step events simulated (the step's RUNNING and end events, the reconciler's
 *   look every 15 minutes of simulated time: a heartbeat), as in AWS.
 * - a polling policy: the previous definition (test/fixtures/poll-loop.asl.json: a Wait/PollStep loop with capped
 *   exponential backoff), which executions started before the upgrade still run, with the same tasks.
 */
import pollLoop from '../fixtures/poll-loop.asl.json';
import type { PollingPolicy } from '../../src/jobs/workflow-input';
import { ALICE, startGateway, submitBody } from './gateway';

export interface TransitionCount {
  transitions: number;
  polls: number;
  status: string | undefined;
  /** The execution's history events (Step Functions' standard workflows allow 25,000). */
  historyEvents: number;
  /** The job's audit trail: event types, a state change with its EMR state (`STATE_CHANGED:RUNNING`). */
  trail: string[];
}

/** The reconciler's schedule in AWS (serverless.yml custom.reconciler): its looks heartbeat each waiting job. */
export const RECONCILE_EVERY_SECONDS = 900;

export type Design = 'events' | PollingPolicy;

export async function simulateJob(runSeconds: number, design: Design): Promise<TransitionCount> {
  const events = design === 'events';
  const gw = await startGateway(events ? { stepEvents: { reconcileEverySeconds: RECONCILE_EVERY_SECONDS } } : { polling: design, definition: pollLoop });
  try {
    gw.emr.timed = { now: gw.clock.now, runSeconds };
    const { job } = await gw.service.submit({ caller: { callerArn: ALICE }, body: submitBody() });
    const finished = await gw.finish(job.jobId);
    const execution = gw.runner.executions.get(job.jobId)!;
    const trail = (await gw.audit.list(job.jobId)).map((e) => (e.type === 'STATE_CHANGED' ? `${e.type}:${String(e.emr?.state)}` : e.type));
    return { transitions: execution.transitions, polls: gw.emr.calls('DescribeStep'), status: finished?.status, historyEvents: gw.history(job.jobId).length, trail };
  } finally {
    await gw.stop();
  }
}
