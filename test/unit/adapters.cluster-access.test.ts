/**
 * ClusterAccess (src/adapters/emr/cluster-access.ts): for a cluster of another account, the gateway's EMR calls go
 * through STS AssumeRole of its accessRole, with the ExternalId and (where asked) the SourceIdentity, and the
 * credentials are kept per (role, source identity) until shortly before they expire.
 */
import type { STSClient } from '@aws-sdk/client-sts';
import { ClusterAccess, ClusterClients } from '../../src/adapters/emr/cluster-access';
import { EmrRejectedError } from '../../src/errors';

const ROLE = 'arn:aws:iam::210987654321:role/emr-gateway-access';
const CLUSTERS = [
  { id: 'j-HOME', propagateSourceIdentity: true },
  { id: 'j-OTHER', account: '210987654321', propagateSourceIdentity: true, accessRole: { arn: ROLE, externalId: 'ext-123' } },
];

function fakeSts(answer: (input: Record<string, unknown>) => Error | undefined = () => undefined) {
  const calls: Record<string, unknown>[] = [];
  let n = 0;
  const client = {
    send: (command: { input: Record<string, unknown> }) => {
      calls.push(command.input);
      const error = answer(command.input);
      if (error) return Promise.reject(error);
      n += 1;
      return Promise.resolve({ Credentials: { AccessKeyId: `ASIA${n}`, SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(now + 3600_000) } });
    },
  } as unknown as STSClient;
  return { client, calls };
}
let now = Date.parse('2026-12-01T10:00:00Z');

describe('ClusterAccess', () => {
  it('a cluster of the gateway account needs none; another account\'s is reached through its access role with the ExternalId', async () => {
    const sts = fakeSts();
    const access = new ClusterAccess(sts.client, CLUSTERS, () => now);
    expect(await access.credentials('j-HOME')).toBeUndefined();
    expect(sts.calls).toEqual([]);
    const c = await access.credentials('j-OTHER');
    expect(c?.accessKeyId).toBe('ASIA1');
    expect(sts.calls).toEqual([{ RoleArn: ROLE, RoleSessionName: 'emr-gateway', ExternalId: 'ext-123', DurationSeconds: 3600 }]);
  });

  it('keeps credentials per (role, source identity) until five minutes before they expire', async () => {
    const sts = fakeSts();
    const access = new ClusterAccess(sts.client, CLUSTERS, () => now);
    const a1 = await access.credentials('j-OTHER', 'alice');
    const a2 = await access.credentials('j-OTHER', 'alice');
    const plain = await access.credentials('j-OTHER');
    const b = await access.credentials('j-OTHER', 'bob');
    expect(a2).toBe(a1);
    expect(new Set([a1?.accessKeyId, plain?.accessKeyId, b?.accessKeyId]).size).toBe(3);
    expect(sts.calls.map((c) => [c.SourceIdentity, c.RoleSessionName])).toEqual([['alice', 'emr-gateway-alice'], [undefined, 'emr-gateway'], ['bob', 'emr-gateway-bob']]);
    now += 3600_000 - 4 * 60_000; // less than five minutes left: renewed
    expect((await access.credentials('j-OTHER', 'alice'))?.accessKeyId).toBe('ASIA4');
  });

  it('concurrent callers share one AssumeRole; a refusal is not kept and says which role and why', async () => {
    let refuse = true;
    const denied = Object.assign(new Error('User: arn:aws:sts::123456789012:assumed-role/f/x is not authorized to perform: sts:AssumeRole on resource: ' + ROLE), { name: 'AccessDenied' });
    const sts = fakeSts(() => (refuse ? denied : undefined));
    const access = new ClusterAccess(sts.client, CLUSTERS, () => now);
    const error = await access.credentials('j-OTHER').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmrRejectedError);
    expect(error).toMatchObject({ emrError: 'AccessDenied', by: 'STS' });
    expect((error as Error).message).toBe(`AssumeRole of ${ROLE} (the access role of cluster j-OTHER in account 210987654321): ${denied.message}`);
    refuse = false;
    const [x, y] = await Promise.all([access.credentials('j-OTHER'), access.credentials('j-OTHER')]);
    expect(x).toBe(y);
    expect(sts.calls).toHaveLength(2);
  });
});

describe('ClusterClients', () => {
  it("the gateway's own client on a cluster of its account; on another account's, one made with the access role's credentials, kept while they are", async () => {
    const sts = fakeSts();
    const own = { name: 'own' };
    const made: { name: string; key: string }[] = [];
    const clients = new ClusterClients(own, (c) => (made.push({ name: 'made', key: c.accessKeyId }), made.at(-1)!), new ClusterAccess(sts.client, CLUSTERS, () => now));
    expect(await clients.on('j-HOME')).toBe(own);
    const first = await clients.on('j-OTHER');
    expect(first).toEqual({ name: 'made', key: 'ASIA1' });
    expect(await clients.on('j-OTHER')).toBe(first);
    // Renewed credentials (near their expiry): a client made with the new ones.
    now += 3600_000 - 60_000;
    expect(await clients.on('j-OTHER')).toEqual({ name: 'made', key: 'ASIA2' });
    expect(made).toHaveLength(2);
  });
});
