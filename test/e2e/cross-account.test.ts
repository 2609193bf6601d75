/**
 * A cluster of a second account on the real local stack (issue 15, item 4), as the example configures it: the gateway
 * reaches j-3BXXXXXXPARTNR of account 210987654321 only through that account's access role (AssumeRole with the
 * ExternalId, alice as SourceIdentity), a job there under that account's runtime role completes, run with that role's
 * credentials and alice as source identity, and its audit trail names the cluster's real ARN. EMR keeps the account
 * boundary: the first account's credentials do not see the second's cluster. An access role whose trust asks for
 * another ExternalId refuses the gateway: the job is REJECTED by STS, with the reason.
 */
import { DescribeClusterCommand, EMRClient, ListClustersCommand } from '@aws-sdk/client-emr';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { rmSync, writeFileSync } from 'node:fs';
import type { GatewayClient } from '../../src/client';
import type { LocalStack } from '../../src/local/stack';
import { clientFor, finished, KEYS, newDataDir, startStack, until } from '../support/local-stack';

jest.setTimeout(120_000);

const OTHER = '210987654321';
const PARTNER_CLUSTER = 'j-3BXXXXXXPARTNR';
const PARTNER_ETL = `arn:aws:iam::${OTHER}:role/PartnerTeamRoleETL`;
const ACCESS_ROLE = `arn:aws:iam::${OTHER}:role/emr-gateway-access`;
const PARTNER_LOGS = `aws-logs-${OTHER}-us-east-1`;
/** The stack's own key: a session of the gateway's functions role (account 123456789012). */
const GATEWAY_KEY = 'AKIALOCALGATEWAY0000';
const job = (args: string[]) => ({ clusterId: PARTNER_CLUSTER, executionRoleArn: PARTNER_ETL, name: 'partner e2e', step: { type: 'command' as const, args } });

let stack: LocalStack;
let alice: GatewayClient;
beforeAll(async () => {
  stack = await startStack(newDataDir());
  alice = clientFor(stack, 'alice');
});
afterAll(async () => {
  await stack?.stop();
});

const otherIam = () => stack.sts.iamOf(OTHER)!;
async function logOf(stepId: string): Promise<string> {
  return (await fetch(`${stack.awsUrl}/_local/emr/steps/${stepId}/stdout`)).text();
}

it('the second account holds its own roles: the access role trusts the gateway\'s role with the ExternalId', () => {
  const trust = JSON.parse(otherIam().getRole('emr-gateway-access').trustPolicy) as { Statement: { Principal: unknown; Condition: unknown }[] };
  expect(trust.Statement[0]).toMatchObject({ Principal: { AWS: 'arn:aws:iam::123456789012:role/emr-gateway-functions' }, Condition: { StringEquals: { 'sts:ExternalId': 'emr-gateway-7Kq2Xw' } } });
  // Both accounts have an EMR_EC2_DefaultRole: each its own.
  expect(otherIam().roleArn(otherIam().getRole('EMR_EC2_DefaultRole'))).toBe(`arn:aws:iam::${OTHER}:role/EMR_EC2_DefaultRole`);
  expect(stack.iam.findRoleByName('PartnerTeamRoleETL')).toBeUndefined();
});

it("a wrong ExternalId: the access role's trust refuses the gateway, and the job is REJECTED by STS with the reason", async () => {
  const saved = otherIam().getRole('emr-gateway-access').trustPolicy;
  otherIam().updateAssumeRolePolicy('emr-gateway-access', saved.replace('emr-gateway-7Kq2Xw', 'another-external-id'));
  try {
    const { jobId } = await alice.submit(job(['true']));
    const done = await finished(alice, jobId);
    expect(done.status).toBe('REJECTED');
    const rejected = (await stack.gateway.audit.list(jobId)).find((e) => e.type === 'REJECTED');
    expect(rejected?.detail).toMatchObject({ by: 'STS', error: 'AccessDenied', message: expect.stringContaining(`AssumeRole of ${ACCESS_ROLE} (the access role of cluster ${PARTNER_CLUSTER} in account ${OTHER})`) });
    expect([...stack.emr.steps.values()].filter((s) => s.clusterId === PARTNER_CLUSTER)).toEqual([]);
  } finally {
    otherIam().updateAssumeRolePolicy('emr-gateway-access', saved);
  }
});

