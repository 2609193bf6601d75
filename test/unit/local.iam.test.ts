/**
 * The local IAM (src/local/iam.ts) through its Query wire (iam-query.ts): IAM's shapes (RoleId AROA..., PolicyId
 * ANPA..., ARNs with paths, URL-encoded documents, ISO dates, IsTruncated/Marker), its errors and quotas, and its
 * state in the data directory. Over HTTP with the AWS CLI and the SDK: e2e/iam-sts.test.ts.
 */
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalIam } from '../../src/local/iam';
import { iamQueryService } from '../../src/local/iam-query';
import { answerQuery } from '../../src/local/query-protocol';
import { childrenNamed, parseXml, type XmlElement } from '../../src/local/xml';

const ACCOUNT = '123456789012';
const NS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const EC2_TRUST = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
const trustOf = (principal: string) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: principal }, Action: ['sts:AssumeRole', 'sts:TagSession'] }] });
const allow = (action: string, resource = '*') => JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'A', Effect: 'Allow', Action: action, Resource: resource }] });

let dataDir: string;
let iam: LocalIam;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'local-iam-'));
  iam = new LocalIam({ dataDir, partition: 'aws', account: ACCOUNT });
});

interface Answer {
  status: number;
  body: string;
  root: XmlElement;
}
function call(action: string, members: Record<string, string> = {}, on: LocalIam = iam): Answer {
  const answer = answerQuery(iamQueryService(on), new URLSearchParams({ Action: action, Version: '2010-05-08', ...members }), undefined);
  return { ...answer, root: parseXml(answer.body) };
}
/** The text of the element at `path` below `element`. */
function text(element: XmlElement, ...path: string[]): string | undefined {
  let at: XmlElement | undefined = element;
  for (const name of path) at = at && childrenNamed(at, name)[0];
  return at?.text;
}
const result = (a: Answer, action: string): XmlElement => childrenNamed(a.root, `${action}Result`)[0]!;
const error = (a: Answer) => ({ status: a.status, type: text(a.root, 'Error', 'Type'), code: text(a.root, 'Error', 'Code'), message: text(a.root, 'Error', 'Message') });
const members = (element: XmlElement | undefined): XmlElement[] => (element ? childrenNamed(element, 'member') : []);

