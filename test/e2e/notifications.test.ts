/**
 * Notifications end to end on the local stack: a webhook received by a local HTTP server with a valid signature for
 * a job's end; an SNS topic with an HTTP subscription that gets SNS's SubscriptionConfirmation (confirmed by opening
 * its SubscribeURL, as a receiver does), then the job's message in SNS's Notification envelope, its Signature checked
 * against the certificate at SigningCertURL as against SNS; and the same topic driven with the AWS CLI.
 */
import { execFile } from 'node:child_process';
import { createVerify, X509Certificate } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { verifySignature } from '../../src/notifications/signature';
import type { LocalStack } from '../../src/local/stack';
import { clientFor, EXAMPLE, finished, newDataDir, startStack, until } from '../support/local-stack';

jest.setTimeout(90_000);

const SECRET = 'e2e-webhook-secret-0123456789';
const ROLE = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:emr-gateway-jobs';
const AWS = '/usr/bin/aws';
const BIN = join(__dirname, '../../bin/emr-gateway.js');

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

async function receiver(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

/** SNS's SignatureVersion 1 check, as a receiver makes it: the canonical string, SHA1withRSA, the certificate at SigningCertURL. */
async function snsSignatureValid(envelope: Record<string, string>): Promise<boolean> {
  const fields = envelope.Type === 'Notification' ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  const canonical = fields.filter((f) => envelope[f] !== undefined).map((f) => `${f}\n${envelope[f]}\n`).join('');
  const cert = new X509Certificate(await (await fetch(envelope.SigningCertURL!)).text());
  return createVerify('RSA-SHA1').update(canonical, 'utf8').verify(cert.publicKey, envelope.Signature!, 'base64');
}

let stack: LocalStack | undefined;
let hooks: Awaited<ReturnType<typeof receiver>>;
let subscriber: Awaited<ReturnType<typeof receiver>>;

beforeAll(async () => {
  hooks = await receiver();
  subscriber = await receiver();
  const dir = mkdtempSync(join(tmpdir(), 'emr-gateway-notify-e2e-'));
  cpSync(join(dirname(EXAMPLE), 'policies'), join(dir, 'policies'), { recursive: true });
  const config = readFileSync(EXAMPLE, 'utf8').replace(/^local:\n/m, `local:\n  secrets: { "arn:aws:secretsmanager:us-east-1:123456789012:secret:emr-hook-AbCdEf": ${SECRET} }\n`) +
    `\nnotifications:\n  - { name: hook, jobs: { clusters: [j-2AXXXXXXGAPLF] }, webhook: { url: "${hooks.url}/hook", secret: { secretsManager: "arn:aws:secretsmanager:us-east-1:123456789012:secret:emr-hook-AbCdEf" } } }\n` +
    `  - { name: topic, states: [COMPLETED, FAILED], jobs: { clusters: [j-2AXXXXXXGAPLF] }, sns: { topicArn: "${TOPIC}" } }\n` +
    `  - { name: requested, states: [COMPLETED], webhook: { url: "${hooks.url}/requested", secret: { secretsManager: "arn:aws:secretsmanager:us-east-1:123456789012:secret:emr-hook-AbCdEf" } } }\n`;
  writeFileSync(join(dir, 'gateway.yaml'), config);
  stack = await startStack(newDataDir(), { configFile: join(dir, 'gateway.yaml') });
});
afterAll(async () => {
  await stack?.stop();
  for (const r of [hooks, subscriber]) {
    r.server.closeAllConnections();
    await new Promise<void>((resolve) => r.server.close(() => resolve()));
  }
});

const sns = (body: Record<string, string>) =>
  fetch(stack!.awsUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE000000000/20261201/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=00' },
    body: new URLSearchParams({ Version: '2010-03-31', ...body }).toString(),
  }).then(async (r) => ({ status: r.status, body: await r.text() }));

