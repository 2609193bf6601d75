/** The Lambda task handlers as deployed: configured from the environment only, against dynalite and mocked EMR. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEnv } from '../../src/config/env';
import { parseConfig } from '../../src/config-file/load';
import { deployableConfig } from '../../src/config/validate';
import { ConfigError } from '../../src/errors';
import { startDynamo, type TestDynamo } from '../support/dynamo';
import { FakeEmr } from '../support/fake-emr';

let dynamo: TestDynamo;
let emr: FakeEmr;

beforeAll(async () => {
  dynamo = await startDynamo();
  emr = new FakeEmr();
  const dir = mkdtempSync(join(tmpdir(), 'gw-handlers-'));
  const config = join(dir, 'gateway.json');
  // As packaging ships it: the YAML validated, then written as JSON.
  const yaml = `account: "123456789012"
region: us-east-1
clusters: [{ id: j-HANDLERS1, name: h, runtimeRoles: true }]
runtimeRoles: ["arn:aws:iam::123456789012:role/CallerTeamRoleETL"]
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
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
});
afterAll(async () => {
  emr.restore();
  await dynamo.stop();
});

it('submitStep and pollStep run the workflow from the environment alone', async () => {
  const { gateway } = await import('../../src/container');
  const { submitStep, pollStep } = await import('../../src/handlers/workflow');
  const gw = gateway();
  // The API would start the execution; here the service starts nothing and the test plays Step Functions.
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
    body: { clusterId: 'j-HANDLERS1', executionRoleArn: 'arn:aws:iam::123456789012:role/CallerTeamRoleETL', name: 'h', step: { type: 'spark', args: ['s3://b/app.py'] } },
  });
  const polling = gw.env.polling;
  emr.nextScript = ['RUNNING', 'COMPLETED'];
  expect(await submitStep({ jobId: job.jobId, polling })).toEqual({ done: false, status: 'SUBMITTED', waitSeconds: 15 });
  expect(await pollStep({ jobId: job.jobId, polling, poll: { done: false, status: 'SUBMITTED', waitSeconds: 15 } })).toEqual({ done: false, status: 'RUNNING', waitSeconds: 30 });
  expect(await pollStep({ jobId: job.jobId, polling, poll: { done: false, status: 'RUNNING', waitSeconds: 30 } })).toMatchObject({ done: true, status: 'COMPLETED' });
  expect(emr.steps[0]!.input).toMatchObject({ JobFlowId: 'j-HANDLERS1', ExecutionRoleArn: 'arn:aws:iam::123456789012:role/CallerTeamRoleETL' });
});

it('rejects malformed task input without touching EMR or DynamoDB', async () => {
  const { submitStep } = await import('../../src/handlers/workflow');
  const before = emr.mock.calls().length;
  await expect(submitStep({ jobId: '../../etc/passwd', polling: { initialSeconds: 15, factor: 2, maxSeconds: 300 } })).rejects.toThrow(/jobId/);
  await expect(submitStep({ jobId: 'job-0123456789abcdefghjkmnpqrs', polling: { initialSeconds: 0, factor: 2, maxSeconds: 300 } })).rejects.toThrow();
  expect(emr.mock.calls()).toHaveLength(before);
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
