/** Simulates one job of a given length through the real state machine and counts the transitions it costs. */
import type { PollingPolicy } from '../../src/jobs/workflow-input';
import { ALICE, startGateway, submitBody } from './gateway';

export interface TransitionCount {
  transitions: number;
  polls: number;
  status: string | undefined;
}

export async function simulateJob(runSeconds: number, polling: PollingPolicy): Promise<TransitionCount> {
  const gw = await startGateway({ polling });
  try {
    gw.emr.timed = { now: gw.clock.now, runSeconds };
    const { job } = await gw.service.submit({ caller: { callerArn: ALICE }, body: submitBody() });
    const finished = await gw.finish(job.jobId);
    const execution = gw.runner.executions.get(job.jobId)!;
    return { transitions: execution.transitions, polls: gw.emr.calls('DescribeStep'), status: finished?.status };
  } finally {
    await gw.stop();
  }
}
