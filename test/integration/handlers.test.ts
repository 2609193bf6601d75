/** The Lambda task handlers as deployed: configured from the environment only, against dynalite and mocked EMR. */
import { loadEnv } from '../../src/config/env';
import { ConfigError } from '../../src/errors';
import { deployedFunctions, heldService } from '../support/deployed';

const deployed = deployedFunctions('SILENT');

it('submitStep, watchStep and pollStep run the workflow from the environment alone', async () => {
  const { gateway } = await import('../../src/container');
  const { submitStep, watchStep, pollStep } = await import('../../src/handlers/workflow');
  const gw = gateway();
  // The API would start the execution; here the service starts nothing and the test plays Step Functions.
  const service = heldService(gw);
  const { job } = await service.submit({
    caller: { callerArn: 'arn:aws:sts::123456789012:assumed-role/DataTeamA/alice' },
    body: { clusterId: 'j-HANDLERS1', executionRoleArn: 'arn:aws:iam::123456789012:role/CallerTeamRoleETL', name: 'h', step: { type: 'spark', args: ['s3://b/app.py'] } },
  });
  const polling = gw.env.polling;
  deployed.emr.nextScript = ['PENDING', 'RUNNING', 'COMPLETED'];
  const wait = { timeoutSeconds: 31_536_000, heartbeatSeconds: 3600 };
  expect(await submitStep({ jobId: job.jobId, polling })).toEqual({ jobId: job.jobId, done: false, status: 'SUBMITTED', waitSeconds: 15, ...wait });
  // The wait for the step's end: the step looked at once, the task token stored on the job.
  expect(await watchStep({ jobId: job.jobId, polling, poll: { done: false, status: 'SUBMITTED', waitSeconds: 15, ...wait }, taskToken: 'handler-test-token' })).toEqual({ jobId: job.jobId, done: false, status: 'PENDING', waitSeconds: 15, ...wait });
  expect(await gw.jobs.get(job.jobId)).toMatchObject({ waitToken: { token: 'handler-test-token' } });
  expect(await pollStep({ jobId: job.jobId, polling, poll: { done: false, status: 'PENDING', waitSeconds: 15 } })).toEqual({ jobId: job.jobId, done: false, status: 'RUNNING', waitSeconds: 30, ...wait });
  expect(await pollStep({ jobId: job.jobId, polling, poll: { done: false, status: 'RUNNING', waitSeconds: 30 } })).toMatchObject({ done: true, status: 'COMPLETED' });
  expect(deployed.emr.steps[0]!.input).toMatchObject({ JobFlowId: 'j-HANDLERS1', ExecutionRoleArn: 'arn:aws:iam::123456789012:role/CallerTeamRoleETL' });
});

it('rejects malformed task input without touching EMR or DynamoDB', async () => {
  const { submitStep } = await import('../../src/handlers/workflow');
  const before = deployed.emr.mock.calls().length;
  await expect(submitStep({ jobId: '../../etc/passwd', polling: { initialSeconds: 15, factor: 2, maxSeconds: 300 } })).rejects.toThrow(/jobId/);
  await expect(submitStep({ jobId: 'job-0123456789abcdefghjkmnpqrs', polling: { initialSeconds: 0, factor: 2, maxSeconds: 300 } })).rejects.toThrow();
  expect(deployed.emr.mock.calls()).toHaveLength(before);
});

it('the environment is validated at start, every problem named', () => {
  expect(() => loadEnv({ JOBS_TABLE: 'x', POLL_FACTOR: 'fast' })).toThrow(ConfigError);
  try {
    loadEnv({ JOBS_TABLE: 'x', POLL_FACTOR: 'fast' });
  } catch (error) {
    const paths = (error as ConfigError).issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['JOBS_TABLE', 'AUDIT_TABLE', 'POLL_FACTOR']));
  }
});
