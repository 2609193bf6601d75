/**
 * Tampering with the record by someone who can write both tables but cannot use the gateway's audit key:
 * each attack is done straight in DynamoDB (the table's own API, as such a person would), then the gateway's
 * verification (GET /jobs/{id}/audit) and `emr-gateway audit JOB --verify` (the real CLI, a child process)
 * must both report it. Rolling back to an older, validly sealed state (cut the tail and move the head back)
 * passes every check of the trail itself: the signed digests of the heads, outside the tables, catch it.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { DeleteItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { genesisHash, hashEvent, type AuditEvent } from '../../src/audit/chain';
import { GatewayClient } from '../../src/client';
import { createApiHandler } from '../../src/http/api';
import { openApiDocument } from '../../src/http/openapi';
import { startApiFront, type ApiFront } from '../../src/local/api-gateway/front';
import { ALICE, startGateway, submitBody, type TestGateway } from '../support/gateway';

jest.setTimeout(60_000);

const BIN = resolve(__dirname, '../../bin/emr-gateway.js');
const ALICE_KEY = { accessKeyId: 'AKIALOCALALICE000001', secretAccessKey: 'local-alice-secret', principal: ALICE };

let gw: TestGateway;
let front: ApiFront;
let client: GatewayClient;
beforeAll(async () => {
  gw = await startGateway();
  const handler = createApiHandler(() => ({ service: gw.service, openapi: () => openApiDocument('test'), version: 'test' }));
  front = await startApiFront({ port: 0, region: 'us-east-1', account: '123456789012', credentials: [ALICE_KEY], handler: (e) => handler(e, {}) });
  client = new GatewayClient({ endpoint: front.url, region: 'us-east-1', credentials: ALICE_KEY });
});
afterAll(async () => {
  await front.close();
  await gw.stop();
});

function verifyWithCli(jobId: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = {
    PATH: process.env.PATH,
    EMR_GATEWAY_ENDPOINT: front.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: ALICE_KEY.accessKeyId,
    AWS_SECRET_ACCESS_KEY: ALICE_KEY.secretAccessKey,
    AWS_CONFIG_FILE: '/nonexistent/config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  return new Promise((done) => {
    execFile(process.execPath, [BIN, 'audit', jobId, '--verify'], { env, timeout: 50_000 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** A job run to its end: DECISION, SUBMITTED, the EMR states, COMPLETED. */
async function finishedJob(): Promise<{ jobId: string; events: AuditEvent[] }> {
  const { job } = await gw.service.submit({ caller: { callerArn: ALICE }, body: submitBody() });
  await gw.finish(job.jobId);
  const events = await gw.audit.list(job.jobId);
  expect(events.length).toBeGreaterThanOrEqual(4);
  return { jobId: job.jobId, events };
}

// ------------------------------------------------------------------------- what a table writer can do
const putEvent = (event: AuditEvent) => gw.dynamo.client.send(new PutItemCommand({ TableName: gw.dynamo.auditTable, Item: marshall(event, { removeUndefinedValues: true }) }));
const deleteEvent = (jobId: string, seq: number) => gw.dynamo.client.send(new DeleteItemCommand({ TableName: gw.dynamo.auditTable, Key: marshall({ jobId, seq }) }));
const moveHead = (jobId: string, head: { seq: number; hash: string }) =>
  gw.dynamo.client.send(
    new UpdateItemCommand({
      TableName: gw.dynamo.jobsTable,
      Key: marshall({ jobId }),
      UpdateExpression: 'SET auditSeq = :s, auditHash = :h',
      ExpressionAttributeValues: marshall({ ':s': head.seq, ':h': head.hash }),
    }),
  );

/** Rewrites events from `from` on with plain SHA-256 (the chain's public recipe, no key), each linked to the one before. */
async function reseal(events: AuditEvent[], from: number, edit: (e: AuditEvent) => AuditEvent = (e) => e): Promise<AuditEvent[]> {
  const out = events.slice(0, from);
  for (const original of events.slice(from)) {
    const { hash: _old, ...rest } = { ...edit(original), prevHash: out.at(-1)?.hash ?? genesisHash(original.jobId) };
    const event = { ...rest, hash: hashEvent(rest) };
    await putEvent(event);
    out.push(event);
  }
  return out;
}

/** Both the gateway's verification and the CLI's report the tampering (the CLI exits 1). */
async function expectDetected(jobId: string, problem: RegExp): Promise<void> {
  const trail = await client.audit(jobId);
  expect(trail.verification).toMatchObject({ ok: false, problem: expect.stringMatching(problem) as unknown });
  const run = await verifyWithCli(jobId);
  expect(run.stdout).not.toMatch(/^verified/m);
  expect(run.stdout).toMatch(/^BROKEN at event \d+: /m);
  expect(run.stdout).toMatch(problem);
  expect(run.code).toBe(1);
}

