/**
 * doctor's IAM reads over the SDK (doctor/facts.ts IamReader): the caller's account (STS GetCallerIdentity), an
 * instance profile (GetInstanceProfile), a role with its trust policy (GetRole), its inline policies
 * (ListRolePolicies, GetRolePolicy) and its attached managed policies at their default version
 * (ListAttachedRolePolicies, GetPolicy, GetPolicyVersion), every list paginated. IAM returns policy documents
 * URL-encoded (RFC 3986): they are decoded, then parsed. IAM reads only the caller's own account, so a role of
 * another account is `unreadable`, and a role found by name at another path is not the role asked for.
 */
import {
  GetInstanceProfileCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  paginateListAttachedRolePolicies,
  paginateListRolePolicies,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { splitArn } from '../../authz/arn';
import { readFailed, readOk, type InstanceProfileFacts, type IamReader, type PolicyFacts, type Read, type ReadFailure, type RoleFacts } from '../../doctor/facts';
import { readFailure } from '../doctor-errors';

/** A policy document as IAM sends it (URL-encoded JSON), parsed. */
export function decodePolicyDocument(encoded: string): unknown {
  let text = encoded;
  try {
    text = decodeURIComponent(encoded);
  } catch {
    // Not URL-encoded after all (an endpoint that sends it plain): read as is.
  }
  return JSON.parse(text);
}

class ReadError extends Error {
  constructor(readonly failure: ReadFailure) {
    super(failure.message);
  }
}

export class SdkIamReader implements IamReader {
  private account?: Promise<Read<string>>;

  constructor(
    private readonly iam: IAMClient,
    private readonly sts: STSClient,
  ) {}

  callerAccount(): Promise<Read<string>> {
    this.account ??= this.sts.send(new GetCallerIdentityCommand({})).then(
      (out) => (out.Account ? readOk(out.Account) : readFailed<string>({ kind: 'failed', operation: 'sts:GetCallerIdentity', resource: 'the caller', code: 'EmptyResponse', message: 'no Account in the answer' })),
      (error: unknown) => readFailed<string>(readFailure('sts:GetCallerIdentity', 'the caller', error)),
    );
    return this.account;
  }

  async instanceProfile(name: string): Promise<Read<InstanceProfileFacts>> {
    try {
      const profile = (await this.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: name }))).InstanceProfile;
      return readOk({ name: profile?.InstanceProfileName ?? name, arn: profile?.Arn ?? name, roleArns: (profile?.Roles ?? []).map((r) => r.Arn).filter((a): a is string => !!a) });
    } catch (error) {
      return readFailed(readFailure('iam:GetInstanceProfile', name, error));
    }
  }

  async role(arnOrName: string): Promise<Read<RoleFacts>> {
    const wanted = arnOrName.startsWith('arn:') ? splitArn(arnOrName) : undefined;
    if (arnOrName.startsWith('arn:')) {
      if (!wanted || wanted.service !== 'iam' || !wanted.resource.startsWith('role/')) {
        return readFailed({ kind: 'failed', operation: 'iam:GetRole', resource: arnOrName, code: 'NotARoleArn', message: 'not an IAM role ARN' });
      }
      const account = await this.callerAccount();
      if (account.ok && account.value !== wanted.account) {
        return readFailed({
          kind: 'unreadable',
          operation: 'iam:GetRole',
          resource: arnOrName,
          code: 'OtherAccount',
          message: `IAM reads only the roles of the credentials' account (${account.value}); this role is of ${wanted.account}: run doctor with credentials of ${wanted.account} to check it`,
        });
      }
    }
    const name = arnOrName.slice(arnOrName.lastIndexOf('/') + 1);
    try {
      const role = (await this.iam.send(new GetRoleCommand({ RoleName: name }))).Role;
      if (!role?.Arn || !role.RoleName) throw new ReadError({ kind: 'failed', operation: 'iam:GetRole', resource: arnOrName, code: 'EmptyResponse', message: 'GetRole answered without a Role' });
      if (wanted && role.Arn !== arnOrName) {
        throw new ReadError({ kind: 'missing', operation: 'iam:GetRole', resource: arnOrName, code: 'NoSuchEntity', message: `the role named ${name} is ${role.Arn}, at another path` });
      }
      const trustPolicy = this.document('iam:GetRole', role.Arn, role.AssumeRolePolicyDocument);
      const policies = [...(await this.inlinePolicies(role.RoleName, role.Arn)), ...(await this.managedPolicies(role.RoleName, role.Arn))];
      return readOk({
        arn: role.Arn,
        name: role.RoleName,
        ...(role.RoleId ? { id: role.RoleId } : {}),
        trustPolicy,
        policies,
        ...(role.PermissionsBoundary?.PermissionsBoundaryArn ? { permissionsBoundaryArn: role.PermissionsBoundary.PermissionsBoundaryArn } : {}),
      });
    } catch (error) {
      if (error instanceof ReadError) return readFailed(error.failure);
      return readFailed(readFailure('iam:GetRole', arnOrName, error));
    }
  }

  private async inlinePolicies(roleName: string, roleArn: string): Promise<PolicyFacts[]> {
    const names = await this.call('iam:ListRolePolicies', roleArn, async () => {
      const all: string[] = [];
      for await (const page of paginateListRolePolicies({ client: this.iam }, { RoleName: roleName })) all.push(...(page.PolicyNames ?? []));
      return all;
    });
    const out: PolicyFacts[] = [];
    for (const name of names) {
      const policy = await this.call('iam:GetRolePolicy', `${roleArn} inline policy ${name}`, () => this.iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name })));
      out.push({ name, kind: 'inline', document: this.document('iam:GetRolePolicy', `${roleArn} inline policy ${name}`, policy.PolicyDocument) });
    }
    return out;
  }

  private async managedPolicies(roleName: string, roleArn: string): Promise<PolicyFacts[]> {
    const attached = await this.call('iam:ListAttachedRolePolicies', roleArn, async () => {
      const all: { name: string; arn: string }[] = [];
      for await (const page of paginateListAttachedRolePolicies({ client: this.iam }, { RoleName: roleName })) {
        for (const p of page.AttachedPolicies ?? []) if (p.PolicyArn) all.push({ name: p.PolicyName ?? p.PolicyArn, arn: p.PolicyArn });
      }
      return all;
    });
    const out: PolicyFacts[] = [];
    for (const { name, arn } of attached) {
      const policy = await this.call('iam:GetPolicy', arn, () => this.iam.send(new GetPolicyCommand({ PolicyArn: arn })));
      const versionId = policy.Policy?.DefaultVersionId ?? 'v1';
      const version = await this.call('iam:GetPolicyVersion', arn, () => this.iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: versionId })));
      out.push({ name, kind: 'managed', arn, versionId, document: this.document('iam:GetPolicyVersion', arn, version.PolicyVersion?.Document) });
    }
    return out;
  }

  private async call<T>(operation: string, resource: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw new ReadError(readFailure(operation, resource, error));
    }
  }

  private document(operation: string, resource: string, encoded: string | undefined): unknown {
    if (encoded === undefined) throw new ReadError({ kind: 'failed', operation, resource, code: 'NoDocument', message: 'the answer has no policy document' });
    try {
      return decodePolicyDocument(encoded);
    } catch (error) {
      throw new ReadError({ kind: 'failed', operation, resource, code: 'MalformedDocument', message: `the policy document is not JSON: ${(error as Error).message}` });
    }
  }
}
