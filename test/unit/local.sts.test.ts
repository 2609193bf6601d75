/**
 * The local STS (src/local/sts.ts) through its Query wire (sts-query.ts), deciding like STS with the roles of the
 * local IAM: who the caller is (the request's access key: a session STS issued, a configured credential, or the
 * account root), the trust policy and the caller's identity policies (authz/trust.ts), AccessDenied with IAM's
 * message (an unknown role too), durations, sessions that expire, source identity through role chaining, and
 * GetCallerIdentity's UserId. Over HTTP with the AWS CLI and the SDK: e2e/iam-sts.test.ts.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalIam } from '../../src/local/iam';
import { answerQuery } from '../../src/local/query-protocol';
import { LocalSts } from '../../src/local/sts';
import { stsQueryService } from '../../src/local/sts-query';
import { childrenNamed, parseXml, type XmlElement } from '../../src/local/xml';

const ACCOUNT = '123456789012';
const INSTANCE_PROFILE = `arn:aws:iam::${ACCOUNT}:role/EMR_EC2_DefaultRole`;
const ETL = `arn:aws:iam::${ACCOUNT}:role/CallerTeamRoleETL`;
const EXTERNAL_ID = 'FXH5TSACFDWUCDSR3YQE2O7ETPUSM4OBCGLYWODSCUZDNZ4Y';
const doc = (...Statement: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const RUNTIME_TRUST = doc(
  { Sid: 'AllowAssumeRole', Effect: 'Allow', Principal: { AWS: INSTANCE_PROFILE }, Action: ['sts:AssumeRole', 'sts:TagSession'], Condition: { StringEquals: { 'sts:ExternalId': EXTERNAL_ID } } },
  { Sid: 'AllowSetSourceIdentity', Effect: 'Allow', Principal: { AWS: INSTANCE_PROFILE }, Action: ['sts:SetSourceIdentity', 'sts:AssumeRole'], Condition: { StringEquals: { 'sts:ExternalId': EXTERNAL_ID } } },
);
const ALICE_KEY = 'AKIALOCALALICE000001';
const USER_KEY = 'AKIALOCALUSER0000001';

let now = Date.parse('2025-06-15T12:00:00Z');
let iam: LocalIam;
let sts: LocalSts;
beforeEach(() => {
  now = Date.parse('2025-06-15T12:00:00Z');
  iam = new LocalIam({ dataDir: mkdtempSync(join(tmpdir(), 'local-sts-')), partition: 'aws', account: ACCOUNT });
  iam.createRole({ name: 'EMR_EC2_DefaultRole', trustPolicy: doc({ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }) });
  iam.putRolePolicy('EMR_EC2_DefaultRole', 'AllowRuntimeRoleUsage', doc({ Sid: 'AllowRuntimeRoleUsage', Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'], Resource: [ETL] }));
  iam.createRole({ name: 'CallerTeamRoleETL', trustPolicy: RUNTIME_TRUST });
  sts = new LocalSts({
    account: ACCOUNT,
    partition: 'aws',
    iam,
    credentials: [
      { accessKeyId: ALICE_KEY, principal: `arn:aws:sts::${ACCOUNT}:assumed-role/DataTeamA/alice` },
      { accessKeyId: USER_KEY, principal: `arn:aws:iam::${ACCOUNT}:user/dev` },
    ],
    now: () => now,
  });
});

function call(action: string, key: string | undefined, members: Record<string, string> = {}) {
  const answer = answerQuery(stsQueryService(sts), new URLSearchParams({ Action: action, Version: '2011-06-15', ...members }), key);
  const root = parseXml(answer.body);
  return { ...answer, root };
}
function text(element: XmlElement | undefined, ...path: string[]): string | undefined {
  let at = element;
  for (const name of path) at = at && childrenNamed(at, name)[0];
  return at?.text;
}
const error = (a: ReturnType<typeof call>) => ({ status: a.status, code: text(a.root, 'Error', 'Code'), message: text(a.root, 'Error', 'Message') });
const assume = (key: string | undefined, members: Record<string, string>) => call('AssumeRole', key, { RoleArn: ETL, RoleSessionName: 'emr-step', ...members });
const accessKeyOf = (a: ReturnType<typeof call>) => text(a.root, 'AssumeRoleResult', 'Credentials', 'AccessKeyId')!;
/** The instance's credentials, as EC2 gives the instance profile role's to an EMR node. */
const instance = () => sts.instanceProfileSession(INSTANCE_PROFILE, 'i-0abc').accessKeyId;

