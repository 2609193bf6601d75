/**
 * What a newcomer trips over, with the real CLI (child process) against the real local stack (the example
 * configuration, the local EMR running steps): no credentials, the AWS port given as the gateway, a cluster
 * without runtime roles.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { LocalStack } from '../../src/local/stack';
import { KEYS, newDataDir, startStack } from '../support/local-stack';

jest.setTimeout(90_000);

const BIN = resolve(__dirname, '../../bin/emr-gateway.js');

let stack: LocalStack;
beforeAll(async () => {
  stack = await startStack(newDataDir());
});
afterAll(() => stack.stop());

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** No credentials file, no instance metadata: only what `env` gives. */
function cli(args: string[], env: Record<string, string> = { ...asAlice() }): Promise<Run> {
  const base = { PATH: process.env.PATH ?? '', HOME: '/nonexistent', AWS_CONFIG_FILE: '/nonexistent/config', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials', AWS_EC2_METADATA_DISABLED: 'true' };
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...base, EMR_GATEWAY_ENDPOINT: stack.apiUrl, AWS_REGION: 'us-east-1', ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr: stderr.replace(/^\(node:\d+\) Warning: NodeVersionSupportWarning[\s\S]*?trace-warnings[^\n]*\n/, '') });
    });
  });
}

const asAlice = () => ({ AWS_ACCESS_KEY_ID: KEYS.alice.accessKeyId, AWS_SECRET_ACCESS_KEY: KEYS.alice.secretAccessKey });

describe('no credentials', () => {
  it('says what to set, exit 3 (not "internal error", not 70)', async () => {
    const r = await cli(['list'], {});
    expect(r.code).toBe(3);
    expect(r.stderr).not.toContain('internal error');
    expect(r.stderr).toMatch(/^emr-gateway: no AWS credentials to sign the request with \(Could not load credentials from any providers\)\n/);
    expect(r.stderr).toContain('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
    expect(r.stderr).toContain('AWS_PROFILE (or --profile)');
    expect(r.stderr).toContain('the export lines `emr-gateway local` printed');
    expect(r.stdout).toBe('');
  });

  it('the dashboard without credentials says so before it listens, exit 3; a bad --port is a usage error, exit 2', async () => {
    const r = await cli(['dashboard', '--port', '0'], {});
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^emr-gateway: no AWS credentials to sign the request with/);
    expect(r.stdout).toBe('');
    const port = await cli(['dashboard', '--port', 'eighty']);
    expect(port.code).toBe(2);
    expect(port.stderr).toContain('--port must be a port number from 0 (any free one) to 65535, not "eighty"');
  });

  it('a profile that gives none: names it, exit 3', async () => {
    const r = await cli(['roles', '--profile', 'nope'], {});
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^emr-gateway: no AWS credentials from profile "nope" \(Could not load credentials from any providers\)\n/);
    expect(r.stderr).toContain('AWS_CONFIG_FILE');
  });
});