it("a job on the second account's cluster under that account's runtime role completes, as alice, audited with the cluster's real ARN", async () => {
  const { jobId } = await alice.submit(job(['bash', '-c', 'echo "partner"; echo "key=$AWS_ACCESS_KEY_ID"']));
  const done = await finished(alice, jobId);
  expect(done.status).toBe('COMPLETED');
  const log = await logOf(done.step.id!);
  expect(log).toContain('partner');
  // The step ran as the runtime role of the second account (assumed by that account's instance profile role), with alice.
  expect(stack.sts.session(/^key=(\S+)$/m.exec(log)?.[1])).toMatchObject({ roleArn: PARTNER_ETL, sourceIdentity: 'alice' });
  expect(stack.emr.steps.get(done.step.id!)).toMatchObject({ clusterId: PARTNER_CLUSTER, sourceIdentity: 'alice' });
  const trail = await alice.audit(jobId);
  expect(trail.verification).toMatchObject({ ok: true });
  const decision = trail.events.find((e) => e.type === 'DECISION');
  expect(decision?.subject).toMatchObject({ clusterId: PARTNER_CLUSTER, clusterArn: `arn:aws:elasticmapreduce:us-east-1:${OTHER}:cluster/${PARTNER_CLUSTER}` });
  expect(trail.events.find((e) => e.type === 'SUBMITTED')?.emr).toMatchObject({ sourceIdentity: 'alice' });
  // The gateway's session in the second account: its access role, with alice as source identity.
  expect([...stack.sts.sessions.values()].some((s) => s.roleArn === ACCESS_ROLE && s.sourceIdentity === 'alice')).toBe(true);
});

it("a longer job there ends as promptly: its step events stay in that account (nothing forwards them), so the gateway looks at the step itself", async () => {
  const { jobId } = await alice.submit(job(['sleep', '3']));
  const started = Date.now();
  await until(async () => ((await alice.getJob(jobId)).status === 'RUNNING' ? true : undefined), 30_000);
  // Not the 180 s of a wait for an event: the wait's heartbeat is the polling's longest interval (1 s here).
  const done = await finished(alice, jobId, 20_000);
  expect(done.status).toBe('COMPLETED');
  expect(Date.now() - started).toBeLessThan(15_000);
});

it("an interactive session on the second account's cluster: issued through the access role, for that account's runtime role, as alice", async () => {
  const opened = await alice.openSession({ clusterId: PARTNER_CLUSTER, executionRoleArn: PARTNER_ETL });
  expect(opened).toMatchObject({ clusterId: PARTNER_CLUSTER, executionRoleArn: PARTNER_ETL });
  // The local EMR read alice from the calling session: the access role's, with alice set as SourceIdentity on that hop.
  expect(stack.emr.sessionCredentialsFor(PARTNER_CLUSTER, opened.credentials.username, opened.credentials.password)).toMatchObject({ executionRoleArn: PARTNER_ETL, sourceIdentity: 'alice' });
  const trail = await alice.sessionAudit(opened.sessionId);
  expect(trail.events.find((e) => e.type === 'DECISION')?.subject).toMatchObject({ clusterArn: `arn:aws:elasticmapreduce:us-east-1:${OTHER}:cluster/${PARTNER_CLUSTER}` });
});