describe('AssumeRole decides like STS', () => {
  it('the instance profile role assumes a runtime role with the ExternalId, a source identity and tags; the session says so', () => {
    const out = assume(instance(), { ExternalId: EXTERNAL_ID, SourceIdentity: 'alice', 'Tags.member.1.Key': 'LakeFormationAuthorizedCaller', 'Tags.member.1.Value': 'Amazon EMR' });
    expect(out.status).toBe(200);
    const result = childrenNamed(out.root, 'AssumeRoleResult')[0];
    const roleId = iam.getRole('CallerTeamRoleETL').id;
    expect(text(result, 'AssumedRoleUser', 'Arn')).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/CallerTeamRoleETL/emr-step`);
    expect(text(result, 'AssumedRoleUser', 'AssumedRoleId')).toBe(`${roleId}:emr-step`);
    expect(text(result, 'SourceIdentity')).toBe('alice');
    expect(text(result, 'Credentials', 'AccessKeyId')).toMatch(/^ASIA[A-Z0-9]{16}$/);
    expect(text(result, 'Credentials', 'Expiration')).toBe('2025-06-15T13:00:00Z');
    const who = call('GetCallerIdentity', accessKeyOf(out));
    expect([text(who.root, 'GetCallerIdentityResult', 'Arn'), text(who.root, 'GetCallerIdentityResult', 'UserId'), text(who.root, 'GetCallerIdentityResult', 'Account')]).toEqual([
      `arn:aws:sts::${ACCOUNT}:assumed-role/CallerTeamRoleETL/emr-step`,
      `${roleId}:emr-step`,
      ACCOUNT,
    ]);
    expect(sts.sessions.get(accessKeyOf(out))).toMatchObject({ roleArn: ETL, sourceIdentity: 'alice', tags: { LakeFormationAuthorizedCaller: 'Amazon EMR' } });
  });

  it("without the trust policy's ExternalId, or as another principal: 403 AccessDenied with IAM's message", () => {
    const caller = `arn:aws:sts::${ACCOUNT}:assumed-role/EMR_EC2_DefaultRole/i-0abc`;
    expect(error(assume(instance(), {}))).toEqual({ status: 403, code: 'AccessDenied', message: `User: ${caller} is not authorized to perform: sts:AssumeRole on resource: ${ETL}` });
    expect(error(assume(instance(), { ExternalId: 'SOMEONEELSE' }))).toMatchObject({ status: 403, code: 'AccessDenied' });
    expect(error(assume(ALICE_KEY, { ExternalId: EXTERNAL_ID }))).toEqual({
      status: 403,
      code: 'AccessDenied',
      message: `User: arn:aws:sts::${ACCOUNT}:assumed-role/DataTeamA/alice is not authorized to perform: sts:AssumeRole on resource: ${ETL}`,
    });
  });

  it('the account root may assume no role, whatever the trust policy says (STS: "Roles may not be assumed by root accounts.")', () => {
    iam.updateAssumeRolePolicy('CallerTeamRoleETL', doc({ Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'sts:AssumeRole' }));
    expect(error(assume('AKIALOCALCLI00000000', {}))).toEqual({ status: 403, code: 'AccessDenied', message: 'Roles may not be assumed by root accounts.' });
  });

  it('a role that does not exist is AccessDenied too: STS does not say which roles exist', () => {
    const missing = `arn:aws:iam::${ACCOUNT}:role/NoSuchRole`;
    expect(error(call('AssumeRole', instance(), { RoleArn: missing, RoleSessionName: 'x1' }))).toEqual({
      status: 403,
      code: 'AccessDenied',
      message: `User: arn:aws:sts::${ACCOUNT}:assumed-role/EMR_EC2_DefaultRole/i-0abc is not authorized to perform: sts:AssumeRole on resource: ${missing}`,
    });
  });

  it('the trust policy is read at each call: a change through IAM takes effect at once', () => {
    const key = instance();
    expect(assume(key, { ExternalId: EXTERNAL_ID }).status).toBe(200);
    iam.updateAssumeRolePolicy('CallerTeamRoleETL', doc({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' }));
    // Now the account is trusted, which delegates to the caller's identity policy: it allows sts:AssumeRole on ETL.
    expect(assume(key, {}).status).toBe(200);
    iam.deleteRolePolicy('EMR_EC2_DefaultRole', 'AllowRuntimeRoleUsage');
    expect(error(assume(key, {}))).toMatchObject({ status: 403, code: 'AccessDenied' });
  });

  it('tags need sts:TagSession and a source identity sts:SetSourceIdentity: the message names the action refused', () => {
    iam.updateAssumeRolePolicy('CallerTeamRoleETL', doc({ Effect: 'Allow', Principal: { AWS: INSTANCE_PROFILE }, Action: 'sts:AssumeRole' }));
    expect(error(assume(instance(), { SourceIdentity: 'alice' })).message).toMatch(/is not authorized to perform: sts:SetSourceIdentity on resource/);
    expect(error(assume(instance(), { 'Tags.member.1.Key': 'k', 'Tags.member.1.Value': 'v' })).message).toMatch(/is not authorized to perform: sts:TagSession on resource/);
  });
});

describe('sessions', () => {
  beforeEach(() => {
    iam.createRole({ name: 'Next', trustPolicy: doc({ Effect: 'Allow', Principal: { AWS: ETL }, Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'] }) });
    iam.putRolePolicy('CallerTeamRoleETL', 'chain', doc({ Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'], Resource: '*' }));
  });
  const next = (key: string, members: Record<string, string> = {}) => call('AssumeRole', key, { RoleArn: `arn:aws:iam::${ACCOUNT}:role/Next`, RoleSessionName: 'chained', ...members });

  it('a source identity stays through role chaining and cannot be changed', () => {
    const first = accessKeyOf(assume(instance(), { ExternalId: EXTERNAL_ID, SourceIdentity: 'alice' }));
    const chained = next(first);
    expect(text(chained.root, 'AssumeRoleResult', 'SourceIdentity')).toBe('alice');
    expect(sts.sessions.get(accessKeyOf(chained))?.sourceIdentity).toBe('alice');
    expect(error(next(first, { SourceIdentity: 'bob' }))).toMatchObject({ status: 403, code: 'AccessDenied' });
    expect(next(first, { SourceIdentity: 'alice' }).status).toBe(200);
  });

  it("durations: at most the role's MaxSessionDuration, and one hour in role chaining", () => {
    expect(error(assume(instance(), { ExternalId: EXTERNAL_ID, DurationSeconds: '600' }))).toMatchObject({ status: 400, code: 'ValidationError', message: expect.stringContaining('greater than or equal to 900') });
    expect(error(assume(instance(), { ExternalId: EXTERNAL_ID, DurationSeconds: '7200' }))).toMatchObject({ code: 'ValidationError', message: 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.' });
    expect(error(assume(USER_KEY, { DurationSeconds: '7200' }))).toMatchObject({ status: 403, code: 'AccessDenied' }); // decided before the duration
    iam.updateAssumeRolePolicy('CallerTeamRoleETL', doc({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/dev` }, Action: 'sts:AssumeRole' }));
    expect(error(assume(USER_KEY, { DurationSeconds: '7200' }))).toMatchObject({ code: 'ValidationError', message: 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.' });
    expect(assume(USER_KEY, { DurationSeconds: '3600' }).status).toBe(200);
  });

  it('credentials expire; keys STS never issued are refused; a request without credentials is refused', () => {
    const key = accessKeyOf(assume(instance(), { ExternalId: EXTERNAL_ID, DurationSeconds: '900' }));
    expect(call('GetCallerIdentity', key).status).toBe(200);
    now += 901_000;
    expect(error(call('GetCallerIdentity', key))).toEqual({ status: 400, code: 'ExpiredToken', message: 'The security token included in the request is expired' });
    expect(error(call('GetCallerIdentity', 'ASIAUNKNOWN00000000'))).toEqual({ status: 403, code: 'InvalidClientTokenId', message: 'The security token included in the request is invalid.' });
    expect(error(call('GetCallerIdentity', undefined))).toMatchObject({ status: 403, code: 'MissingAuthenticationToken' });
  });

  it('an instance profile session needs its role to trust EC2', () => {
    iam.updateAssumeRolePolicy('EMR_EC2_DefaultRole', doc({ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }));
    expect(() => sts.instanceProfileSession(INSTANCE_PROFILE, 'i-0abc')).toThrow(/ec2\.amazonaws\.com is not authorized to perform: sts:AssumeRole on resource: .*EMR_EC2_DefaultRole/);
  });
});

