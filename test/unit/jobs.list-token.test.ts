/**
 * GET /jobs's nextToken (src/jobs/list-token.ts): sealed with AES-256-GCM under a key derived from the audit key
 * (one MAC over a fixed label), bound to the caller and the filters, expiring after 24 hours. Nothing in it is
 * readable, and anything but a token this gateway issued for this caller, these filters and within its lifetime
 * is the same ValidationError on `nextToken`.
 */
import fc from 'fast-check';
import { TransientError, ValidationError } from '../../src/errors';
import { LIST_TOKEN_KEY_LABEL, LIST_TOKEN_TTL_SECONDS, ListTokens, type ListTokenScope } from '../../src/jobs/list-token';
import { newJobId } from '../../src/jobs/job-id';
import { ALICE, CAROL, CLUSTER, PLAIN_CLUSTER, role, SimClock } from '../support/config';
import { TestSealer } from '../support/sealer';

let clock: SimClock;
let sealer: TestSealer;
let tokens: ListTokens;
beforeEach(() => {
  clock = new SimClock();
  sealer = new TestSealer();
  tokens = new ListTokens(sealer, clock.now);
});

const createdAt = '2026-11-28T11:59:58.123Z';
const jobId = newJobId(new Date(createdAt));
const cursor = `${createdAt}#${jobId}`;
const scope: ListTokenScope = { caller: { callerArn: ALICE }, filters: { clusterId: CLUSTER, status: 'RUNNING', from: '2026-11-01T00:00:00Z' } };

/** What a refusal must be: a ValidationError on nextToken, with the one message every refusal has. */
async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ValidationError);
  const issues = (error as ValidationError).issues;
  expect(issues).toHaveLength(1);
  expect(issues[0]?.field).toBe('nextToken');
  return issues[0]!.message;
}
const bytesOf = (token: string): Buffer => Buffer.from(token, 'base64url');
const tokenOf = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');

