/** `emr-gateway doctor`'s table: one row per check, the problems numbered, each fix's command and JSON once. */
import { renderTable } from '../../src/cli/commands/doctor';
import type { Finding } from '../../src/doctor/checks';
import { putRolePolicyFix } from '../../src/doctor/fixes';

const IP = 'arn:aws:iam::123456789012:role/EMR_EC2_DefaultRole';
const fix = putRolePolicyFix(IP, 'AllowRuntimeRoleUsage', { Version: '2012-10-17', Statement: [{ Sid: 'AllowRuntimeRoleUsage', Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }] }, 'put the statement');
const failing = (role: string): Finding => ({
  check: 'instance-profile-permissions',
  cluster: 'j-2AXXXXXXGAPLF',
  resource: IP,
  runtimeRole: `arn:aws:iam::123456789012:role/${role}`,
  status: 'fail',
  problem: `may not assume ${role}`,
  detail: 'nothing allowed',
  fixes: [fix],
  fixVerified: true,
});

it('numbers the problems; a fix two findings share is written out once', () => {
  const pass: Finding = { check: 'release', cluster: 'j-2AXXXXXXGAPLF', resource: 'arn:aws:elasticmapreduce:us-east-1:123456789012:cluster/j-2AXXXXXXGAPLF', status: 'pass', detail: 'ReleaseLabel: emr-7.5.0', fixes: [] };
  const text = renderTable([pass, failing('Caller'), failing('CallerTeamRoleETL')]);
  expect(text).toMatch(/^j-2AXXXXXXGAPLF\s+release\s+PASS\s+arn:aws:elasticmapreduce:us-east-1:123456789012:cluster\/j-2AXXXXXXGAPLF$/m);
  expect(text).toMatch(/^j-2AXXXXXXGAPLF\s+instance-profile-permissions\s+FAIL\s+arn:aws:iam::123456789012:role\/EMR_EC2_DefaultRole \(for Caller\)\s+\[1\] may not assume Caller$/m);
  expect(text).toMatch(/^\[2\] FAIL j-2AXXXXXXGAPLF instance-profile-permissions: /m);
  expect(text.match(/aws iam put-role-policy --role-name EMR_EC2_DefaultRole --policy-name AllowRuntimeRoleUsage --policy-document file:\/\/fix\.json/g)).toHaveLength(1);
  expect(text).toMatch(/fix 1: {4}put the statement \(evaluated again with it: passes\)/);
  expect(text).toMatch(/fix 1: {4}the same as \[1\] fix 1/);
  expect(text).toContain('"Sid": "AllowRuntimeRoleUsage"');
});
