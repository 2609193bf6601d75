/**
 * Role trust policies (resource-based policies with Principal/NotPrincipal) and STS's AssumeRole decision
 * (src/authz/trust.ts) with the project's engine: principals, the same-account rule, sts:ExternalId,
 * sts:SourceIdentity, sts:TagSession, sts:RoleSessionName, aws:PrincipalArn. The local STS over the wire:
 * local.sts.test.ts; against an independent evaluator: property/trust.differential.test.ts.
 */
import { compilePolicy, type CompiledPolicy } from '../../src/authz/policy';
import { decideAssumeRole, type AssumeRoleAsk, type TrustCaller } from '../../src/authz/trust';
import type { PolicyCompileError } from '../../src/errors';

const ACCOUNT = '123456789012';
const OTHER = '210987654321';
const role = (name: string, account = ACCOUNT) => `arn:aws:iam::${account}:role/${name}`;
const INSTANCE_PROFILE = role('EMR_EC2_DefaultRole');
const RUNTIME = role('CallerTeamRoleETL');
const EXTERNAL_ID = 'FXH5TSACFDWUCDSR3YQE2O7ETPUSM4OBCGLYWODSCUZDNZ4Y';

const trust = (...statements: unknown[]): CompiledPolicy => compilePolicy('trust', { Version: '2012-10-17', Statement: statements }, 'resource');
const identity = (...statements: unknown[]): CompiledPolicy => compilePolicy('identity', { Version: '2012-10-17', Statement: statements });

/** A session of `roleName` (an EC2 instance's, by default), with the given identity policies. */
function sessionOf(roleName: string, policies: CompiledPolicy[], extra: Partial<TrustCaller> = {}, account = ACCOUNT): TrustCaller {
  const session = `arn:aws:sts::${account}:assumed-role/${roleName}/i-0abc`;
  return {
    principal: { kind: 'aws', arn: session, principalArn: role(roleName, account), account },
    arn: session,
    type: 'AssumedRole',
    userId: `AROAEXAMPLE${roleName.length}:i-0abc`,
    identityPolicies: policies,
    ...extra,
  };
}
const ask = (trustPolicy: CompiledPolicy, extra: Partial<AssumeRoleAsk> = {}): AssumeRoleAsk => ({ roleArn: RUNTIME, trustPolicy, sessionName: 'emr-step', ...extra });

