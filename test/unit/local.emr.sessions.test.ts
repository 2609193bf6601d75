/**
 * The local EMR's GetClusterSessionCredentials, on the local IAM seeded for the example configuration and the local
 * STS with a fake clock, as the stack wires them: EMR's shapes (Credentials.UsernamePassword, ExpiresAt), its
 * runtime-role rule (the cluster's security configuration must enable them), and the role's session as the
 * cluster's node assumes it for a step (trust, ExternalId, source identity where propagated), or a refusal naming the
 * role. On the wire, through the AWS CLI: e2e/sessions.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfigFile } from '../../src/config-file/load';
import { LocalEmr } from '../../src/local/emr/api';
import { externalIdFor } from '../../src/local/emr/external-id';
import { EmrStepCredentials } from '../../src/local/emr/step-credentials';
import type { LocalServiceError } from '../../src/local/errors';
import { LocalIam } from '../../src/local/iam';
import { seedLocalIam } from '../../src/local/iam-seed';
import { LocalSts } from '../../src/local/sts';
import { thrown } from '../support/thrown';

const ACCOUNT = '123456789012';
const CONFIG = loadConfigFile(resolve(__dirname, '../../config/example.yaml')).config;
const ANALYTICS = 'j-2AXXXXXXGAPLF';
const LEGACY = 'j-1LEGACYNORUNTIME';
const ETL = `arn:aws:iam::${ACCOUNT}:role/CallerTeamRoleETL`;
const HOUR = 3600_000;

let now: number;
let dir: string;
let emr: LocalEmr;
let sts: LocalSts;
let iam: LocalIam;

beforeEach(() => {
  now = Date.parse('2026-06-15T12:00:00Z');
  dir = mkdtempSync(join(tmpdir(), 'local-emr-sessions-'));
  // The node's credentials come from the STS made after the EMR (whose security configurations seed the IAM), as in the stack.
  const node: { credentials?: EmrStepCredentials } = {};
  emr = new LocalEmr({
    dataDir: dir,
    region: 'us-east-1',
    account: ACCOUNT,
    env: { PATH: process.env.PATH },
    holdSteps: true,
    now: () => now,
    runtimeRoleCredentials: (request, cluster, securityConfiguration) => node.credentials!.forRuntimeRole(request, cluster, securityConfiguration),
  });
  for (const c of CONFIG.clusters) emr.ensureCluster(c);
  iam = new LocalIam({ dataDir: dir, partition: 'aws', account: ACCOUNT });
  seedLocalIam(iam, CONFIG, (id) => {
    const name = emr.clusters.get(id)?.securityConfiguration;
    const config = name === undefined ? undefined : emr.securityConfigurations.get(name);
    return config && externalIdFor(config, ACCOUNT);
  });
  sts = new LocalSts({ account: ACCOUNT, partition: 'aws', iam, now: () => now });
  node.credentials = new EmrStepCredentials({ sts, iam, account: ACCOUNT, now: () => now });
});

afterEach(async () => {
  await emr.stop();
  rmSync(dir, { recursive: true, force: true });
});

const refusal = (input: Record<string, unknown>, sourceIdentity?: string): LocalServiceError => thrown(() => emr.getClusterSessionCredentials(input, sourceIdentity)) as LocalServiceError;

describe('GetClusterSessionCredentials', () => {
  it("issues a user name and password for the runtime role, expiring with the role's session the cluster's node assumed (an hour), with the caller's source identity", () => {
    const answer = emr.getClusterSessionCredentials({ ClusterId: ANALYTICS, ExecutionRoleArn: ETL }, 'alice');
    const { Username, Password } = answer.Credentials.UsernamePassword;
    expect(Username).toMatch(/^emr-session-[0-9a-f]{16}$/);
    expect(Password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(answer.ExpiresAt).toBe((now + HOUR) / 1000);
    const issued = emr.sessionCredentialsFor(ANALYTICS, Username, Password);
    expect(issued).toEqual({ username: Username, clusterId: ANALYTICS, executionRoleArn: ETL, sourceIdentity: 'alice', roleSessionAccessKeyId: expect.stringMatching(/^ASIA/) as string, expires: now + HOUR });
    // The role session behind them: the runtime role's, named after the user, carrying alice (the cluster propagates it).
    expect(sts.session(issued!.roleSessionAccessKeyId)).toMatchObject({ roleArn: ETL, sessionName: Username, sourceIdentity: 'alice' });
    // Each call issues new credentials; a wrong password, another cluster, or after the expiry: nothing.
    expect(emr.getClusterSessionCredentials({ ClusterId: ANALYTICS, ExecutionRoleArn: ETL }).Credentials.UsernamePassword.Username).not.toBe(Username);
    expect(emr.sessionCredentialsFor(ANALYTICS, Username, `${Password.slice(1)}x`)).toBeUndefined();
    expect(emr.sessionCredentialsFor(LEGACY, Username, Password)).toBeUndefined();
    now += HOUR;
    expect(emr.sessionCredentialsFor(ANALYTICS, Username, Password)).toBeUndefined();
  });

  it.each([
    [{ ClusterId: ANALYTICS }, 'ValidationException', "1 validation error detected: Value null at 'executionRoleArn' failed to satisfy constraint: Member must not be null"],
    [{ ExecutionRoleArn: ETL }, 'ValidationException', "1 validation error detected: Value null at 'clusterId' failed to satisfy constraint: Member must not be null"],
    [{ ClusterId: ANALYTICS, ExecutionRoleArn: 'arn:aws:iam::1:r' }, 'ValidationException', "1 validation error detected: Value 'arn:aws:iam::1:r' at 'executionRoleArn' failed to satisfy constraint: Member must have length greater than or equal to 20"],
    [{ ClusterId: ANALYTICS, ExecutionRoleArn: 7 }, 'SerializationException', 'ExecutionRoleArn must be a string'],
    [{ ClusterId: 'j-NOSUCHCLUSTER', ExecutionRoleArn: ETL }, 'InvalidRequestException', "Cluster id 'j-NOSUCHCLUSTER' is not valid."],
    [{ ClusterId: LEGACY, ExecutionRoleArn: ETL }, 'ValidationException', 'Runtime roles are not supported on this cluster.'],
  ])('refuses %j as EMR does: %s', (input, type, message) => {
    expect(refusal(input)).toMatchObject({ type, message, status: 400 });
  });

  it('refuses a role the cluster cannot assume, naming it with IAM\'s reason: unknown to IAM, or no longer trusting the instance profile role', () => {
    const unknown = `arn:aws:iam::${ACCOUNT}:role/NoSuchRole`;
    expect(refusal({ ClusterId: ANALYTICS, ExecutionRoleArn: unknown })).toMatchObject({ type: 'InvalidRequestException', message: expect.stringContaining(`The cluster cannot obtain credentials of the runtime role ${unknown}: `) as string });
    iam.updateAssumeRolePolicy('CallerTeamRoleETL', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/emr-gateway-submitter` }, Action: 'sts:AssumeRole' }] }));
    const error = refusal({ ClusterId: ANALYTICS, ExecutionRoleArn: ETL }, 'alice');
    expect(error).toMatchObject({ type: 'InvalidRequestException' });
    expect(error.message).toMatch(/CallerTeamRoleETL.*is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role\/CallerTeamRoleETL/);
  });
});