describe("GetCallerIdentity answers STS's UserId", () => {
  it('the account root (any key it does not know), a configured user, a configured assumed-role session', () => {
    const identity = (key: string) => {
      const r = call('GetCallerIdentity', key).root;
      return [text(r, 'GetCallerIdentityResult', 'Arn'), text(r, 'GetCallerIdentityResult', 'UserId')];
    };
    expect(identity('AKIALOCALCLI00000000')).toEqual([`arn:aws:iam::${ACCOUNT}:root`, ACCOUNT]);
    expect(identity(USER_KEY)).toEqual([`arn:aws:iam::${ACCOUNT}:user/dev`, expect.stringMatching(/^AIDA[A-Z2-7]{17}$/)]);
    expect(identity(ALICE_KEY)).toEqual([`arn:aws:sts::${ACCOUNT}:assumed-role/DataTeamA/alice`, expect.stringMatching(/^AROA[A-Z2-7]{17}:alice$/)]);
    expect(identity(ALICE_KEY)).toEqual(identity(ALICE_KEY));
  });
});

it('forgets sessions once they expire, so what it keeps does not grow with every job run (issue 11 item 8)', () => {
  const node = instance(); // six hours
  // A runtime-role session a minute for 100 minutes, 15 minutes each, as steps start.
  for (let i = 0; i < 100; i++) {
    now = Date.parse('2025-06-15T12:00:00Z') + i * 60_000;
    expect(assume(node, { ExternalId: EXTERNAL_ID, DurationSeconds: '900' }).status).toBe(200);
  }
  // The node's and those of the last 15 minutes (and one just past, until the next sweep) are kept, not all 101.
  expect(sts.sessions.size).toBeLessThanOrEqual(18);
});

