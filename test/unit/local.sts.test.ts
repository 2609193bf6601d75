/**
 * The local STS forgets a session once it has expired (issue 11 item 8): the gateway assumes its submitter role
 * for every job it submits with a source identity, so sessions kept forever grew with every job run. Until it expires a session's key is known
 * (GetCallerIdentity names it, the local EMR reads its source identity); after, it is as any unknown key.
 */
import { LocalSts } from '../../src/local/sts';

const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/emr-gateway-submitter`;

function assume(sts: LocalSts, session: string, seconds: number): string {
  const xml = sts.handle(new URLSearchParams({ Action: 'AssumeRole', RoleArn: ROLE, RoleSessionName: session, SourceIdentity: 'alice', DurationSeconds: String(seconds) }), undefined);
  return /<AccessKeyId>(\w+)<\/AccessKeyId>/.exec(xml)![1]!;
}
const callerArn = (sts: LocalSts, key: string) => /<Arn>([^<]+)<\/Arn>/.exec(sts.handle(new URLSearchParams({ Action: 'GetCallerIdentity' }), key))![1];

afterEach(() => jest.useRealTimers());

it('keeps a session until it expires, then forgets it', () => {
  jest.useFakeTimers({ now: new Date('2026-12-01T09:00:00Z') });
  const sts = new LocalSts(ACCOUNT);
  const short = assume(sts, 'job-1', 900);
  const long = assume(sts, 'job-2', 3600);
  expect(callerArn(sts, short)).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/emr-gateway-submitter/job-1`);
  expect(sts.session(short)?.sourceIdentity).toBe('alice');

  jest.setSystemTime(new Date('2026-12-01T09:15:01Z'));
  expect(sts.session(short)).toBeUndefined();
  expect(callerArn(sts, short)).toBe(`arn:aws:iam::${ACCOUNT}:root`);
  expect(sts.session(long)?.sessionName).toBe('job-2');

  // Many sessions later, only those that have not expired are kept.
  for (let i = 0; i < 100; i++) {
    jest.setSystemTime(new Date(Date.parse('2026-12-01T10:00:00Z') + i * 60_000));
    assume(sts, `job-${i + 3}`, 900);
  }
  expect(sts.sessions.size).toBeLessThanOrEqual(17);
});
