import { allowIf, decide, engineWith, role, SUBMIT } from '../support/authz';

const ok = (condition: Record<string, unknown>, context: Record<string, string | string[]>): boolean =>
  decide(allowIf(condition), context) === 'Allowed';

describe('string operators', () => {
  it('StringEquals is exact and case-sensitive; values are ORed', () => {
    const c = { StringEquals: { 'emr-gateway:StepType': ['spark', 'hive'] } };
    expect(ok(c, { 'emr-gateway:StepType': 'hive' })).toBe(true);
    expect(ok(c, { 'emr-gateway:StepType': 'Spark' })).toBe(false);
    expect(ok(c, { 'emr-gateway:StepType': 'spark*' })).toBe(false);
    expect(ok(c, {})).toBe(false);
  });
  it('StringEquals takes * literally', () => {
    expect(ok({ StringEquals: { 'emr-gateway:StepType': 's*' } }, { 'emr-gateway:StepType': 'spark' })).toBe(false);
    expect(ok({ StringEquals: { 'emr-gateway:StepType': 's*' } }, { 'emr-gateway:StepType': 's*' })).toBe(true);
  });
  it('StringNotEquals: the value must differ from every listed value; a missing key matches', () => {
    const c = { StringNotEquals: { 'emr-gateway:StepType': ['spark', 'hive'] } };
    expect(ok(c, { 'emr-gateway:StepType': 'jar' })).toBe(true);
    expect(ok(c, { 'emr-gateway:StepType': 'hive' })).toBe(false);
    expect(ok(c, {})).toBe(true);
  });
  it('StringEqualsIgnoreCase and StringNotEqualsIgnoreCase', () => {
    expect(ok({ StringEqualsIgnoreCase: { 'emr-gateway:StepType': 'SPARK' } }, { 'emr-gateway:StepType': 'spark' })).toBe(true);
    expect(ok({ StringNotEqualsIgnoreCase: { 'emr-gateway:StepType': 'SPARK' } }, { 'emr-gateway:StepType': 'spark' })).toBe(false);
    expect(ok({ StringNotEqualsIgnoreCase: { 'emr-gateway:StepType': 'SPARK' } }, { 'emr-gateway:StepType': 'hive' })).toBe(true);
  });
  it('StringLike: * spans any characters (including /), ? exactly one', () => {
    const c = { StringLike: { 'elasticmapreduce:ExecutionRoleArn': role('CallerTeamRole*') } };
    expect(ok(c, { 'elasticmapreduce:ExecutionRoleArn': role('CallerTeamRoleETL') })).toBe(true);
    expect(ok(c, { 'elasticmapreduce:ExecutionRoleArn': role('CallerTeamRole') })).toBe(true);
    expect(ok(c, { 'elasticmapreduce:ExecutionRoleArn': role('Caller') })).toBe(false);
    const q = { StringLike: { 'emr-gateway:StepType': 'j?r' } };
    expect(ok(q, { 'emr-gateway:StepType': 'jar' })).toBe(true);
    expect(ok(q, { 'emr-gateway:StepType': 'jr' })).toBe(false);
    expect(ok({ StringLike: { 'emr-gateway:X': 'a*b*c' } }, { 'emr-gateway:X': 'a/x/b/y/c' })).toBe(true);
    expect(ok({ StringLike: { 'emr-gateway:X': 'a*b*c' } }, { 'emr-gateway:X': 'a/x/c/y/b' })).toBe(false);
  });
  it('StringNotLike', () => {
    const c = { StringNotLike: { 'elasticmapreduce:ExecutionRoleArn': [role('*Admin*'), role('Root?')] } };
    expect(ok(c, { 'elasticmapreduce:ExecutionRoleArn': role('CallerTeamRoleETL') })).toBe(true);
    expect(ok(c, { 'elasticmapreduce:ExecutionRoleArn': role('TeamAdminRole') })).toBe(false);
    expect(ok(c, { 'elasticmapreduce:ExecutionRoleArn': role('Root1') })).toBe(false);
  });
  it('condition key names are case-insensitive', () => {
    expect(ok({ StringEquals: { 'EMR-Gateway:steptype': 'spark' } }, { 'emr-gateway:StepType': 'spark' })).toBe(true);
  });
});