describe('roles', () => {
  it("CreateRole and GetRole answer IAM's shapes: namespace, AROA id, ARN with the path, ISO date, the document URL-encoded as written", () => {
    const created = call('CreateRole', { RoleName: 'CallerTeamRoleETL', Path: '/runtime/', AssumeRolePolicyDocument: trustOf(`arn:aws:iam::${ACCOUNT}:root`), Description: 'ETL jobs', 'Tags.member.1.Key': 'team', 'Tags.member.1.Value': 'a' });
    expect(created.status).toBe(200);
    expect(created.body).toContain(`<CreateRoleResponse xmlns="${NS}">`);
    const role = childrenNamed(result(created, 'CreateRole'), 'Role')[0]!;
    expect(text(role, 'RoleId')).toMatch(/^AROA[A-Z2-7]{17}$/);
    expect(text(role, 'Arn')).toBe(`arn:aws:iam::${ACCOUNT}:role/runtime/CallerTeamRoleETL`);
    expect(text(role, 'CreateDate')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(text(role, 'AssumeRolePolicyDocument')).toMatch(/^%7B%22Version%22%3A%222012-10-17%22/);
    expect(decodeURIComponent(text(role, 'AssumeRolePolicyDocument')!)).toBe(trustOf(`arn:aws:iam::${ACCOUNT}:root`));
    expect(text(role, 'MaxSessionDuration')).toBeUndefined(); // CreateRole does not show it
    expect(text(childrenNamed(role, 'Tags')[0]!, 'member', 'Key')).toBe('team');

    const got = childrenNamed(result(call('GetRole', { RoleName: 'callerteamroleetl' }), 'GetRole'), 'Role')[0]!; // names are case-insensitive
    expect(text(got, 'RoleId')).toBe(text(role, 'RoleId'));
    expect(text(got, 'MaxSessionDuration')).toBe('3600');
    expect(text(got, 'Description')).toBe('ETL jobs');
    expect(childrenNamed(got, 'RoleLastUsed')).toHaveLength(1);
    expect(childrenNamed(result(call('GetRole', { RoleName: 'CallerTeamRoleETL' }), 'GetRole'), 'ResponseMetadata')).toHaveLength(0);
    expect(text(call('GetRole', { RoleName: 'CallerTeamRoleETL' }).root, 'ResponseMetadata', 'RequestId')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('errors: NoSuchEntity 404, EntityAlreadyExists 409 whatever the case, ValidationError for members, InvalidAction', () => {
    expect(error(call('GetRole', { RoleName: 'Nope' }))).toEqual({ status: 404, type: 'Sender', code: 'NoSuchEntity', message: 'The role with name Nope cannot be found.' });
    call('CreateRole', { RoleName: 'EMR_EC2_DefaultRole', AssumeRolePolicyDocument: EC2_TRUST });
    expect(error(call('CreateRole', { RoleName: 'emr_ec2_defaultrole', AssumeRolePolicyDocument: EC2_TRUST }))).toMatchObject({ status: 409, code: 'EntityAlreadyExists', message: 'Role with name emr_ec2_defaultrole already exists.' });
    expect(error(call('CreateRole', { RoleName: 'has space', AssumeRolePolicyDocument: EC2_TRUST }))).toMatchObject({
      status: 400,
      code: 'ValidationError',
      message: "1 validation error detected: Value 'has space' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+",
    });
    expect(error(call('CreateRole', { RoleName: 'x' }))).toMatchObject({ code: 'ValidationError', message: "1 validation error detected: Value null at 'assumeRolePolicyDocument' failed to satisfy constraint: Member must not be null" });
    expect(error(call('CreateRole', { RoleName: 'x', AssumeRolePolicyDocument: EC2_TRUST, MaxSessionDuration: '60' }))).toMatchObject({ code: 'ValidationError', message: expect.stringContaining('greater than or equal to 3600') });
    expect(error(call('CreateUser', { UserName: 'bob' }))).toMatchObject({ status: 400, code: 'InvalidAction' });
  });

  it("MalformedPolicyDocument: IAM's checks of trust and permissions policies", () => {
    const create = (name: string, document: string) => error(call('CreateRole', { RoleName: name, AssumeRolePolicyDocument: document }));
    expect(create('a', '{not json')).toMatchObject({ status: 400, code: 'MalformedPolicyDocument', message: 'Syntax errors in policy.' });
    const withResource = JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'sts:AssumeRole', Resource: '*' }] });
    expect(create('b', withResource)).toMatchObject({ code: 'MalformedPolicyDocument', message: 'Has prohibited field Resource' });
    const s3 = JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 's3:GetObject' }] });
    expect(create('c', s3)).toMatchObject({ code: 'MalformedPolicyDocument', message: 'AssumeRole policy may only specify STS AssumeRole actions.' });
    expect(create('d', trustOf(`arn:aws:iam::${ACCOUNT}:role/NoSuchRole`))).toMatchObject({ code: 'MalformedPolicyDocument', message: `Invalid principal in policy: "AWS":"arn:aws:iam::${ACCOUNT}:role/NoSuchRole"` });
    expect(create('e', trustOf(`arn:aws:iam::${ACCOUNT}:role/Caller*`))).toMatchObject({ code: 'MalformedPolicyDocument', message: expect.stringContaining('wildcard') });
    expect(create('f', JSON.stringify({ Statement: [{ Effect: 'Permit', Principal: '*', Action: 'sts:AssumeRole' }] }))).toMatchObject({ code: 'MalformedPolicyDocument', message: expect.stringContaining('Statement[0].Effect') });
    // A principal of another account is not checked (as IAM cannot know it locally); one of this account must exist.
    call('CreateRole', { RoleName: 'EMR_EC2_DefaultRole', AssumeRolePolicyDocument: EC2_TRUST });
    expect(call('CreateRole', { RoleName: 'g', AssumeRolePolicyDocument: trustOf(`arn:aws:iam::${ACCOUNT}:role/EMR_EC2_DefaultRole`) }).status).toBe(200);
    expect(call('CreateRole', { RoleName: 'h', AssumeRolePolicyDocument: trustOf('arn:aws:iam::210987654321:role/Anything') }).status).toBe(200);
    const withPrincipal = JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole', Resource: '*' }] });
    expect(error(call('PutRolePolicy', { RoleName: 'g', PolicyName: 'p', PolicyDocument: withPrincipal }))).toMatchObject({ code: 'MalformedPolicyDocument', message: 'Policy document should not specify a principal.' });
  });

  it('UpdateAssumeRolePolicy replaces the trust policy (checked the same way); ListRoles pages with Marker', () => {
    for (const name of ['A1', 'B2', 'C3']) call('CreateRole', { RoleName: name, AssumeRolePolicyDocument: EC2_TRUST });
    expect(call('UpdateAssumeRolePolicy', { RoleName: 'B2', PolicyDocument: trustOf(ACCOUNT) }).body).toContain('<UpdateAssumeRolePolicyResponse');
    expect(decodeURIComponent(text(result(call('GetRole', { RoleName: 'B2' }), 'GetRole'), 'Role', 'AssumeRolePolicyDocument')!)).toBe(trustOf(ACCOUNT));
    expect(error(call('UpdateAssumeRolePolicy', { RoleName: 'B2', PolicyDocument: '[]' }))).toMatchObject({ code: 'MalformedPolicyDocument' });
    expect(error(call('UpdateAssumeRolePolicy', { RoleName: 'Z9', PolicyDocument: EC2_TRUST }))).toMatchObject({ code: 'NoSuchEntity' });

    const first = result(call('ListRoles', { MaxItems: '2' }), 'ListRoles');
    expect(members(childrenNamed(first, 'Roles')[0]).map((r) => text(r, 'RoleName'))).toEqual(['A1', 'B2']);
    expect(text(first, 'IsTruncated')).toBe('true');
    expect(members(childrenNamed(first, 'Roles')[0]).map((r) => text(r, 'MaxSessionDuration'))).toEqual(['3600', '3600']);
    const second = result(call('ListRoles', { MaxItems: '2', Marker: text(first, 'Marker')! }), 'ListRoles');
    expect(members(childrenNamed(second, 'Roles')[0]).map((r) => text(r, 'RoleName'))).toEqual(['C3']);
    expect(text(second, 'IsTruncated')).toBe('false');
    expect(text(second, 'Marker')).toBeUndefined();
  });
});

