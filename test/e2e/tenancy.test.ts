/**
 * Tenants sharing a cluster on the local stack: EMR's ActionOnFailure reaches beyond the step that asks for it
 * (a failing CANCEL_AND_WAIT step cancels every pending step on the cluster, whoever submitted it), so each
 * cluster says which values callers may ask for, and a job EMR cancelled because of someone else's step says why.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DescribeStepCommand, EMRClient } from '@aws-sdk/client-emr';
import { verifyChain } from '../../src/audit/chain';
import { GatewayApiError } from '../../src/client';
import type { LocalStack } from '../../src/local/stack';
import { clientFor, finished, KEYS, newDataDir, startStack, until } from '../support/local-stack';

jest.setTimeout(60_000);

const ACCOUNT = '123456789012';
const BATCH = 'j-2BATCHSHARED1';
const ANALYTICS = 'j-2AXXXXXXGAPLF';
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const submitAs = (roleName: string) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['elasticmapreduce:AddJobFlowSteps', 'elasticmapreduce:CancelSteps'], Resource: `arn:aws:elasticmapreduce:us-east-1:${ACCOUNT}:cluster/*`, Condition: { StringEquals: { 'elasticmapreduce:ExecutionRoleArn': role(roleName) } } }],
});

/** Two teams on two clusters: `batch` runs one step at a time and lets callers ask for CANCEL_AND_WAIT; `analytics` keeps the default. */
const CONFIG = {
  account: ACCOUNT,
  region: 'us-east-1',
  clusters: [
    { id: BATCH, name: 'batch', runtimeRoles: true, propagateSourceIdentity: true, stepConcurrencyLevel: 1, allowedActionsOnFailure: ['CONTINUE', 'CANCEL_AND_WAIT'] },
    { id: ANALYTICS, name: 'analytics', runtimeRoles: true, propagateSourceIdentity: true, stepConcurrencyLevel: 4 },
  ],
  runtimeRoles: [role('CallerTeamRoleETL'), role('Caller')],
  principals: [
    { match: role('DataTeamA'), policies: ['team-a'] },
    { match: role('Analysts'), policies: ['analysts'] },
  ],
  policies: { 'team-a': submitAs('CallerTeamRoleETL'), analysts: submitAs('Caller') },
  local: {
    credentials: [
      { ...KEYS.alice, principal: `arn:aws:sts::${ACCOUNT}:assumed-role/DataTeamA/alice` },
      { ...KEYS.bob, principal: `arn:aws:sts::${ACCOUNT}:assumed-role/Analysts/bob` },
    ],
  },
};

let stack: LocalStack;
const dataDir = newDataDir();
beforeAll(async () => {
  const configFile = join(dataDir, 'tenancy.yaml');
  writeFileSync(configFile, JSON.stringify(CONFIG)); // JSON is YAML
  stack = await startStack(dataDir, { configFile });
});
afterAll(() => stack?.stop());

const command = (clusterId: string, roleName: string, args: string[], extra: Record<string, unknown> = {}) => ({
  clusterId,
  executionRoleArn: role(roleName),
  name: 'tenancy',
  step: { type: 'command' as const, args },
  ...extra,
});

it('CANCEL_AND_WAIT on a cluster that allows only CONTINUE: 400 naming actionOnFailure and the allowed values, no job', async () => {
  const alice = clientFor(stack, 'alice');
  const error = await alice.submit(command(ANALYTICS, 'CallerTeamRoleETL', ['true'], { actionOnFailure: 'CANCEL_AND_WAIT' })).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(GatewayApiError);
  expect(error).toMatchObject({ status: 400, code: 'ValidationError', message: expect.stringMatching(/^actionOnFailure: CANCEL_AND_WAIT is not allowed on cluster j-2AXXXXXXGAPLF \(analytics\): it allows CONTINUE\b/) });
  expect((await alice.listJobs({})).jobs).toEqual([]);
});

it("where CANCEL_AND_WAIT is allowed, a failing step cancels another tenant's pending step: that job ends CANCELLED with EMR's reason in its view and audit", async () => {
  const alice = clientFor(stack, 'alice');
  const bob = clientFor(stack, 'bob');
  const go = join(dataDir, 'go');
  // alice's step holds the cluster's only slot until the test lets it fail.
  const failing = await alice.submit(command(BATCH, 'CallerTeamRoleETL', ['bash', '-c', `while [ ! -e '${go}' ]; do sleep 0.05; done; echo 'bad input' >&2; exit 1`], { actionOnFailure: 'CANCEL_AND_WAIT' }));
  await until(async () => ((await alice.getJob(failing.jobId)).status === 'RUNNING' ? true : undefined));
  const victim = await bob.submit(command(BATCH, 'Caller', ['bash', '-c', 'echo bob was here']));
  await until(async () => ((await bob.getJob(victim.jobId)).status === 'PENDING' ? true : undefined));
  writeFileSync(go, '');

  const failed = await finished(alice, failing.jobId);
  expect(failed).toMatchObject({ status: 'FAILED', failureDetails: { message: 'bad input' } });
  const cancelled = await finished(bob, victim.jobId);
  const reason = { message: `Cancelled after step ${failed.step.id} failed (CANCEL_AND_WAIT).` };
  expect(cancelled).toMatchObject({ status: 'CANCELLED', step: { state: 'CANCELLED' }, stateChangeReason: reason });
  expect(cancelled.cancelRequested).toBeUndefined(); // nobody asked the gateway to cancel it

  // EMR's own shape for it: DescribeStep's Status.StateChangeReason.
  const emr = new EMRClient({ endpoint: stack.awsUrl, region: stack.region, credentials: KEYS.bob });
  const described = await emr.send(new DescribeStepCommand({ ClusterId: BATCH, StepId: cancelled.step.id }));
  expect(described.Step?.Status).toMatchObject({ State: 'CANCELLED', StateChangeReason: { Message: reason.message } });

  const trail = await bob.audit(victim.jobId);
  expect(trail.verification).toMatchObject({ ok: true });
  expect(verifyChain(victim.jobId, trail.events.map((e) => ({ ...e, jobId: victim.jobId })))).toMatchObject({ ok: true });
  expect(trail.events.at(-1)).toMatchObject({ type: 'CANCELLED', emr: { stepId: cancelled.step.id, state: 'CANCELLED', stateChangeReason: reason } });

  // ...and bob's `emr-gateway status` says why.
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, EMR_GATEWAY_ENDPOINT: stack.apiUrl, AWS_REGION: stack.region, AWS_ACCESS_KEY_ID: KEYS.bob.accessKeyId, AWS_SECRET_ACCESS_KEY: KEYS.bob.secretAccessKey };
  // Not spawnSync: the stack answering it runs in this process.
  const status = await promisify(execFile)(process.execPath, [resolve(__dirname, '../../bin/emr-gateway.js'), 'status', victim.jobId], { encoding: 'utf8', env, timeout: 30_000 }).catch((e: { stdout: string }) => e);
  expect(status.stdout).toMatch(new RegExp(`^EMR reason +${reason.message.replace(/[().]/g, '\\$&')}$`, 'm'));
});