describe('ARN operators', () => {
  it('ArnLike matches segment by segment: * does not cross a colon', () => {
    const c = { ArnLike: { 'elasticmapreduce:ExecutionRoleArn': 'arn:aws:iam::*:role/Caller*' } };
    expect(ok(c, { 'elasticmapreduce:ExecutionRoleArn': role('CallerX') })).toBe(true);
    expect(ok(c, { 'elasticmapreduce:ExecutionRoleArn': 'arn:aws:iam::123456789012:user/CallerX' })).toBe(false);
    expect(ok(c, { 'elasticmapreduce:ExecutionRoleArn': 'not-an-arn' })).toBe(false);
    // A * in the account segment cannot swallow the service.
    const account = { ArnLike: { 'elasticmapreduce:ExecutionRoleArn': 'arn:aws:iam::1*:role/X' } };
    expect(ok(account, { 'elasticmapreduce:ExecutionRoleArn': role('X') })).toBe(true);
    expect(ok(account, { 'elasticmapreduce:ExecutionRoleArn': 'arn:aws:iam::1:2:role/X' })).toBe(false);
  });
  it('ArnEquals behaves like ArnLike (wildcards allowed)', () => {
    expect(ok({ ArnEquals: { 'aws:PrincipalArn': role('Data*') } }, {})).toBe(true);
  });
  it('ArnNotEquals / ArnNotLike: true when no value matches, false for a non-ARN request value', () => {
    expect(ok({ ArnNotLike: { 'elasticmapreduce:ExecutionRoleArn': role('*Admin*') } }, { 'elasticmapreduce:ExecutionRoleArn': role('ETL') })).toBe(true);
    expect(ok({ ArnNotEquals: { 'elasticmapreduce:ExecutionRoleArn': role('ETL') } }, { 'elasticmapreduce:ExecutionRoleArn': role('ETL') })).toBe(false);
    expect(ok({ ArnNotLike: { 'elasticmapreduce:ExecutionRoleArn': role('X') } }, { 'elasticmapreduce:ExecutionRoleArn': 'oops' })).toBe(false);
  });
});

