/**
 * The fixes doctor proposes, and how one changes what doctor read (so a fix can be evaluated again before it is
 * proposed, and tests can apply it). A fix is one API call: its operation, its parameters and its document, the
 * JSON that fixes the finding (a whole policy document where IAM replaces whole documents: PutRolePolicy,
 * UpdateAssumeRolePolicy, CreatePolicyVersion). Documents are merged with what is there: the statements that
 * caused the finding are taken out, the documentation's statements (authz/runtime-role-setup.ts) put in, in
 * place of any of the same Sid, and every other statement is kept as it was.
 */
import type { RoleFacts } from './facts';

export interface Fix {
  /** What it does, for people. */
  summary: string;
  /**
   * Where it applies: an API operation (`iam:PutRolePolicy`, `iam:UpdateAssumeRolePolicy`, `iam:CreatePolicyVersion`,
   * `iam:DeleteRolePolicy`, `iam:DetachRolePolicy`, `iam:CreateRole`, `iam:AddRoleToInstanceProfile`, `iam:CreateInstanceProfile`, `emr:CreateSecurityConfiguration`,
   * `emr:RunJobFlow`), `config` (the gateway's configuration file), or `doctor-permissions` (the identity doctor runs as).
   */
  operation: string;
  /** The operation's parameters other than the document (RoleName, PolicyName, PolicyArn, ...; for `config`, file and path). */
  parameters: Record<string, string>;
  /** The JSON that fixes it. */
  document: unknown;
  /** The AWS CLI command that applies it, with the document saved as fix.json. */
  command?: string;
}

type Statement = Record<string, unknown>;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The statements of a policy document, as a list (a single statement object is a list of one). */
export function statementsOf(document: unknown): Statement[] {
  const statement = isRecord(document) ? document.Statement : undefined;
  const list: unknown[] = Array.isArray(statement) ? statement : statement === undefined ? [] : [statement];
  return list.filter(isRecord);
}

/**
 * `document` without the statements at `remove` (indexes) and those whose Sid an added one has, then `add`.
 * Without a document (a policy to create), just `add`.
 */
export function mergeStatements(document: unknown, remove: ReadonlySet<number>, add: readonly Statement[]): { Version: string; Statement: Statement[] } {
  const sids = new Set(add.map((s) => s.Sid).filter((sid): sid is string => typeof sid === 'string'));
  const kept = statementsOf(document).filter((s, i) => !remove.has(i) && !(typeof s.Sid === 'string' && sids.has(s.Sid)));
  const version = isRecord(document) && typeof document.Version === 'string' ? document.Version : '2012-10-17';
  return { Version: version === '2008-10-17' && add.length ? '2012-10-17' : version, Statement: [...kept, ...add] };
}

const roleNameOf = (arn: string): string => arn.slice(arn.lastIndexOf('/') + 1);

export function putRolePolicyFix(roleArn: string, policyName: string, document: unknown, summary: string): Fix {
  const roleName = roleNameOf(roleArn);
  return {
    summary,
    operation: 'iam:PutRolePolicy',
    parameters: { RoleName: roleName, PolicyName: policyName },
    document,
    command: `aws iam put-role-policy --role-name ${roleName} --policy-name ${policyName} --policy-document file://fix.json`,
  };
}

export function createPolicyVersionFix(policyArn: string, document: unknown, summary: string): Fix {
  return {
    summary,
    operation: 'iam:CreatePolicyVersion',
    parameters: { PolicyArn: policyArn, SetAsDefault: 'true' },
    document,
    command: `aws iam create-policy-version --policy-arn ${policyArn} --set-as-default --policy-document file://fix.json`,
  };
}

/** A policy whose every statement goes: an inline one is deleted, a managed one detached (IAM refuses an empty document). */
export function removePolicyFix(roleArn: string, policy: { name: string; kind: 'inline' | 'managed'; arn?: string }, summary: string): Fix {
  const roleName = roleNameOf(roleArn);
  if (policy.kind === 'inline') {
    return { summary, operation: 'iam:DeleteRolePolicy', parameters: { RoleName: roleName, PolicyName: policy.name }, document: null, command: `aws iam delete-role-policy --role-name ${roleName} --policy-name ${policy.name}` };
  }
  return { summary, operation: 'iam:DetachRolePolicy', parameters: { RoleName: roleName, PolicyArn: policy.arn! }, document: null, command: `aws iam detach-role-policy --role-name ${roleName} --policy-arn ${policy.arn!}` };
}

export function updateTrustPolicyFix(roleArn: string, document: unknown, summary: string): Fix {
  const roleName = roleNameOf(roleArn);
  return {
    summary,
    operation: 'iam:UpdateAssumeRolePolicy',
    parameters: { RoleName: roleName },
    document,
    command: `aws iam update-assume-role-policy --role-name ${roleName} --policy-document file://fix.json`,
  };
}

/**
 * The role as it would be once `fix` is applied, or undefined if the fix does not change this role's policies.
 * A managed policy's new version changes every role it is attached to.
 */
export function applyFixToRole(role: RoleFacts, fix: Fix): RoleFacts | undefined {
  const sameRole = fix.parameters.RoleName !== undefined && fix.parameters.RoleName.toLowerCase() === role.name.toLowerCase();
  switch (fix.operation) {
    case 'iam:UpdateAssumeRolePolicy':
      return sameRole ? { ...role, trustPolicy: fix.document } : undefined;
    case 'iam:PutRolePolicy': {
      if (!sameRole) return undefined;
      const name = fix.parameters.PolicyName!;
      const others = role.policies.filter((p) => !(p.kind === 'inline' && p.name === name));
      return { ...role, policies: [...others, { name, kind: 'inline', document: fix.document }] };
    }
    case 'iam:CreatePolicyVersion': {
      if (!role.policies.some((p) => p.kind === 'managed' && p.arn === fix.parameters.PolicyArn)) return undefined;
      return { ...role, policies: role.policies.map((p) => (p.kind === 'managed' && p.arn === fix.parameters.PolicyArn ? { ...p, document: fix.document } : p)) };
    }
    case 'iam:DeleteRolePolicy':
      return sameRole ? { ...role, policies: role.policies.filter((p) => !(p.kind === 'inline' && p.name === fix.parameters.PolicyName)) } : undefined;
    case 'iam:DetachRolePolicy':
      return sameRole ? { ...role, policies: role.policies.filter((p) => !(p.kind === 'managed' && p.arn === fix.parameters.PolicyArn)) } : undefined;
    default:
      return undefined;
  }
}
