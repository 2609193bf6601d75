/**
 * The deployed task handlers log with the Lambda context and the job's keys (jobId, stepId,
 * executionRoleArn), and a second invocation in the same container carries none of the first's keys.
 */
import { DEPLOYED_CALLER, DEPLOYED_CLUSTER, DEPLOYED_ROLE, deployedFunctions, heldService } from '../support/deployed';
import { captureLogs, lambdaContext } from '../support/logs';

const deployed = deployedFunctions('INFO');

it('each task invocation logs its own request id and job keys, none of the previous one', async () => {
  const { gateway } = await import('../../src/container');
  const { submitStep } = await import('../../src/handlers/workflow');
  const gw = gateway();
  const { job } = await heldService(gw).submit({
    caller: { callerArn: DEPLOYED_CALLER },
    body: { clusterId: DEPLOYED_CLUSTER, executionRoleArn: DEPLOYED_ROLE, name: 'logs', step: { type: 'spark', args: ['s3://b/app.py'] } },
  });
  const polling = gw.env.polling;
  const out = captureLogs();
  try {
    await submitStep({ jobId: job.jobId, polling }, lambdaContext('invocation-one'));
    await expect(submitStep({ jobId: 'not-a-job', polling }, lambdaContext('invocation-two'))).rejects.toThrow();
  } finally {
    out.restore();
  }
  const lines = out.lines();
  const first = lines.filter((l) => l.function_request_id === 'invocation-one');
  const second = lines.filter((l) => l.function_request_id === 'invocation-two');
  expect(first.find((l) => l.message === 'task done')).toMatchObject({ jobId: job.jobId, executionRoleArn: DEPLOYED_ROLE, stepId: deployed.emr.steps[0]!.id, status: 'SUBMITTED' });
  expect(second.find((l) => l.message === 'task failed')).toBeDefined();
  for (const line of second) {
    expect(line.jobId).toBe('not-a-job'); // its own input's, not the previous invocation's
    expect(line).not.toHaveProperty('stepId');
    expect(line).not.toHaveProperty('executionRoleArn');
  }
});