describe('inline and managed policies', () => {
  beforeEach(() => call('CreateRole', { RoleName: 'EMR_EC2_DefaultRole', AssumeRolePolicyDocument: EC2_TRUST }));

  it('PutRolePolicy, GetRolePolicy (URL-encoded), ListRolePolicies, DeleteRolePolicy; DeleteRole refuses while policies remain', () => {
    const document = allow('sts:AssumeRole', `arn:aws:iam::${ACCOUNT}:role/CallerTeamRoleETL`);
    call('PutRolePolicy', { RoleName: 'EMR_EC2_DefaultRole', PolicyName: 'AllowRuntimeRoleUsage', PolicyDocument: document });
    const got = result(call('GetRolePolicy', { RoleName: 'EMR_EC2_DefaultRole', PolicyName: 'AllowRuntimeRoleUsage' }), 'GetRolePolicy');
    expect([text(got, 'RoleName'), text(got, 'PolicyName'), decodeURIComponent(text(got, 'PolicyDocument')!)]).toEqual(['EMR_EC2_DefaultRole', 'AllowRuntimeRoleUsage', document]);
    expect(members(childrenNamed(result(call('ListRolePolicies', { RoleName: 'EMR_EC2_DefaultRole' }), 'ListRolePolicies'), 'PolicyNames')[0]).map((m) => m.text)).toEqual(['AllowRuntimeRoleUsage']);
    expect(error(call('DeleteRole', { RoleName: 'EMR_EC2_DefaultRole' }))).toEqual({ status: 409, type: 'Sender', code: 'DeleteConflict', message: 'Cannot delete entity, must delete policies first.' });
    expect(error(call('GetRolePolicy', { RoleName: 'EMR_EC2_DefaultRole', PolicyName: 'Other' }))).toMatchObject({ status: 404, code: 'NoSuchEntity', message: 'The role policy with name Other cannot be found.' });
    call('DeleteRolePolicy', { RoleName: 'EMR_EC2_DefaultRole', PolicyName: 'AllowRuntimeRoleUsage' });
    expect(call('DeleteRole', { RoleName: 'EMR_EC2_DefaultRole' }).status).toBe(200);
    expect(error(call('GetRole', { RoleName: 'EMR_EC2_DefaultRole' }))).toMatchObject({ code: 'NoSuchEntity' });
  });

  it('LimitExceeded: inline policies beyond 10,240 characters a role (white space not counted)', () => {
    const big = (n: number) => JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: `arn:aws:iam::${ACCOUNT}:role/${'x'.repeat(n)}` }] });
    call('PutRolePolicy', { RoleName: 'EMR_EC2_DefaultRole', PolicyName: 'one', PolicyDocument: big(5000) });
    expect(error(call('PutRolePolicy', { RoleName: 'EMR_EC2_DefaultRole', PolicyName: 'two', PolicyDocument: big(5200) }))).toMatchObject({ status: 409, code: 'LimitExceeded' });
    expect(call('PutRolePolicy', { RoleName: 'EMR_EC2_DefaultRole', PolicyName: 'one', PolicyDocument: big(9000) }).status).toBe(200); // replacing counts once
  });

  it('CreatePolicy (ANPA id, v1), GetPolicy with its attachment count, GetPolicyVersion, Attach/List/DetachRolePolicy, and their errors', () => {
    const created = childrenNamed(result(call('CreatePolicy', { PolicyName: 'runtime-roles', Path: '/emr/', PolicyDocument: allow('sts:AssumeRole'), Description: 'd' }), 'CreatePolicy'), 'Policy')[0]!;
    const arn = `arn:aws:iam::${ACCOUNT}:policy/emr/runtime-roles`;
    expect([text(created, 'Arn'), text(created, 'DefaultVersionId'), text(created, 'AttachmentCount'), text(created, 'IsAttachable')]).toEqual([arn, 'v1', '0', 'true']);
    expect(text(created, 'PolicyId')).toMatch(/^ANPA[A-Z2-7]{17}$/);
    expect(error(call('CreatePolicy', { PolicyName: 'runtime-roles', PolicyDocument: allow('sts:AssumeRole') }))).toMatchObject({ status: 409, code: 'EntityAlreadyExists' });

    call('AttachRolePolicy', { RoleName: 'EMR_EC2_DefaultRole', PolicyArn: arn });
    expect(text(result(call('GetPolicy', { PolicyArn: arn }), 'GetPolicy'), 'Policy', 'AttachmentCount')).toBe('1');
    expect(text(result(call('GetPolicy', { PolicyArn: arn }), 'GetPolicy'), 'Policy', 'Description')).toBe('d');
    const attached = members(childrenNamed(result(call('ListAttachedRolePolicies', { RoleName: 'EMR_EC2_DefaultRole' }), 'ListAttachedRolePolicies'), 'AttachedPolicies')[0]);
    expect(attached.map((p) => [text(p, 'PolicyName'), text(p, 'PolicyArn')])).toEqual([['runtime-roles', arn]]);
    const version = result(call('GetPolicyVersion', { PolicyArn: arn, VersionId: 'v1' }), 'GetPolicyVersion');
    expect([decodeURIComponent(text(version, 'PolicyVersion', 'Document')!), text(version, 'PolicyVersion', 'IsDefaultVersion')]).toEqual([allow('sts:AssumeRole'), 'true']);
    expect(error(call('GetPolicyVersion', { PolicyArn: arn, VersionId: 'v2' }))).toMatchObject({ status: 404, code: 'NoSuchEntity' });
    expect(error(call('DeleteRole', { RoleName: 'EMR_EC2_DefaultRole' }))).toMatchObject({ code: 'DeleteConflict', message: 'Cannot delete entity, must detach all policies first.' });

    const missing = `arn:aws:iam::${ACCOUNT}:policy/none`;
    expect(error(call('AttachRolePolicy', { RoleName: 'EMR_EC2_DefaultRole', PolicyArn: missing }))).toMatchObject({ status: 404, code: 'NoSuchEntity', message: `Policy ${missing} does not exist or is not attachable.` });
    expect(error(call('GetPolicy', { PolicyArn: missing }))).toMatchObject({ code: 'NoSuchEntity' });
    call('DetachRolePolicy', { RoleName: 'EMR_EC2_DefaultRole', PolicyArn: arn });
    expect(error(call('DetachRolePolicy', { RoleName: 'EMR_EC2_DefaultRole', PolicyArn: arn }))).toMatchObject({ status: 404, code: 'NoSuchEntity', message: `Policy ${arn} was not found.` });
    expect(text(result(call('GetPolicy', { PolicyArn: arn }), 'GetPolicy'), 'Policy', 'AttachmentCount')).toBe('0');
  });

  it('LimitExceeded: more than 10 managed policies on a role', () => {
    for (let i = 0; i < 11; i++) call('CreatePolicy', { PolicyName: `p${i}`, PolicyDocument: allow('sts:AssumeRole') });
    for (let i = 0; i < 10; i++) expect(call('AttachRolePolicy', { RoleName: 'EMR_EC2_DefaultRole', PolicyArn: `arn:aws:iam::${ACCOUNT}:policy/p${i}` }).status).toBe(200);
    expect(error(call('AttachRolePolicy', { RoleName: 'EMR_EC2_DefaultRole', PolicyArn: `arn:aws:iam::${ACCOUNT}:policy/p10` }))).toMatchObject({ status: 409, code: 'LimitExceeded', message: 'Cannot exceed quota for PoliciesPerRole: 10' });
  });
});