describe('an endpoint that is not the gateway', () => {
  it("the local stack's AWS port: says it is not the gateway and where the gateway is, exit 2", async () => {
    const r = await cli(['list', '--endpoint', stack.awsUrl]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^emr-gateway: ${stack.awsUrl} is not the gateway: it answers as an AWS service endpoint does \\(UnknownOperationException: [^\\n]*\\)`));
    expect(r.stderr).toContain('the gateway answers {"error": {"code", "message"}}');
    expect(r.stderr).toContain('the local stack\'s AWS port');
    expect(r.stderr).toContain('"Gateway API"');
    expect(r.stderr).not.toMatch(/the gateway answered 400/);
  });

  it('an S3-like endpoint (XML errors): not the gateway either', async () => {
    const s3: Server = createServer((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>');
    });
    await new Promise<void>((done) => s3.listen(0, '127.0.0.1', done));
    try {
      const url = `http://127.0.0.1:${(s3.address() as AddressInfo).port}`;
      const r = await cli(['status', 'job-0000000000000000000000000z', '--endpoint', url]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^emr-gateway: ${url} is not the gateway: it answers with AWS's XML errors \\(AccessDenied: Access Denied\\)`));
    } finally {
      await new Promise((done) => s3.close(done));
    }
  });

  it('the gateway itself, with a wrong secret: its own 401 stands (no "not the gateway")', async () => {
    const r = await cli(['list'], { AWS_ACCESS_KEY_ID: KEYS.alice.accessKeyId, AWS_SECRET_ACCESS_KEY: 'wrong' });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^emr-gateway: 401 Unauthorized: /);
    expect(r.stderr).not.toContain('not the gateway');
  });

  it('nothing listening: cannot reach it, and for a loopback address, whether the local stack runs', async () => {
    // A port that was free a moment ago (fetch refuses some low ones, such as 9, as "bad port").
    const probe = createServer();
    await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
    const { port } = probe.address() as AddressInfo;
    await new Promise((done) => probe.close(done));
    const r = await cli(['list', '--endpoint', `http://127.0.0.1:${port}`], { ...asAlice(), EMR_GATEWAY_RETRY_SECONDS: '0' });
    expect(r.code).toBe(5);
    // No retries asked for (EMR_GATEWAY_RETRY_SECONDS=0): the first refusal is the answer, exit 5 as for any gateway that does not answer.
    expect(r.stderr).toMatch(new RegExp(`^emr-gateway: cannot reach http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)\n`));
    expect(r.stderr).toContain('Is the local stack running?');
  });
});

describe('a cluster without runtime roles (the example\'s j-1LEGACYNORUNTIME)', () => {
  const LEGACY = 'j-1LEGACYNORUNTIME';
  const ETL = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';
  const WHY = `runtime roles are not enabled on cluster ${LEGACY} (legacy): its security configuration does not enable them (EnableApplicationScopedIAMRole), and EMR refuses every step that names one ("Runtime roles are not supported on this cluster."), as every step of this gateway does`;

  it('roles offers none there and says why (table: on stderr; json: per cluster)', async () => {
    const r = await cli(['roles']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^j-2AXXXXXXGAPLF\s+\S+CallerTeamRoleETL\s/m);
    expect(r.stdout).not.toContain(LEGACY);
    expect(r.stderr).toBe(`${LEGACY}: no runtime role offered: ${WHY}\n`);
    const asJson = JSON.parse((await cli(['roles', '--output', 'json'])).stdout) as { clusters: { clusterId: string; roles: unknown[]; unavailable?: string }[] };
    expect(asJson.clusters.find((c) => c.clusterId === LEGACY)).toEqual({ clusterId: LEGACY, roles: [], unavailable: WHY });
    expect(asJson.clusters.find((c) => c.clusterId === 'j-2AXXXXXXGAPLF')).not.toHaveProperty('unavailable');
    const one = await cli(['roles', '--cluster', LEGACY]);
    expect(one).toMatchObject({ code: 0, stdout: '', stderr: `${LEGACY}: no runtime role offered: ${WHY}\n` });
  });

  it('roles --config (offline) says the same', async () => {
    const r = await cli(['roles', '--config', resolve(__dirname, '../../config/example.yaml'), '--principal', 'arn:aws:sts::123456789012:assumed-role/DataTeamA/alice', '--cluster', LEGACY]);
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: `${LEGACY}: no runtime role offered: ${WHY}\n` });
  });

  it('a submission there is refused up front with EMR\'s reason (400, exit 2), and no job is recorded', async () => {
    const r = await cli(['submit', '--cluster', LEGACY, '--role', ETL, '--name', 'legacy attempt', '--wait', '--', 'true']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`emr-gateway: 400 ValidationError: clusterId: ${WHY}\n`);
    expect(r.stdout).toBe('');
    const listed = JSON.parse((await cli(['list', '--output', 'json', '--limit', '100'])).stdout) as { jobs: { name: string }[] };
    expect(listed.jobs.map((j) => j.name)).not.toContain('legacy attempt');
  });
});