test('a job\'s end reaches the webhook signed, and the topic\'s HTTP subscriber in SNS\'s envelope after the handshake', async () => {
  // Subscribe as an HTTP endpoint: SNS answers "pending confirmation" and posts a SubscriptionConfirmation.
  const subscribed = await sns({ Action: 'Subscribe', TopicArn: TOPIC, Protocol: 'http', Endpoint: `${subscriber.url}/sns` });
  expect(subscribed.body).toContain('<SubscriptionArn>pending confirmation</SubscriptionArn>');
  const confirmation = await until(() => Promise.resolve(subscriber.received.find((r) => r.headers['x-amz-sns-message-type'] === 'SubscriptionConfirmation')));
  const handshake = JSON.parse(confirmation.body) as Record<string, string>;
  expect(Object.keys(handshake)).toEqual(['Type', 'MessageId', 'Token', 'TopicArn', 'Message', 'SubscribeURL', 'Timestamp', 'SignatureVersion', 'Signature', 'SigningCertURL']);
  expect(handshake).toMatchObject({ Type: 'SubscriptionConfirmation', TopicArn: TOPIC, SignatureVersion: '1' });
  expect(confirmation.headers).toMatchObject({ 'x-amz-sns-topic-arn': TOPIC, 'content-type': 'text/plain; charset=UTF-8' });
  expect(await snsSignatureValid(handshake)).toBe(true);
  // Opening the SubscribeURL confirms it (unsigned, as a receiver's GET is).
  const confirmed = await fetch(handshake.SubscribeURL!);
  expect(confirmed.status).toBe(200);
  expect(await confirmed.text()).toMatch(new RegExp(`<ConfirmSubscriptionResult><SubscriptionArn>${TOPIC}:[0-9a-f-]{36}</SubscriptionArn>`));
  // Only those links go unsigned: another action over GET (even with a link's Action after it) is refused, and does nothing.
  for (const link of [`/?Action=CreateTopic&Name=by-get&Action=Unsubscribe`, `/?Action=Publish&TopicArn=${encodeURIComponent(TOPIC)}&Message=hi&Action=Unsubscribe`, '/?Action=ListTopics&Action=ConfirmSubscription']) {
    expect((await fetch(`${stack!.awsUrl}${link}`)).status).toBe(400);
  }
  expect((await sns({ Action: 'ListTopics' })).body).not.toContain('by-get');

  const alice = clientFor(stack!, 'alice');
  const { jobId } = await alice.submit({ clusterId: 'j-2AXXXXXXGAPLF', executionRoleArn: ROLE, name: 'e2e notified', step: { type: 'command', args: ['bash', '-c', 'echo done'] } });
  expect((await finished(alice, jobId)).status).toBe('COMPLETED');

  const hook = await until(() => Promise.resolve(hooks.received.find((r) => r.path === '/hook')));
  expect(verifySignature(SECRET, hook.headers['x-emr-gateway-signature'] as string, hook.body)).toEqual({ ok: true });
  expect(verifySignature('another-secret-0123456789', hook.headers['x-emr-gateway-signature'] as string, hook.body)).toMatchObject({ ok: false });
  expect(JSON.parse(hook.body)).toMatchObject({ jobId, status: 'COMPLETED', principal: 'arn:aws:iam::123456789012:role/DataTeamA', links: { logs: `${stack!.apiUrl}/jobs/${jobId}/logs` } });

  const note = await until(() => Promise.resolve(subscriber.received.find((r) => r.headers['x-amz-sns-message-type'] === 'Notification')));
  const envelope = JSON.parse(note.body) as Record<string, string>;
  expect(Object.keys(envelope)).toEqual(['Type', 'MessageId', 'TopicArn', 'Subject', 'Message', 'Timestamp', 'SignatureVersion', 'Signature', 'SigningCertURL', 'UnsubscribeURL', 'MessageAttributes']);
  expect(envelope).toMatchObject({ Type: 'Notification', TopicArn: TOPIC, Subject: 'EMR job COMPLETED: e2e notified', MessageAttributes: { status: { Type: 'String', Value: 'COMPLETED' } } });
  expect(envelope.Timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  expect(note.headers['x-amz-sns-subscription-arn']).toMatch(new RegExp(`^${TOPIC}:`));
  expect(await snsSignatureValid(envelope)).toBe(true);
  expect(JSON.parse(envelope.Message!)).toMatchObject({ jobId, status: 'COMPLETED', deliveryId: `${jobId}/COMPLETED/topic` });
  // Both deliveries on the job's trail.
  const trail = (await alice.audit(jobId)).events.filter((e) => e.type === 'NOTIFICATION');
  expect(trail.map((e) => [e.detail?.notification, e.detail?.outcome])).toEqual(expect.arrayContaining([['hook', 'delivered'], ['topic', 'delivered']]));
});

function gatewayCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH, HOME: '/nonexistent', AWS_ACCESS_KEY_ID: 'AKIALOCALALICE000001', AWS_SECRET_ACCESS_KEY: 'local-alice-secret', AWS_REGION: 'us-east-1', EMR_GATEWAY_ENDPOINT: stack!.apiUrl, AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' };
  return new Promise((done) => execFile(process.execPath, [BIN, ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr })));
}

