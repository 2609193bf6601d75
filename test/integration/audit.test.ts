import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { genesisHash, type AuditEvent } from '../../src/audit/chain';
import { verifyTrail } from '../../src/audit/verify';
import { DynamoAuditStore } from '../../src/adapters/dynamodb/audit-store';
import { startDynamo, type TestDynamo } from '../support/dynamo';
import { TestSealer } from '../support/sealer';

let dynamo: TestDynamo;
let store: DynamoAuditStore;
let sealer: TestSealer;
const JOB = 'job-0123456789abcdefghjkmnpqrs';

beforeEach(async () => {
  dynamo = await startDynamo();
  sealer = new TestSealer();
  store = new DynamoAuditStore(dynamo.client, dynamo.auditTable, sealer);
});
afterEach(() => dynamo.stop());

const draft = (type: string, dedupeKey = type) => ({ type, dedupeKey, actor: { principalArn: 'arn:aws:iam::123456789012:role/A' } });

async function chainOf(n: number): Promise<AuditEvent[]> {
  for (let i = 0; i < n; i++) await store.append(JOB, draft(`E${i}`));
  return store.list(JOB);
}

describe('audit chain', () => {
  it('links each event to the previous one, from a genesis bound to the job', async () => {
    const events = await chainOf(3);
    expect(events.map((e) => e.seq)).toEqual([0, 1, 2]);
    expect(events[0]!.prevHash).toBe(genesisHash(JOB));
    expect(events[1]!.prevHash).toBe(events[0]!.hash);
    expect(await verifyTrail(sealer, JOB, events)).toEqual({ ok: true, events: 3, head: events[2]!.hash, macs: 'verified' });
  });

  it('detects tampering done directly in the table', async () => {
    await chainOf(3);
    await dynamo.client.send(new DeleteItemCommand({ TableName: dynamo.auditTable, Key: marshall({ jobId: JOB, seq: 1 }) }));
    expect(await verifyTrail(sealer, JOB, await store.list(JOB))).toMatchObject({ ok: false, problem: 'events 1..1 are missing' });
  });
});

describe('audit store', () => {
  it('never overwrites: a put on a taken seq fails, the store appends after it instead', async () => {
    const [first] = await chainOf(1);
    const forged = { ...first!, type: 'FORGED' };
    await expect(
      dynamo.client.send(new PutItemCommand({ TableName: dynamo.auditTable, Item: marshall(forged), ConditionExpression: 'attribute_not_exists(seq)' })),
    ).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    const appended = await store.append(JOB, draft('LATE'));
    expect(appended.seq).toBe(1);
    expect((await store.list(JOB)).map((e) => e.type)).toEqual(['E0', 'LATE']);
  });

  it('a retried append returns the event already written (dedupe key) instead of adding another', async () => {
    const a = await store.append(JOB, draft('SUBMITTED'));
    await store.append(JOB, draft('OTHER')); // another writer appended in between
    const again = await store.append(JOB, draft('SUBMITTED'));
    expect(again).toEqual(a);
    expect((await store.list(JOB)).map((e) => e.type)).toEqual(['SUBMITTED', 'OTHER']);
  });

  it('concurrent appends make one contiguous, valid chain', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.append(JOB, draft(`C${i}`))));
    const events = await store.list(JOB);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(new Set(events.map((e) => e.type)).size).toBe(20);
    expect(await verifyTrail(sealer, JOB, events)).toMatchObject({ ok: true, macs: 'verified' });
  });
});