describe('list tokens', () => {
  it('a token opens, for the same caller and filters, to the cursor it was issued for', async () => {
    const token = await tokens.issue(cursor, scope);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(token.length).toBeLessThan(2048); // the API's bound on nextToken
    await expect(tokens.open(token, scope)).resolves.toBe(cursor);
    await expect(tokens.open(token, { caller: { callerArn: ALICE }, filters: { from: '2026-11-01T00:00:00Z', status: 'RUNNING', clusterId: CLUSTER } })).resolves.toBe(cursor);
  });

  it('says nothing readable: no job id, time, principal or cluster in its text or its decoded bytes; two tokens for one position differ', async () => {
    const token = await tokens.issue(cursor, scope);
    const secrets = [jobId, jobId.slice(4, 14), createdAt, createdAt.slice(0, 10), '2026', ALICE, role('DataTeamA'), 'DataTeamA', 'alice', CLUSTER, 'RUNNING', String(Math.floor(clock.now().getTime() / 1000) + LIST_TOKEN_TTL_SECONDS).slice(0, 6)];
    const views = [token, ...(['base64url', 'base64'] as const).flatMap((encoding) => {
      const bytes = Buffer.from(token, encoding);
      return [bytes.toString('utf8'), bytes.toString('latin1'), bytes.toString('utf16le')];
    })];
    for (const view of views) for (const secret of secrets) expect(view.includes(secret)).toBe(false);
    const again = await tokens.issue(cursor, scope);
    expect(again).not.toBe(token);
    // No common run of 4 bytes beyond the version byte: nothing links two tokens of the same position.
    const [a, b] = [bytesOf(token), bytesOf(again)];
    for (let i = 1; i + 4 <= a.length; i++) expect(b.includes(a.subarray(i, i + 4))).toBe(false);
  });

  it('refuses a token of another caller, of other filters, or of another key, with the one message every refusal has', async () => {
    const token = await tokens.issue(cursor, scope);
    const messages = new Set<string>();
    const others: ListTokenScope[] = [
      { caller: { callerArn: CAROL }, filters: scope.filters },
      { caller: { callerArn: `arn:aws:sts::123456789012:assumed-role/DataTeamA/bob` }, filters: scope.filters },
      { caller: { callerArn: ALICE, sourceIdentity: 'alice' }, filters: scope.filters },
      { caller: { callerArn: ALICE, trigger: 'schedule:nightly' }, filters: scope.filters },
      { caller: scope.caller, filters: { ...scope.filters, clusterId: PLAIN_CLUSTER } },
      { caller: scope.caller, filters: { ...scope.filters, status: 'FAILED' } },
      { caller: scope.caller, filters: { clusterId: CLUSTER, status: 'RUNNING' } },
      { caller: scope.caller, filters: { ...scope.filters, to: '2026-12-01T00:00:00Z' } },
      { caller: scope.caller, filters: { ...scope.filters, caller: ALICE } },
      { caller: scope.caller, filters: {} },
    ];
    for (const other of others) messages.add(await refusal(tokens.open(token, other)));
    const foreign = await new ListTokens(new TestSealer(), clock.now).issue(cursor, scope);
    messages.add(await refusal(tokens.open(foreign, scope)));
    messages.add(await refusal(tokens.open('bogus', scope)));
    messages.add(await refusal(tokens.open('', scope)));
    clock.advance(LIST_TOKEN_TTL_SECONDS + 1);
    messages.add(await refusal(tokens.open(token, scope)));
    expect([...messages]).toHaveLength(1);
    // The message names no reason, no job, no principal: only what to do.
    const [message] = [...messages];
    for (const word of ['expired', 'signature', 'decrypt', 'forged', 'another', jobId, ALICE, CAROL, CLUSTER]) expect(message).not.toContain(word);
  });

  it('expires 24 hours after it was issued', async () => {
    const token = await tokens.issue(cursor, scope);
    expect(LIST_TOKEN_TTL_SECONDS).toBe(24 * 3600);
    clock.advance(LIST_TOKEN_TTL_SECONDS - 1);
    await expect(tokens.open(token, scope)).resolves.toBe(cursor);
    clock.advance(2);
    await refusal(tokens.open(token, scope));
  });

  it('refuses any flipped bit, truncation or extension of its bytes', async () => {
    const token = await tokens.issue(cursor, scope);
    const bytes = bytesOf(token);
    for (let i = 0; i < bytes.length; i++) {
      for (const mask of [0x01, 0x80]) {
        const flipped = Buffer.from(bytes);
        flipped[i]! ^= mask;
        await refusal(tokens.open(tokenOf(flipped), scope));
      }
    }
    for (let n = 0; n < bytes.length; n++) await refusal(tokens.open(tokenOf(bytes.subarray(0, n)), scope));
    await refusal(tokens.open(tokenOf(Buffer.concat([bytes, Buffer.of(0)])), scope));
  });

  it('refuses another spelling of the same bytes (the unused bits of the last base64url character, padding)', async () => {
    const token = await tokens.issue(cursor, scope);
    const bytes = bytesOf(token);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const spellings = [...alphabet].map((c) => token.slice(0, -1) + c).filter((t) => t !== token && bytesOf(t).equals(bytes));
    expect(spellings.length).toBe(bytes.length % 3 === 0 ? 0 : bytes.length % 3 === 1 ? 15 : 3);
    for (const spelling of [...spellings, `${token}=`, `${token}==`, Buffer.from(bytes).toString('base64')]) {
      if (spelling !== token) await refusal(tokens.open(spelling, scope));
    }
  });

  it('property: any change to the token text is refused (bytes or characters, including base64 that decodes to the same bytes)', async () => {
    const token = await tokens.issue(cursor, scope);
    const bytes = bytesOf(token);
    const byteChange = fc.record({ at: fc.nat({ max: bytes.length - 1 }), mask: fc.integer({ min: 1, max: 255 }) }).map(({ at, mask }) => {
      const changed = Buffer.from(bytes);
      changed[at]! ^= mask;
      return tokenOf(changed);
    });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=. ';
    const textChange = fc.tuple(fc.nat({ max: token.length }), fc.nat({ max: 3 }), fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 3 }))
      .map(([at, cut, insert]) => token.slice(0, at) + insert + token.slice(at + cut))
      .filter((changed) => changed !== token);
    await fc.assert(fc.asyncProperty(fc.oneof(byteChange, textChange), async (changed) => {
      await refusal(tokens.open(changed, scope));
    }), { numRuns: 400 });
  });

  it('property: no string but an issued token opens', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(fc.string({ maxLength: 300 }), fc.base64String({ maxLength: 300 }), fc.uint8Array({ maxLength: 200 }).map(tokenOf)), async (forged) => {
      await refusal(tokens.open(forged, scope));
    }), { numRuns: 300 });
  });

  it('derives its key once per process, with one MAC of the audit key over a fixed, versioned label; every instance derives the same key', async () => {
    const messages: string[] = [];
    const seal = sealer.seal.bind(sealer);
    sealer.seal = (message) => {
      messages.push(new TextDecoder().decode(message));
      return seal(message);
    };
    const token = await tokens.issue(cursor, scope);
    await tokens.open(token, scope);
    await tokens.issue(cursor, scope);
    expect(messages).toEqual([LIST_TOKEN_KEY_LABEL]);
    expect(LIST_TOKEN_KEY_LABEL).toMatch(/^emr-step-gateway:list-token-key:v\d+$/);
    // Another Lambda instance with the same audit key opens it; one with another key does not.
    await expect(new ListTokens(sealer, clock.now).open(token, scope)).resolves.toBe(cursor);
    await refusal(new ListTokens(new TestSealer(), clock.now).open(token, scope));
  });

  it('a key that cannot be derived now is the sealer\'s error, not a 400, and the next request tries again', async () => {
    const issued = await new ListTokens(sealer, clock.now).issue(cursor, scope);
    const seal = sealer.seal.bind(sealer);
    let fail = true;
    sealer.seal = (message) => (fail ? Promise.reject(new TransientError('KMS GenerateMac: throttled')) : seal(message));
    await expect(tokens.issue(cursor, scope)).rejects.toBeInstanceOf(TransientError);
    await expect(tokens.open(issued, scope)).rejects.toBeInstanceOf(TransientError);
    fail = false;
    await expect(tokens.open(issued, scope)).resolves.toBe(cursor);
    const token = await tokens.issue(cursor, scope);
    await expect(tokens.open(token, scope)).resolves.toBe(cursor);
  });
});