describe('across accounts (a second account the stack holds)', () => {
  const OTHER = '210987654321';
  const ACCESS = `arn:aws:iam::${OTHER}:role/emr-gateway-access`;
  const GATEWAY_KEY = 'AKIALOCALGATEWAY0001';
  let other: LocalIam;
  beforeEach(() => {
    other = new LocalIam({ dataDir: mkdtempSync(join(tmpdir(), 'local-sts-other-')), partition: 'aws', account: OTHER });
    other.createRole({
      name: 'emr-gateway-access',
      trustPolicy: doc({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/emr-gateway-functions` }, Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'], Condition: { StringEquals: { 'sts:ExternalId': 'ext-1' } } }),
    });
    iam.createRole({ name: 'emr-gateway-functions', trustPolicy: doc({ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }) });
    sts = new LocalSts({ account: ACCOUNT, partition: 'aws', iam, accounts: new Map([[OTHER, other]]), credentials: [{ accessKeyId: GATEWAY_KEY, principal: `arn:aws:sts::${ACCOUNT}:assumed-role/emr-gateway-functions/local` }], now: () => now });
  });
  const access = (members: Record<string, string>) => call('AssumeRole', GATEWAY_KEY, { RoleArn: ACCESS, RoleSessionName: 'emr-gateway', ...members });

  it("needs the role's trust (with its ExternalId) and the caller's identity policy; the session is the other account's", () => {
    // Across accounts the trust alone is not enough.
    expect(error(access({ ExternalId: 'ext-1' }))).toMatchObject({ status: 403, code: 'AccessDenied' });
    iam.putRolePolicy('emr-gateway-functions', 'access', doc({ Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'], Resource: ACCESS }));
    expect(error(access({ ExternalId: 'wrong' }))).toMatchObject({ status: 403, code: 'AccessDenied', message: `User: arn:aws:sts::${ACCOUNT}:assumed-role/emr-gateway-functions/local is not authorized to perform: sts:AssumeRole on resource: ${ACCESS}` });
    const ok = access({ ExternalId: 'ext-1', SourceIdentity: 'alice' });
    expect(text(ok.root, 'AssumeRoleResult', 'AssumedRoleUser', 'Arn')).toBe(`arn:aws:sts::${OTHER}:assumed-role/emr-gateway-access/emr-gateway`);
    const identity = call('GetCallerIdentity', accessKeyOf(ok));
    expect(text(identity.root, 'GetCallerIdentityResult', 'Account')).toBe(OTHER);
    expect(sts.caller(accessKeyOf(ok))).toMatchObject({ account: OTHER, sourceIdentity: 'alice' });
    // A role of an account the stack does not hold is refused like one that does not exist.
    expect(error(call('AssumeRole', GATEWAY_KEY, { RoleArn: 'arn:aws:iam::333333333333:role/x', RoleSessionName: 'other' }))).toMatchObject({ status: 403, code: 'AccessDenied' });
  });
});