test('emr-gateway submit --notify asks for a notification no selector gives; audit shows each attempt', async () => {
  const submitted = await gatewayCli('submit', '--cluster', 'j-2AXXXXXXGAPLF', '--role', ROLE, '--name', 'asked', '--notify', 'requested', '--wait', '--', 'true');
  expect(submitted).toMatchObject({ code: 0 });
  const jobId = /^(job-[0-9a-z]+)/m.exec(submitted.stdout)?.[1];
  expect(jobId).toBeDefined();
  const hook = await until(() => Promise.resolve(hooks.received.find((r) => r.path === '/requested' && r.headers['x-emr-gateway-delivery'] === `${jobId!}/COMPLETED/requested`)));
  expect(verifySignature(SECRET, hook.headers['x-emr-gateway-signature'] as string, hook.body)).toEqual({ ok: true });
  const audit = await until(async () => {
    const out = await gatewayCli('audit', jobId!, '--verify');
    return /NOTIFICATION +emr-step-gateway:notifier +requested COMPLETED delivered \(1\/5\) http:\/\/127\.0\.0\.1:\d+ 200/.test(out.stdout) ? out : undefined;
  });
  expect(audit.code).toBe(0);
  expect(audit.stdout).toMatch(/^verified: /m);
  // Unknown names are the caller's mistake: a 400 naming the field, exit 2.
  const unknown = await gatewayCli('submit', '--cluster', 'j-2AXXXXXXGAPLF', '--role', ROLE, '--name', 'x', '--notify', 'nope', '--', 'true');
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toMatch(/notify\[0\]: "nope" is not a configured notification/);
});

test('the AWS CLI creates a topic, subscribes an HTTP endpoint and publishes, with SNS\'s answers', async () => {
  if (!existsSync(AWS)) {
    console.log(`skipped: ${AWS} is absent (install Debian's awscli to run this test)`);
    return;
  }
  const env = { ...process.env, AWS_ACCESS_KEY_ID: 'AKIALOCALALICE000001', AWS_SECRET_ACCESS_KEY: 'local-alice-secret', AWS_DEFAULT_REGION: 'us-east-1', AWS_REGION: 'us-east-1', AWS_PAGER: '' };
  const aws = async (...args: string[]) => JSON.parse((await promisify(execFile)(AWS, ['--endpoint-url', stack!.awsUrl, '--output', 'json', 'sns', ...args], { env })).stdout) as Record<string, unknown>;
  const created = await aws('create-topic', '--name', 'cli-topic');
  expect(created).toEqual({ TopicArn: 'arn:aws:sns:us-east-1:123456789012:cli-topic' });
  expect(await aws('subscribe', '--topic-arn', String(created.TopicArn), '--protocol', 'http', '--notification-endpoint', `${subscriber.url}/cli`)).toEqual({ SubscriptionArn: 'pending confirmation' });
  const confirmation = await until(() => Promise.resolve(subscriber.received.find((r) => r.path === '/cli' && r.headers['x-amz-sns-message-type'] === 'SubscriptionConfirmation')));
  const token = (JSON.parse(confirmation.body) as { Token: string }).Token;
  const confirmed = await aws('confirm-subscription', '--topic-arn', String(created.TopicArn), '--token', token);
  expect(String(confirmed.SubscriptionArn)).toMatch(/^arn:aws:sns:us-east-1:123456789012:cli-topic:[0-9a-f-]{36}$/);
  const published = await aws('publish', '--topic-arn', String(created.TopicArn), '--message', 'hello from the CLI', '--subject', 'cli');
  expect(published.MessageId).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/));
  const note = await until(() => Promise.resolve(subscriber.received.find((r) => r.path === '/cli' && r.headers['x-amz-sns-message-type'] === 'Notification')));
  expect(JSON.parse(note.body)).toMatchObject({ Message: 'hello from the CLI', Subject: 'cli', MessageId: published.MessageId });
  const subs = await aws('list-subscriptions-by-topic', '--topic-arn', String(created.TopicArn));
  expect(subs.Subscriptions).toEqual([{ SubscriptionArn: confirmed.SubscriptionArn, Owner: '123456789012', Protocol: 'http', Endpoint: `${subscriber.url}/cli`, TopicArn: created.TopicArn }]);
});