describe('numeric, date, bool, binary, IP operators', () => {
  const n = (op: string, policy: string | number, value: string): boolean => ok({ [op]: { 'emr-gateway:Timeout': policy } }, { 'emr-gateway:Timeout': value });
  it.each([
    ['NumericEquals', 10, '10', true],
    ['NumericEquals', 10, '10.0', true],
    ['NumericEquals', 10, '11', false],
    ['NumericNotEquals', 10, '11', true],
    ['NumericNotEquals', 10, '10', false],
    ['NumericLessThan', 10, '9', true],
    ['NumericLessThan', 10, '10', false],
    ['NumericLessThanEquals', 10, '10', true],
    ['NumericGreaterThan', 10, '10', false],
    ['NumericGreaterThan', 10, '10.5', true],
    ['NumericGreaterThanEquals', '-1.5', '-1.5', true],
    ['NumericLessThan', 10, 'ten', false],
    ['NumericNotEquals', 10, 'ten', false],
  ] as const)('%s %s vs %s → %s', (op, policy, value, expected) => expect(n(op, policy, value)).toBe(expected));

  const d = (op: string, policy: string, value: string): boolean => ok({ [op]: { 'emr-gateway:When': policy } }, { 'emr-gateway:When': value });
  it.each([
    ['DateLessThan', '2026-12-01T00:00:00Z', '2026-11-28T12:00:00Z', true],
    ['DateLessThan', '2026-11-01T00:00:00Z', '2026-11-28T12:00:00Z', false],
    ['DateGreaterThanEquals', '2026-11-28T12:00:00Z', '2026-11-28T12:00:00Z', true],
    ['DateGreaterThan', '2026-11-28T12:00:00Z', '2026-11-28T12:00:00Z', false],
    ['DateLessThanEquals', '2026-11-28T12:00:00Z', '2026-11-28T12:00:01Z', false],
    ['DateEquals', '2026-11-28T12:00:00Z', '1795867200', true], // epoch seconds and ISO are comparable
    ['DateNotEquals', '2026-11-28T12:00:00Z', '2026-11-28T12:00:01Z', true],
    ['DateLessThan', '2026-12-01T00:00:00Z', 'yesterday', false],
  ] as const)('%s %s vs %s → %s', (op, policy, value, expected) => expect(d(op, policy, value)).toBe(expected));

  it('aws:CurrentTime comes from the request time', () => {
    const engine = allowIf({ DateLessThan: { 'aws:CurrentTime': '2027-01-01T00:00:00Z' } });
    expect(decide(engine, {}, { now: new Date('2026-11-28T00:00:00Z') })).toBe('Allowed');
    expect(decide(engine, {}, { now: new Date('2027-02-01T00:00:00Z') })).toBe('ImplicitlyDenied');
  });
  it('Bool compares true/false case-insensitively and accepts JSON booleans', () => {
    expect(ok({ Bool: { 'aws:SecureTransport': true } }, { 'aws:SecureTransport': 'TRUE' })).toBe(true);
    expect(ok({ Bool: { 'aws:SecureTransport': 'false' } }, { 'aws:SecureTransport': 'true' })).toBe(false);
    expect(ok({ Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:SecureTransport': 'yes' })).toBe(false);
  });
  it('BinaryEquals compares the base64 text', () => {
    expect(ok({ BinaryEquals: { 'emr-gateway:Blob': 'QmluYXJ5' } }, { 'emr-gateway:Blob': 'QmluYXJ5' })).toBe(true);
    expect(ok({ BinaryEquals: { 'emr-gateway:Blob': 'QmluYXJ5' } }, { 'emr-gateway:Blob': 'QmluYXJ6' })).toBe(false);
  });
  it('IpAddress / NotIpAddress with IPv4 and IPv6 CIDR blocks', () => {
    const c = { IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '2001:db8::/32'] } };
    expect(ok(c, { 'aws:SourceIp': '10.1.2.3' })).toBe(true);
    expect(ok(c, { 'aws:SourceIp': '2001:db8::1' })).toBe(true);
    expect(ok(c, { 'aws:SourceIp': '192.168.0.1' })).toBe(false);
    expect(ok({ NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, { 'aws:SourceIp': '192.168.0.1' })).toBe(true);
    expect(ok({ NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, { 'aws:SourceIp': '10.0.0.1' })).toBe(false);
  });
});

describe('Null, IfExists and set operators', () => {
  it('Null true: the key must be absent; false: present', () => {
    expect(ok({ Null: { 'emr-gateway:Tag': 'true' } }, {})).toBe(true);
    expect(ok({ Null: { 'emr-gateway:Tag': 'true' } }, { 'emr-gateway:Tag': 'x' })).toBe(false);
    expect(ok({ Null: { 'emr-gateway:Tag': false } }, { 'emr-gateway:Tag': 'x' })).toBe(true);
    expect(ok({ Null: { 'emr-gateway:Tag': false } }, {})).toBe(false);
  });
  it('IfExists: a missing key matches, a present one is compared', () => {
    const c = { StringEqualsIfExists: { 'emr-gateway:StepType': 'spark' } };
    expect(ok(c, {})).toBe(true);
    expect(ok(c, { 'emr-gateway:StepType': 'spark' })).toBe(true);
    expect(ok(c, { 'emr-gateway:StepType': 'hive' })).toBe(false);
    expect(ok({ NumericLessThanIfExists: { 'emr-gateway:Timeout': 60 } }, { 'emr-gateway:Timeout': '61' })).toBe(false);
  });
  it('ForAnyValue: some request value matches; a missing key fails', () => {
    const c = { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['team', 'env'] } };
    expect(ok(c, { 'aws:TagKeys': ['owner', 'env'] })).toBe(true);
    expect(ok(c, { 'aws:TagKeys': ['owner'] })).toBe(false);
    expect(ok(c, { 'aws:TagKeys': 'team' })).toBe(true);
    expect(ok(c, {})).toBe(false);
    expect(ok(c, { 'aws:TagKeys': [] })).toBe(false);
  });
  it('ForAllValues: every request value matches; a missing key or an empty set matches', () => {
    const c = { 'ForAllValues:StringLike': { 'aws:TagKeys': ['team', 'env*'] } };
    expect(ok(c, { 'aws:TagKeys': ['team', 'env-x'] })).toBe(true);
    expect(ok(c, { 'aws:TagKeys': ['team', 'owner'] })).toBe(false);
    expect(ok(c, {})).toBe(true);
    expect(ok(c, { 'aws:TagKeys': [] })).toBe(true);
  });
  it('ForAnyValue with a negated operator: some value outside the list', () => {
    const c = { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': ['team'] } };
    expect(ok(c, { 'aws:TagKeys': ['team', 'x'] })).toBe(true);
    expect(ok(c, { 'aws:TagKeys': ['team'] })).toBe(false);
  });
  it('a single-valued operator never matches a multi-valued key', () => {
    expect(ok({ StringEquals: { 'aws:TagKeys': 'team' } }, { 'aws:TagKeys': ['team'] })).toBe(false);
  });
  it('operators in one Condition block are ANDed', () => {
    const c = { StringEquals: { 'emr-gateway:StepType': 'spark' }, StringLike: { 'elasticmapreduce:ExecutionRoleArn': role('ETL*') } };
    expect(ok(c, { 'emr-gateway:StepType': 'spark', 'elasticmapreduce:ExecutionRoleArn': role('ETL1') })).toBe(true);
    expect(ok(c, { 'emr-gateway:StepType': 'hive', 'elasticmapreduce:ExecutionRoleArn': role('ETL1') })).toBe(false);
    expect(ok(c, { 'emr-gateway:StepType': 'spark', 'elasticmapreduce:ExecutionRoleArn': role('Other') })).toBe(false);
  });
});

describe('policy variables', () => {
  it('substitutes principal tags in condition values', () => {
    const c = { StringLike: { 'elasticmapreduce:ExecutionRoleArn': role('Team-${aws:PrincipalTag/team}-*') } };
    expect(ok(c, { 'elasticmapreduce:ExecutionRoleArn': role('Team-a-ETL') })).toBe(true);
    expect(ok(c, { 'elasticmapreduce:ExecutionRoleArn': role('Team-b-ETL') })).toBe(false);
  });
  it('a variable value is literal: a * inside it is not a wildcard', () => {
    const c = { StringLike: { 'emr-gateway:X': 'x-${emr-gateway:Y}' } };
    expect(ok(c, { 'emr-gateway:X': 'x-anything', 'emr-gateway:Y': '*' })).toBe(false);
    expect(ok(c, { 'emr-gateway:X': 'x-*', 'emr-gateway:Y': '*' })).toBe(true);
  });
  it('a missing variable never matches, unless it has a default', () => {
    expect(ok({ StringEquals: { 'emr-gateway:X': '${emr-gateway:Missing}' } }, { 'emr-gateway:X': '' })).toBe(false);
    expect(ok({ StringEquals: { 'emr-gateway:X': "${emr-gateway:Missing, 'dflt'}" } }, { 'emr-gateway:X': 'dflt' })).toBe(true);
    // ... and for a negated operator the unresolvable value makes the condition false too.
    expect(ok({ StringNotEquals: { 'emr-gateway:X': '${emr-gateway:Missing}' } }, { 'emr-gateway:X': 'a' })).toBe(false);
  });
  it('escapes ${*}, ${?} and ${$} are literal characters', () => {
    expect(ok({ StringLike: { 'emr-gateway:X': 'a${*}b' } }, { 'emr-gateway:X': 'a*b' })).toBe(true);
    expect(ok({ StringLike: { 'emr-gateway:X': 'a${*}b' } }, { 'emr-gateway:X': 'axb' })).toBe(false);
    expect(ok({ StringEquals: { 'emr-gateway:X': '${$}{x}' } }, { 'emr-gateway:X': '${x}' })).toBe(true);
  });
  it('aws:SourceIdentity is a verified session name and usable as a variable; an unverified one is emr-gateway:SessionName only', () => {
    const owner = { Effect: 'Allow', Action: SUBMIT, Resource: '*', Condition: { StringEquals: { 'emr-gateway:Owner': '${aws:SourceIdentity}' } } };
    expect(decide(engineWith([owner], {}, 'verified'), { 'emr-gateway:Owner': 'alice' })).toBe('Allowed');
    expect(ok({ StringEquals: { 'emr-gateway:Owner': '${aws:SourceIdentity}' } }, { 'emr-gateway:Owner': 'alice' })).toBe(false);
    expect(ok({ StringEquals: { 'emr-gateway:Owner': '${emr-gateway:SessionName}' } }, { 'emr-gateway:Owner': 'alice' })).toBe(true);
  });
});
