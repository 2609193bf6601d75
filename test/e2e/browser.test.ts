/**
 * A web page in the developer's browser against every TCP port the local stack listens on, found in the
 * kernel's tables rather than taken from the stack: a cross-origin request (Origin), DNS rebinding (a foreign
 * Host), a CORS preflight, a no-cors subresource load. None of them may read or change the stack's state or
 * get a CORS allowance; the tools' path (AWS SDK, the signed client) keeps working. And the data directory,
 * which holds the same state on disk, is private.
 */
import { chmodSync, existsSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { Sha256 } from '@aws-crypto/sha256-js';
import { DynamoDBClient, GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { LocalStack } from '../../src/local/stack';
import { tcpListenPorts, unixListenPaths } from '../support/listeners';
import { clientFor, finished, newDataDir, startStack } from '../support/local-stack';

jest.setTimeout(60_000);

const CLUSTER = 'j-2AXXXXXXGAPLF';
const ETL = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';
const PAGE = 'https://evil.example';
const MARKER = 'secret-output-7f3a';
const PLANTED = 'job-plantedbyawebpage0000000';
const DIGESTS = 'browser-test-digests';
// The demo keys are printed by `npm start` and written in the README: a page may well know them.
const ALICE = { accessKeyId: 'AKIALOCALALICE000001', secretAccessKey: 'local-alice-secret' };

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request exactly as given (node:http sends our Host; fetch would not). */
function send(port: number, init: { method: string; path: string; headers: Record<string, string>; body?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: init.method, path: init.path, headers: init.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** Signed as the SDKs sign, for `host` (what the page's URL names): what a page with the demo keys can build. */
async function signed(host: string, port: number, init: { method: string; path: string; service: string; headers?: Record<string, string>; body?: string }): Promise<Record<string, string>> {
  const signer = new SignatureV4({ service: init.service, region: 'us-east-1', credentials: ALICE, sha256: Sha256 });
  const out = await signer.sign(
    new HttpRequest({ method: init.method, protocol: 'http:', hostname: host, port, path: init.path, headers: { host: `${host}:${port}`, ...init.headers }, ...(init.body ? { body: init.body } : {}) }),
  );
  return Object.fromEntries(Object.entries(out.headers).map(([k, v]) => [k.toLowerCase(), v]));
}

interface Attack {
  what: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

async function attacks(port: number, stepId: string): Promise<Attack[]> {
  const dynamo = async (host: string, operation: string, input: unknown, extra: Record<string, string> = {}): Promise<Omit<Attack, 'what'>> => {
    const body = JSON.stringify(input);
    const headers = { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `DynamoDB_20120810.${operation}`, ...extra };
    return { method: 'POST', path: '/', headers: await signed(host, port, { method: 'POST', path: '/', service: 'dynamodb', headers, body }), body };
  };
  const plant = { TableName: 'emr-gateway-jobs', Item: { jobId: { S: PLANTED }, status: { S: 'ACCEPTED' }, principalArn: { S: 'arn:aws:iam::123456789012:role/Anyone' } } };
  const listJobs = (host: string, extra: Record<string, string> = {}) => signed(host, port, { method: 'GET', path: '/jobs', service: 'execute-api', headers: extra });
  const s3 = async (host: string, method: string, path: string, extra: Record<string, string> = {}, body?: string): Promise<Omit<Attack, 'what'>> => ({
    method,
    path,
    headers: await signed(host, port, { method, path, service: 's3', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...extra }, ...(body ? { body } : {}) }),
    ...(body ? { body } : {}),
  });
  return [
    {
      what: 'a CORS preflight',
      method: 'OPTIONS',
      path: '/',
      headers: { host: `127.0.0.1:${port}`, origin: PAGE, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-amz-date,x-amz-target' },
    },
    { what: 'a cross-origin DynamoDB Scan of the jobs', ...(await dynamo('127.0.0.1', 'Scan', { TableName: 'emr-gateway-jobs' }, { origin: PAGE })) },
    { what: 'a cross-origin DynamoDB PutItem of an ACCEPTED job', ...(await dynamo('127.0.0.1', 'PutItem', plant, { origin: PAGE })) },
    { what: 'DNS rebinding: a DynamoDB Scan of the jobs with a foreign Host', ...(await dynamo('evil.example', 'Scan', { TableName: 'emr-gateway-jobs' })) },
    { what: 'DNS rebinding: a DynamoDB PutItem of an ACCEPTED job with a foreign Host', ...(await dynamo('evil.example', 'PutItem', plant)) },
    { what: 'a cross-origin GET /jobs signed with the demo keys', method: 'GET', path: '/jobs', headers: { ...(await listJobs('127.0.0.1', { origin: PAGE })) } },
    { what: 'DNS rebinding: GET /jobs signed with the demo keys for a foreign Host', method: 'GET', path: '/jobs', headers: await listJobs('evil.example') },
    { what: 'a cross-origin S3 PutObject of a forged audit digest', ...(await s3('127.0.0.1', 'PUT', `/${DIGESTS}/planted.json`, { origin: PAGE }, '{"head":"forged"}')) },
    { what: 'a cross-origin S3 ListObjectsV2 of the digests', ...(await s3('127.0.0.1', 'GET', `/${DIGESTS}?list-type=2`, { origin: PAGE })) },
    { what: 'DNS rebinding: an S3 ListBuckets with a foreign Host', ...(await s3('evil.example', 'GET', '/')) },
    {
      what: 'a no-cors <script> load of a step log',
      method: 'GET',
      path: `/_local/emr/steps/${stepId}/stdout`,
      headers: { host: `127.0.0.1:${port}`, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'script' },
    },
  ];
}

let stack: LocalStack;
let stopped = false;
let before: number[];
let jobId: string;
let stepId: string;
const dataDir = newDataDir();

beforeAll(async () => {
  before = tcpListenPorts();
  chmodSync(dataDir, 0o755); // as an existing directory may be
  stack = await startStack(dataDir);
  const alice = clientFor(stack, 'alice');
  ({ jobId } = await alice.submit({ clusterId: CLUSTER, executionRoleArn: ETL, name: 'private', step: { type: 'command', args: ['echo', MARKER] } }));
  const job = await finished(alice, jobId);
  expect(job.status).toBe('COMPLETED');
  stepId = job.step.id!;
  const s3 = new S3Client({ region: stack.region, endpoint: stack.awsUrl, forcePathStyle: true, credentials: { accessKeyId: 'AKIALOCALTOOL0000000', secretAccessKey: 'x' } });
  await s3.send(new CreateBucketCommand({ Bucket: DIGESTS, ObjectLockEnabledForBucket: true }));
  s3.destroy();
});
afterAll(async () => {
  if (!stopped) await stack.stop();
});

const portOf = (url: string) => Number(new URL(url).port);
const opened = () => tcpListenPorts().filter((p) => !before.includes(p));

it('listens on exactly two TCP ports: the gateway API and the AWS port (DynamoDB has none of its own)', () => {
  expect(opened()).toEqual([portOf(stack.apiUrl), portOf(stack.awsUrl)].sort((a, b) => a - b));
  // and on no Unix socket anyone could connect to
  expect(unixListenPaths().filter((path) => existsSync(path))).toEqual([]);
});

it('browser-shaped requests to every listening port reach nothing: no data, no write, no CORS allowance', async () => {
  const ports = opened();
  expect(ports.length).toBeGreaterThan(0);
  const reached: string[] = [];
  for (const port of ports) {
    for (const attack of await attacks(port, stepId)) {
      const reply = await send(port, attack);
      const cors = Object.keys(reply.headers).filter((h) => h.startsWith('access-control-'));
      const leaked = [jobId, stepId, MARKER, 'emr-gateway-jobs', DIGESTS].filter((s) => reply.body.includes(s));
      if (reply.status < 400 || cors.length || leaked.length) reached.push(`port ${port}, ${attack.what}: ${reply.status} ${cors.join(',')} ${leaked.join(',')}`);
    }
  }
  expect(reached).toEqual([]);
  // Nothing was planted: the tools' own path (the AWS SDK on the AWS port) finds no such job.
  const db = new DynamoDBClient({ region: stack.region, endpoint: stack.awsUrl, credentials: { accessKeyId: 'AKIALOCALTOOL0000000', secretAccessKey: 'x' } });
  expect((await db.send(new GetItemCommand({ TableName: 'emr-gateway-jobs', Key: { jobId: { S: PLANTED } } }))).Item).toBeUndefined();
  db.destroy();
  const s3 = new S3Client({ region: stack.region, endpoint: stack.awsUrl, forcePathStyle: true, credentials: { accessKeyId: 'AKIALOCALTOOL0000000', secretAccessKey: 'x' } });
  await expect(s3.send(new HeadObjectCommand({ Bucket: DIGESTS, Key: 'planted.json' }))).rejects.toMatchObject({ name: 'NotFound' });
  s3.destroy();
});

it('the tools keep their path: the AWS SDK reaches DynamoDB on the AWS port, the signed client the API', async () => {
  const db = new DynamoDBClient({ region: stack.region, endpoint: stack.awsUrl, credentials: { accessKeyId: 'AKIALOCALTOOL0000000', secretAccessKey: 'x' } });
  const scan = await db.send(new ScanCommand({ TableName: 'emr-gateway-jobs' }));
  expect(scan.Items?.map((i) => i.jobId?.S)).toContain(jobId);
  db.destroy();
  expect((await clientFor(stack, 'alice').listJobs({ limit: 10 })).jobs.map((j) => j.jobId)).toContain(jobId);
  const log = await send(portOf(stack.awsUrl), { method: 'GET', path: `/_local/emr/steps/${stepId}/stdout`, headers: { host: new URL(stack.awsUrl).host } });
  expect(log).toMatchObject({ status: 200, body: `${MARKER}\n` });
});

it('the data directory is private: an existing one is tightened to 0700, a new one is created so', async () => {
  expect(statSync(dataDir).mode & 0o777).toBe(0o700);
  const fresh = join(newDataDir(), 'new', 'data');
  const other = await startStack(fresh);
  try {
    expect(statSync(fresh).mode & 0o777).toBe(0o700);
    expect(statSync(join(fresh, '..')).mode & 0o777).toBe(0o700);
  } finally {
    await other.stop();
  }
});

it('stopping closes every port it opened', async () => {
  stopped = true;
  await stack.stop();
  expect(opened()).toEqual([]);
});
