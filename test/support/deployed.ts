/**
 * The Lambda functions as deployed, for tests that import the real handlers: the environment they start with
 * (the configuration as packaging ships it, the YAML validated then written as JSON; a test dynalite's tables
 * and endpoint, the audit key's ARN), EMR mocked by FakeEmr and KMS by FakeKms, and a JobService over the
 * container that starts no execution, so the test plays Step Functions by calling the task handlers itself.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config-file/load';
import { deployableConfig } from '../../src/config/validate';
import type { Gateway } from '../../src/container';
import { JobService } from '../../src/jobs/service';
import { startDynamo, type TestDynamo } from './dynamo';
import { FakeEmr } from './fake-emr';
import { FakeKms } from './fake-kms';
import { FakeS3 } from './fake-s3';

export const DEPLOYED_CLUSTER = 'j-HANDLERS1';
export const DEPLOYED_ROLE = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';
export const DEPLOYED_CALLER = 'arn:aws:sts::123456789012:assumed-role/DataTeamA/alice';

const CONFIG = `account: "123456789012"
region: us-east-1
clusters: [{ id: ${DEPLOYED_CLUSTER}, name: h, runtimeRoles: true }]
runtimeRoles: ["${DEPLOYED_ROLE}"]
principals: [{ match: "arn:aws:iam::123456789012:role/DataTeamA", policies: [p] }]
policies:
  p: { Version: "2012-10-17", Statement: [{ Effect: Allow, Action: elasticmapreduce:AddJobFlowSteps, Resource: "*" }] }
`;

export interface Deployed {
  dynamo: TestDynamo;
  emr: FakeEmr;
  kms: FakeKms;
  s3: FakeS3;
}

/** Sets the environment up before the file's tests (and tears it down after); the fields are there from beforeAll on. */
export function deployedFunctions(logLevel: 'SILENT' | 'INFO'): Deployed {
  const deployed = {} as Deployed;
  beforeAll(async () => {
    deployed.dynamo = await startDynamo();
    deployed.emr = new FakeEmr();
    deployed.kms = new FakeKms();
    deployed.s3 = new FakeS3();
    const dir = mkdtempSync(join(tmpdir(), 'gw-deployed-'));
    const config = join(dir, 'gateway.json');
    writeFileSync(config, JSON.stringify(deployableConfig(parseConfig(CONFIG, join(dir, 'gateway.yaml')).config)));
    Object.assign(process.env, {
      EMR_GATEWAY_CONFIG: config,
      JOBS_TABLE: deployed.dynamo.jobsTable,
      AUDIT_TABLE: deployed.dynamo.auditTable,
      AUDIT_KEY_ID: deployed.kms.keyArn,
      DIGEST_BUCKET: 'emr-gateway-digests-test',
      DIGEST_KEY_ID: deployed.kms.digestKeyArn,
      AWS_ENDPOINT_URL: deployed.dynamo.endpoint,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:submit-job',
      POWERTOOLS_LOG_LEVEL: logLevel,
    });
  });
  afterAll(async () => {
    deployed.emr.restore();
    deployed.kms.restore();
    deployed.s3.restore();
    await deployed.dynamo.stop();
  });
  return deployed;
}

/** A JobService over the Lambda container's gateway whose workflow start does nothing. */
export function heldService(gw: Gateway): JobService {
  return new JobService({
    config: gw.loaded.config,
    engine: gw.loaded.engine,
    jobs: gw.jobs,
    audit: gw.audit,
    sealer: gw.sealer,
    digests: gw.digests,
    workflow: { start: () => Promise.resolve() },
    tasks: gw.tasks,
    polling: gw.env.polling,
  });
}
