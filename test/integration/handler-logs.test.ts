/**
 * The deployed task handlers log with the Lambda context and the job's keys (jobId, stepId,
 * executionRoleArn), and a second invocation in the same container carries none of the first's keys.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config-file/load';
import { deployableConfig } from '../../src/config/validate';
import { startDynamo, type TestDynamo } from '../support/dynamo';
import { FakeEmr } from '../support/fake-emr';
import { captureLogs, lambdaContext } from '../support/logs';

const ROLE = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';
let dynamo: TestDynamo;
let emr: FakeEmr;

beforeAll(async () => {
  dynamo = await startDynamo();
  emr = new FakeEmr();
  const dir = mkdtempSync(join(tmpdir(), 'gw-handler-logs-'));
  const config = join(dir, 'gateway.json');
  const yaml = `account: "123456789012"
region: us-east-1
clusters: [{ id: j-LOGS1, name: h, runtimeRoles: true }]
runtimeRoles: ["${ROLE}"]
principals: [{ match: "arn:aws:iam::123456789012:role/DataTeamA", policies: [p] }]
policies:
  p: { Version: "2012-10-17", Statement: [{ Effect: Allow, Action: elasticmapreduce:AddJobFlowSteps, Resource: "*" }] }
`;
  writeFileSync(config, JSON.stringify(deployableConfig(parseConfig(yaml, join(dir, 'gateway.yaml')).config)));
  Object.assign(process.env, {
    EMR_GATEWAY_CONFIG: config,
    JOBS_TABLE: dynamo.jobsTable,
    AUDIT_TABLE: dynamo.auditTable,
    AWS_ENDPOINT_URL: dynamo.endpoint,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:submit-job',
    POWERTOOLS_LOG_LEVEL: 'INFO',
  });
});

afterAll(async () => {
  emr.restore();
  await dynamo.stop();
});

it('each task invocation logs its own request id and job keys, none of the previous one', async () => {
  const { gateway } = await import('../../src/container');
  const { submitStep } = await import('../../src/handlers/workflow');
  const gw = gateway();
  const service = new (await import('../../src/jobs/service')).JobService({
    config: gw.loaded.config,
    engine: gw.loaded.engine,
    jobs: gw.jobs,
    audit: gw.audit,
    workflow: { start: () => Promise.resolve() },
    tasks: gw.tasks,
    polling: gw.env.polling,
  });
  const { job } = await service.submit({
    caller: { callerArn: 'arn:aws:sts::123456789012:assumed-role/DataTeamA/alice' },
    body: { clusterId: 'j-LOGS1', executionRoleArn: ROLE, name: 'logs', step: { type: 'spark', args: ['s3://b/app.py'] } },
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
  expect(first.find((l) => l.message === 'task done')).toMatchObject({ jobId: job.jobId, executionRoleArn: ROLE, stepId: emr.steps[0]!.id, status: 'SUBMITTED' });
  expect(second.find((l) => l.message === 'task failed')).toBeDefined();
  for (const line of second) {
    expect(line.jobId).toBe('not-a-job'); // its own input's, not the previous invocation's
    expect(line).not.toHaveProperty('stepId');
    expect(line).not.toHaveProperty('executionRoleArn');
  }
});