/** The trust policy of the EMR documentation (step 3 with the ExternalId and source-identity sections). */
const DOC_TRUST = trust(
  { Sid: 'AllowAssumeRole', Effect: 'Allow', Principal: { AWS: INSTANCE_PROFILE }, Action: ['sts:AssumeRole', 'sts:TagSession'], Condition: { StringEquals: { 'sts:ExternalId': EXTERNAL_ID } } },
  { Sid: 'AllowSetSourceIdentity', Effect: 'Allow', Principal: { AWS: INSTANCE_PROFILE }, Action: ['sts:SetSourceIdentity', 'sts:AssumeRole'], Condition: { StringEquals: { 'sts:ExternalId': EXTERNAL_ID } } },
);
/** The instance profile role's AllowRuntimeRoleUsage (step 2, with PropagateSourceIdentity). */
const DOC_IDENTITY = identity(
  { Sid: 'AllowRuntimeRoleUsage', Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:TagSession'], Resource: [RUNTIME] },
  { Sid: 'PropagateSourceIdentity', Effect: 'Allow', Action: 'sts:SetSourceIdentity', Resource: [RUNTIME] },
);

describe('Principal and NotPrincipal in resource-based policies', () => {
  it('compile: Principal or NotPrincipal is required, identity policies refuse them, NotPrincipal only with Deny, no partial wildcards', () => {
    const issues = (doc: unknown, kind?: 'resource'): string[] => {
      try {
        compilePolicy('p', doc, kind);
      } catch (error) {
        return (error as PolicyCompileError).issues.map((i) => i.message);
      }
      return [];
    };
    const statement = { Effect: 'Allow', Action: 'sts:AssumeRole' };
    expect(issues({ Statement: [statement] }, 'resource')).toEqual(['needs Principal or NotPrincipal']);
    expect(issues({ Statement: [{ ...statement, Resource: '*', Principal: { AWS: INSTANCE_PROFILE } }] })).toEqual([expect.stringMatching(/identity policies have no Principal/)]);
    expect(issues({ Statement: [{ ...statement, NotPrincipal: { AWS: INSTANCE_PROFILE } }] }, 'resource')).toEqual([expect.stringMatching(/NotPrincipal .*Deny/)]);
    expect(issues({ Statement: [{ ...statement, Principal: { AWS: 'arn:aws:iam::123456789012:role/Caller*' } }] }, 'resource')).toEqual([expect.stringMatching(/wildcard/)]);
    expect(issues({ Statement: [{ ...statement, Principal: { Users: 'x' } }] }, 'resource')).toEqual([expect.stringMatching(/AWS, Service, Federated or CanonicalUser/)]);
    expect(issues({ Statement: [{ ...statement, Principal: { AWS: 'bob' } }] }, 'resource')).toEqual([expect.stringMatching(/not a principal/)]);
    expect(issues({ Statement: [{ ...statement, Principal: '*' }, { ...statement, Principal: { AWS: ACCOUNT, Service: 'ec2.amazonaws.com' } }] }, 'resource')).toEqual([]);
  });

  it('a role ARN matches its sessions; a session ARN only that session; the account (root or id) every principal of it, as a delegation', () => {
    const caller = sessionOf('EMR_EC2_DefaultRole', []);
    const decide = (principal: unknown) => decideAssumeRole(caller, ask(trust({ Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole' }))).allowed;
    expect(decide({ AWS: INSTANCE_PROFILE })).toBe(true);
    expect(decide({ AWS: `arn:aws:sts::${ACCOUNT}:assumed-role/EMR_EC2_DefaultRole/i-0abc` })).toBe(true);
    expect(decide({ AWS: `arn:aws:sts::${ACCOUNT}:assumed-role/EMR_EC2_DefaultRole/i-0def` })).toBe(false);
    expect(decide({ AWS: role('Other') })).toBe(false);
    expect(decide('*')).toBe(true);
    expect(decide({ AWS: '*' })).toBe(true);
    // The account delegates to the caller's identity policies, which allow nothing here.
    expect(decide({ AWS: `arn:aws:iam::${ACCOUNT}:root` })).toBe(false);
    expect(decide({ AWS: ACCOUNT })).toBe(false);
    expect(decide({ Service: 'ec2.amazonaws.com' })).toBe(false);
  });

  it('a service principal (EC2, for an instance profile) matches Service only', () => {
    const ec2: TrustCaller = { principal: { kind: 'service', service: 'ec2.amazonaws.com' }, arn: 'ec2.amazonaws.com', type: 'Service', identityPolicies: [] };
    const decide = (principal: unknown) => decideAssumeRole(ec2, ask(trust({ Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole' }))).allowed;
    expect(decide({ Service: 'ec2.amazonaws.com' })).toBe(true);
    expect(decide({ Service: ['lambda.amazonaws.com', 'ec2.amazonaws.com'] })).toBe(true);
    expect(decide({ Service: 'lambda.amazonaws.com' })).toBe(false);
    expect(decide({ AWS: ACCOUNT })).toBe(false);
  });

  it('NotPrincipal with Deny denies everyone not named', () => {
    const allowAll = { Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'sts:AssumeRole' };
    const policy = trust(allowAll, { Effect: 'Deny', NotPrincipal: { AWS: INSTANCE_PROFILE }, Action: 'sts:AssumeRole' });
    const everything = identity({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' });
    expect(decideAssumeRole(sessionOf('EMR_EC2_DefaultRole', [everything]), ask(policy)).allowed).toBe(true);
    const other = decideAssumeRole(sessionOf('Intruder', [everything]), ask(policy));
    expect(other).toMatchObject({ allowed: false, deniedAction: 'sts:AssumeRole' });
    expect(other.reason).toMatch(/explicitly denied by trust statement 1/);
  });
});

describe("AssumeRole in one account: IAM's rule", () => {
  const everything = identity({ Effect: 'Allow', Action: 'sts:*', Resource: '*' });
  it('a trust policy naming the caller (its role) suffices; one naming the account needs the identity policy too', () => {
    const byRole = trust({ Effect: 'Allow', Principal: { AWS: INSTANCE_PROFILE }, Action: 'sts:AssumeRole' });
    const byAccount = trust({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' });
    expect(decideAssumeRole(sessionOf('EMR_EC2_DefaultRole', []), ask(byRole)).allowed).toBe(true);
    expect(decideAssumeRole(sessionOf('EMR_EC2_DefaultRole', []), ask(byAccount)).allowed).toBe(false);
    expect(decideAssumeRole(sessionOf('EMR_EC2_DefaultRole', [everything]), ask(byAccount)).allowed).toBe(true);
    // An identity policy alone is not enough: the trust policy must name the caller or its account.
    expect(decideAssumeRole(sessionOf('EMR_EC2_DefaultRole', [everything]), ask(trust({ Effect: 'Allow', Principal: { AWS: role('Other') }, Action: 'sts:AssumeRole' }))).allowed).toBe(false);
  });

  it('an explicit Deny in the identity policy wins even over a trust policy naming the caller', () => {
    const byRole = trust({ Effect: 'Allow', Principal: { AWS: INSTANCE_PROFILE }, Action: 'sts:AssumeRole' });
    const deny = identity({ Sid: 'NoRuntime', Effect: 'Deny', Action: 'sts:AssumeRole', Resource: RUNTIME });
    const d = decideAssumeRole(sessionOf('EMR_EC2_DefaultRole', [deny]), ask(byRole));
    expect(d).toMatchObject({ allowed: false, deniedAction: 'sts:AssumeRole' });
    expect(d.reason).toMatch(/explicitly denied by identity statement 0 \(Sid NoRuntime\)/);
  });

  it('across accounts both are needed: the trust policy and the identity policy', () => {
    const foreign = trust({ Effect: 'Allow', Principal: { AWS: role('EMR_EC2_DefaultRole', OTHER) }, Action: 'sts:AssumeRole' });
    expect(decideAssumeRole(sessionOf('EMR_EC2_DefaultRole', [], {}, OTHER), ask(foreign)).allowed).toBe(false);
    expect(decideAssumeRole(sessionOf('EMR_EC2_DefaultRole', [everything], {}, OTHER), ask(foreign)).allowed).toBe(true);
  });

  it('the account root is limited by no identity policy: a trust policy naming the account lets it in', () => {
    const root: TrustCaller = { principal: { kind: 'aws', arn: `arn:aws:iam::${ACCOUNT}:root`, principalArn: `arn:aws:iam::${ACCOUNT}:root`, account: ACCOUNT }, arn: `arn:aws:iam::${ACCOUNT}:root`, type: 'Account', identityPolicies: 'unrestricted' };
    expect(decideAssumeRole(root, ask(trust({ Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'sts:AssumeRole' }))).allowed).toBe(true);
    expect(decideAssumeRole(root, ask(DOC_TRUST, { externalId: EXTERNAL_ID })).allowed).toBe(false);
  });
});

describe('the EMR runtime-role setup, decided', () => {
  const ec2 = sessionOf('EMR_EC2_DefaultRole', [DOC_IDENTITY]);

  it('the instance profile role assumes a runtime role with the ExternalId, tags and the source identity', () => {
    const d = decideAssumeRole(ec2, ask(DOC_TRUST, { externalId: EXTERNAL_ID, sourceIdentity: 'alice', tags: { LakeFormationAuthorizedCaller: 'Amazon EMR' } }));
    expect(d.allowed).toBe(true);
    expect(d.actions.map((a) => [a.action, a.allowed])).toEqual([
      ['sts:AssumeRole', true],
      ['sts:TagSession', true],
      ['sts:SetSourceIdentity', true],
    ]);
  });

  it('without the ExternalId, or with another one: denied on sts:AssumeRole, with the message IAM gives', () => {
    for (const externalId of [undefined, 'SOMEONEELSESEXTERNALID']) {
      const d = decideAssumeRole(ec2, ask(DOC_TRUST, externalId ? { externalId } : {}));
      expect(d).toMatchObject({ allowed: false, deniedAction: 'sts:AssumeRole' });
      expect(d.message).toBe(`User: arn:aws:sts::${ACCOUNT}:assumed-role/EMR_EC2_DefaultRole/i-0abc is not authorized to perform: sts:AssumeRole on resource: ${RUNTIME}`);
      expect(d.reason).toMatch(/failed StringEquals sts:ExternalId/);
    }
  });

  it('tags need sts:TagSession, a source identity sts:SetSourceIdentity, in the trust policy', () => {
    const assumeOnly = trust({ Effect: 'Allow', Principal: { AWS: INSTANCE_PROFILE }, Action: 'sts:AssumeRole' });
    expect(decideAssumeRole(ec2, ask(assumeOnly)).allowed).toBe(true);
    expect(decideAssumeRole(ec2, ask(assumeOnly, { tags: { team: 'a' } }))).toMatchObject({ allowed: false, deniedAction: 'sts:TagSession' });
    expect(decideAssumeRole(ec2, ask(assumeOnly, { transitiveTagKeys: ['team'], tags: { team: 'a' } }))).toMatchObject({ allowed: false, deniedAction: 'sts:TagSession' });
    expect(decideAssumeRole(ec2, ask(assumeOnly, { sourceIdentity: 'alice' }))).toMatchObject({ allowed: false, deniedAction: 'sts:SetSourceIdentity' });
  });

  it('role chaining: sts:SetSourceIdentity needs the caller\'s identity policy too, even where the trust policy names the role', () => {
    const withoutPropagation = sessionOf('EMR_EC2_DefaultRole', [identity({ Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:TagSession'], Resource: RUNTIME })]);
    expect(decideAssumeRole(withoutPropagation, ask(DOC_TRUST, { externalId: EXTERNAL_ID })).allowed).toBe(true);
    expect(decideAssumeRole(withoutPropagation, ask(DOC_TRUST, { externalId: EXTERNAL_ID, sourceIdentity: 'alice' }))).toMatchObject({ allowed: false, deniedAction: 'sts:SetSourceIdentity' });
  });

  it('conditions on sts:SourceIdentity, sts:RoleSessionName, aws:PrincipalArn and aws:SourceIdentity see the request', () => {
    const pinned = trust({
      Effect: 'Allow',
      Principal: { AWS: ACCOUNT },
      Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
      Condition: { StringEquals: { 'sts:SourceIdentity': '${aws:SourceIdentity}', 'sts:RoleSessionName': 'emr-step' }, ArnLike: { 'aws:PrincipalArn': role('EMR_*') } },
    });
    const everything = identity({ Effect: 'Allow', Action: 'sts:*', Resource: '*' });
    const carrying = sessionOf('EMR_EC2_DefaultRole', [everything], { sourceIdentity: 'alice' });
    expect(decideAssumeRole(carrying, ask(pinned, { sourceIdentity: 'alice' })).allowed).toBe(true);
    expect(decideAssumeRole(carrying, ask(pinned, { sourceIdentity: 'alice', sessionName: 'other' })).allowed).toBe(false);
    expect(decideAssumeRole(sessionOf('Analysts', [everything], { sourceIdentity: 'alice' }), ask(pinned, { sourceIdentity: 'alice' })).allowed).toBe(false);
    expect(decideAssumeRole(sessionOf('EMR_EC2_DefaultRole', [everything], { sourceIdentity: 'bob' }), ask(pinned, { sourceIdentity: 'alice' })).allowed).toBe(false);
  });
});