it("EMR's account boundary: the first account's credentials do not see the second account's cluster; the access role's do", async () => {
  const target = { region: stack.region, endpoint: stack.awsUrl };
  const first = new EMRClient({ ...target, credentials: KEYS.alice });
  await expect(first.send(new DescribeClusterCommand({ ClusterId: PARTNER_CLUSTER }))).rejects.toMatchObject({ name: 'InvalidRequestException', message: `Cluster id '${PARTNER_CLUSTER}' is not valid.` });
  expect((await first.send(new ListClustersCommand({}))).Clusters?.map((c) => c.Id)).not.toContain(PARTNER_CLUSTER);

  const session = stack.sts.assumeRole({ roleArn: ACCESS_ROLE, sessionName: 'e2e', externalId: 'emr-gateway-7Kq2Xw' }, stack.sts.caller(GATEWAY_KEY));
  const credentials = { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken };
  expect((await new STSClient({ ...target, credentials }).send(new GetCallerIdentityCommand({}))).Account).toBe(OTHER);
  const second = new EMRClient({ ...target, credentials });
  expect((await second.send(new DescribeClusterCommand({ ClusterId: PARTNER_CLUSTER }))).Cluster).toMatchObject({ Id: PARTNER_CLUSTER, ClusterArn: `arn:aws:elasticmapreduce:us-east-1:${OTHER}:cluster/${PARTNER_CLUSTER}` });
  await expect(second.send(new DescribeClusterCommand({ ClusterId: 'j-2AXXXXXXGAPLF' }))).rejects.toMatchObject({ name: 'InvalidRequestException' });
  expect((await second.send(new ListClustersCommand({}))).Clusters?.map((c) => c.Id)).toEqual([PARTNER_CLUSTER]);
});

describe("the second account's step logs and Spark UI: read through its access role, as its cluster is", () => {
  const accessRoleCredentials = () => {
    const session = stack.sts.assumeRole({ roleArn: ACCESS_ROLE, sessionName: 'e2e', externalId: 'emr-gateway-7Kq2Xw' }, stack.sts.caller(GATEWAY_KEY));
    return { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken };
  };

  it("GET /jobs/{id}/logs reads the job's log from the second account's bucket, and GET /jobs/{id}/ui gives a link that opens, running and ended", async () => {
    const gate = `/tmp/emr-gateway-partner-ui-${process.pid}`;
    const { jobId } = await alice.submit(job(['bash', '-c', `echo "partner log line"; while [ ! -e ${gate} ]; do sleep 0.1; done`]));
    await until(async () => ((await alice.getJob(jobId)).status === 'RUNNING' ? true : undefined), 30_000);
    const running = await alice.appUi(jobId);
    expect(running).toMatchObject({ kind: 'on-cluster', ready: true });
    expect((await fetch(running.url!)).status).toBe(200);
    writeFileSync(gate, '');
    try {
      expect((await finished(alice, jobId)).status).toBe('COMPLETED');
    } finally {
      rmSync(gate, { force: true });
    }
    await expect(alice.logs(jobId)).resolves.toMatchObject({ stream: 'stdout', lines: ['partner log line'] });
    const ended = await alice.appUi(jobId);
    expect(ended).toMatchObject({ kind: 'persistent', ready: true });
    const history = await fetch(ended.url!);
    expect(history.status).toBe(200);
    expect(await history.text()).toContain(`State: <strong class="state">COMPLETED</strong>`);
  });

  it("S3's account boundary: the bucket of the second account refuses the first account's credentials, and answers its own", async () => {
    const target = { region: stack.region, endpoint: stack.awsUrl, forcePathStyle: true };
    const first = new S3Client({ ...target, credentials: KEYS.alice });
    await expect(first.send(new ListObjectsV2Command({ Bucket: PARTNER_LOGS }))).rejects.toMatchObject({ name: 'AccessDenied' });
    await expect(first.send(new GetObjectCommand({ Bucket: PARTNER_LOGS, Key: 'elasticmapreduce/x' }))).rejects.toMatchObject({ name: 'AccessDenied' });
    const second = new S3Client({ ...target, credentials: accessRoleCredentials() });
    const listed = await second.send(new ListObjectsV2Command({ Bucket: PARTNER_LOGS, Prefix: `elasticmapreduce/${PARTNER_CLUSTER}/steps/` }));
    expect(listed.Contents?.length).toBeGreaterThan(0);
  });
});