describe('audit --verify and GET /jobs/{id}/audit against someone who can write the tables', () => {
  it('an untouched trail verifies, on both sides', async () => {
    const { jobId } = await finishedJob();
    expect((await client.audit(jobId)).verification).toMatchObject({ ok: true });
    const run = await verifyWithCli(jobId);
    expect(run.stdout).toMatch(/^verified: \d+ events/m);
    expect(run.code).toBe(0);
  });

  it('an edited event', async () => {
    const { jobId, events } = await finishedJob();
    await putEvent({ ...events[1]!, emr: { stepId: 's-FORGED' } });
    await expectDetected(jobId, /event 1 was modified/);
  });

  it('a deleted middle event', async () => {
    const { jobId } = await finishedJob();
    await deleteEvent(jobId, 1);
    await expectDetected(jobId, /events 1\.\.1 are missing/);
  });

  it('a deleted tail', async () => {
    const { jobId, events } = await finishedJob();
    await deleteEvent(jobId, events.length - 1);
    await expectDetected(jobId, /events were removed/);
  });

  it('every event deleted', async () => {
    const { jobId, events } = await finishedJob();
    for (const e of events) await deleteEvent(jobId, e.seq);
    await expectDetected(jobId, /events were removed|trail is empty/);
  });

  it('an event appended after the head (linked and hashed like the others)', async () => {
    const { jobId, events } = await finishedJob();
    const last = events.at(-1)!;
    const { hash: _h, ...appended } = { ...last, seq: last.seq + 1, type: 'COMPLETED', dedupeKey: 'APPENDED', prevHash: last.hash };
    await putEvent({ ...appended, hash: hashEvent(appended) });
    await expectDetected(jobId, new RegExp(`event ${last.seq + 1}`));
  });

  it('the chain re-sealed with plain SHA-256 from an edited event on (the head left alone)', async () => {
    const { jobId, events } = await finishedJob();
    await reseal(events, 1, (e) => (e.seq === 1 ? { ...e, emr: { stepId: 's-FORGED' } } : e));
    await expectDetected(jobId, /event \d+/);
  });

  it('the chain re-sealed with plain SHA-256 and the head moved to match', async () => {
    const { jobId, events } = await finishedJob();
    const forged = await reseal(events, 1, (e) => (e.seq === 1 ? { ...e, emr: { stepId: 's-FORGED' } } : e));
    await moveHead(jobId, { seq: forged.at(-1)!.seq, hash: forged.at(-1)!.hash });
    await expectDetected(jobId, /event 1.*MAC|MAC.*event 1/);
  });

  it('an untouched trail, once a digest recorded its head, verifies as anchored', async () => {
    const { jobId, events } = await finishedJob();
    gw.clock.advance(10);
    expect(await gw.digester.run()).toMatchObject({ written: true });
    expect((await client.audit(jobId)).anchor).toMatchObject({ status: 'anchored', seq: events.length - 1 });
    const run = await verifyWithCli(jobId);
    expect(run.stdout).toMatch(new RegExp(`^verified: .*anchored: digest \\d+ \\(changes up to [^)]+\\) recorded event ${events.length - 1}, still in place`, 'm'));
    expect(run.code).toBe(0);
  });

  it('the tail cut and the head moved back to an older, validly sealed event: caught by the digests', async () => {
    const { jobId, events } = await finishedJob();
    gw.clock.advance(10);
    await gw.digester.run();
    for (const e of events.slice(2)) await deleteEvent(jobId, e.seq);
    await moveHead(jobId, { seq: 1, hash: events[1]!.hash });
    const trail = await client.audit(jobId);
    // Every event left is genuine, linked and sealed, and the head matches: the trail alone cannot tell.
    expect(trail.verification).toMatchObject({ ok: true, macs: 'verified' });
    expect(trail.anchor).toMatchObject({ status: 'broken', problem: expect.stringMatching(/the chain was rolled back/) as unknown });
    const run = await verifyWithCli(jobId);
    expect(run.stdout).toMatch(new RegExp(`^BROKEN at event ${events.length - 1}: digest \\d+ .*recorded event ${events.length - 1} as this chain's head, but the trail now ends at event 1: the chain was rolled back \\(the digests\\)`, 'm'));
    expect(run.code).toBe(1);
  });

  it('the DECISION removed, the rest renumbered and re-sealed from the genesis, the head moved', async () => {
    const { jobId, events } = await finishedJob();
    for (const e of events) await deleteEvent(jobId, e.seq);
    const renumbered = events.slice(1).map((e, i) => ({ ...e, seq: i }));
    const forged = await reseal(renumbered, 0);
    await moveHead(jobId, { seq: forged.at(-1)!.seq, hash: forged.at(-1)!.hash });
    await expectDetected(jobId, /event 0/);
  });
});