describe('state in the data directory', () => {
  it('survives a restart (same ids), is private, and a re-created role gets a new id', () => {
    call('CreateRole', { RoleName: 'EMR_EC2_DefaultRole', AssumeRolePolicyDocument: EC2_TRUST });
    call('PutRolePolicy', { RoleName: 'EMR_EC2_DefaultRole', PolicyName: 'p', PolicyDocument: allow('sts:AssumeRole') });
    const id = text(result(call('GetRole', { RoleName: 'EMR_EC2_DefaultRole' }), 'GetRole'), 'Role', 'RoleId');
    const restarted = new LocalIam({ dataDir, partition: 'aws', account: ACCOUNT });
    expect(text(result(call('GetRole', { RoleName: 'EMR_EC2_DefaultRole' }, restarted), 'GetRole'), 'Role', 'RoleId')).toBe(id);
    expect(restarted.permissionsOf(restarted.getRole('EMR_EC2_DefaultRole')).map((p) => p.name)).toEqual(['p']);
    expect(statSync(join(dataDir, 'iam', 'iam.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'iam')).mode & 0o777).toBe(0o700);
    call('DeleteRolePolicy', { RoleName: 'EMR_EC2_DefaultRole', PolicyName: 'p' }, restarted);
    call('DeleteRole', { RoleName: 'EMR_EC2_DefaultRole' }, restarted);
    call('CreateRole', { RoleName: 'EMR_EC2_DefaultRole', AssumeRolePolicyDocument: EC2_TRUST }, restarted);
    expect(text(result(call('GetRole', { RoleName: 'EMR_EC2_DefaultRole' }, restarted), 'GetRole'), 'Role', 'RoleId')).not.toBe(id);
  });
});

describe('instance profiles (what EC2 gives an EMR node: its role, by the profile the cluster names)', () => {
  beforeEach(() => void iam.createRole({ name: 'EMR_EC2_DefaultRole', trustPolicy: EC2_TRUST }));

  it("CreateInstanceProfile, AddRoleToInstanceProfile and GetInstanceProfile answer IAM's shapes: AIPA id, ARN with the path, the role in Roles", () => {
    const created = call('CreateInstanceProfile', { InstanceProfileName: 'EMR_EC2_DefaultRole', Path: '/emr/' });
    expect(created.status).toBe(200);
    const profile = childrenNamed(result(created, 'CreateInstanceProfile'), 'InstanceProfile')[0]!;
    expect(text(profile, 'InstanceProfileId')).toMatch(/^AIPA[A-Z2-7]{17}$/);
    expect(text(profile, 'Arn')).toBe(`arn:aws:iam::${ACCOUNT}:instance-profile/emr/EMR_EC2_DefaultRole`);
    expect(text(profile, 'CreateDate')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(members(childrenNamed(profile, 'Roles')[0])).toEqual([]);

    expect(call('AddRoleToInstanceProfile', { InstanceProfileName: 'EMR_EC2_DefaultRole', RoleName: 'emr_ec2_defaultrole' }).status).toBe(200);
    const got = childrenNamed(result(call('GetInstanceProfile', { InstanceProfileName: 'EMR_EC2_DefaultRole' }), 'GetInstanceProfile'), 'InstanceProfile')[0]!;
    const roles = members(childrenNamed(got, 'Roles')[0]);
    expect(roles.map((r) => text(r, 'Arn'))).toEqual([`arn:aws:iam::${ACCOUNT}:role/EMR_EC2_DefaultRole`]);
    expect(iam.instanceProfileRole('EMR_EC2_DefaultRole')?.name).toBe('EMR_EC2_DefaultRole');

    const forRole = result(call('ListInstanceProfilesForRole', { RoleName: 'EMR_EC2_DefaultRole' }), 'ListInstanceProfilesForRole');
    expect(members(childrenNamed(forRole, 'InstanceProfiles')[0]).map((p) => text(p, 'InstanceProfileName'))).toEqual(['EMR_EC2_DefaultRole']);
    expect(members(childrenNamed(result(call('ListInstanceProfiles'), 'ListInstanceProfiles'), 'InstanceProfiles')[0])).toHaveLength(1);
  });

  it("answers IAM's errors: a second role is over the quota of one, a missing profile or role is NoSuchEntity, a name taken is EntityAlreadyExists", () => {
    call('CreateInstanceProfile', { InstanceProfileName: 'EMR_EC2_DefaultRole' });
    call('AddRoleToInstanceProfile', { InstanceProfileName: 'EMR_EC2_DefaultRole', RoleName: 'EMR_EC2_DefaultRole' });
    iam.createRole({ name: 'Other', trustPolicy: EC2_TRUST });
    expect(error(call('AddRoleToInstanceProfile', { InstanceProfileName: 'EMR_EC2_DefaultRole', RoleName: 'Other' }))).toMatchObject({ status: 409, code: 'LimitExceeded', message: 'Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1' });
    expect(error(call('CreateInstanceProfile', { InstanceProfileName: 'emr_ec2_defaultrole' }))).toMatchObject({ status: 409, code: 'EntityAlreadyExists' });
    expect(error(call('GetInstanceProfile', { InstanceProfileName: 'Nope' }))).toMatchObject({ status: 404, code: 'NoSuchEntity', message: 'Instance Profile Nope cannot be found.' });
    expect(error(call('AddRoleToInstanceProfile', { InstanceProfileName: 'EMR_EC2_DefaultRole', RoleName: 'Nope' }))).toMatchObject({ status: 404, code: 'NoSuchEntity' });
    expect(error(call('RemoveRoleFromInstanceProfile', { InstanceProfileName: 'EMR_EC2_DefaultRole', RoleName: 'Other' }))).toMatchObject({ status: 404, code: 'NoSuchEntity' });
    // A role in a profile, and a profile holding a role, cannot be deleted.
    expect(error(call('DeleteRole', { RoleName: 'EMR_EC2_DefaultRole' }))).toMatchObject({ status: 409, code: 'DeleteConflict', message: 'Cannot delete entity, must remove roles from instance profile first.' });
    expect(error(call('DeleteInstanceProfile', { InstanceProfileName: 'EMR_EC2_DefaultRole' }))).toMatchObject({ status: 409, code: 'DeleteConflict', message: 'Cannot delete entity, must remove roles from instance profile first.' });
    expect(call('RemoveRoleFromInstanceProfile', { InstanceProfileName: 'EMR_EC2_DefaultRole', RoleName: 'EMR_EC2_DefaultRole' }).status).toBe(200);
    expect(iam.instanceProfileRole('EMR_EC2_DefaultRole')).toBeUndefined();
    expect(call('DeleteInstanceProfile', { InstanceProfileName: 'EMR_EC2_DefaultRole' }).status).toBe(200);
    expect(error(call('GetInstanceProfile', { InstanceProfileName: 'EMR_EC2_DefaultRole' }))).toMatchObject({ code: 'NoSuchEntity' });
  });

  it('keeps instance profiles across a restart, and reads a store written before they existed', () => {
    call('CreateInstanceProfile', { InstanceProfileName: 'EMR_EC2_DefaultRole' });
    call('AddRoleToInstanceProfile', { InstanceProfileName: 'EMR_EC2_DefaultRole', RoleName: 'EMR_EC2_DefaultRole' });
    const again = new LocalIam({ dataDir, partition: 'aws', account: ACCOUNT });
    expect(again.instanceProfileRole('EMR_EC2_DefaultRole')?.name).toBe('EMR_EC2_DefaultRole');

    const old = mkdtempSync(join(tmpdir(), 'local-iam-old-'));
    const { writePrivateJson, privateDir } = jest.requireActual<typeof import('../../src/local/private-store')>('../../src/local/private-store');
    writePrivateJson(join(privateDir(join(old, 'iam')), 'iam.json'), { version: 1, roles: [], policies: [], seeded: {} });
    expect(new LocalIam({ dataDir: old, partition: 'aws', account: ACCOUNT }).instanceProfileRole('EMR_EC2_DefaultRole')).toBeUndefined();
  });
});
