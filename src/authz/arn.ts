/** ARN parsing and principal resolution (assumed-role sessions are matched as their role, as IAM's aws:PrincipalArn). */

export interface ArnParts {
  partition: string;
  service: string;
  region: string;
  account: string;
  resource: string;
}

/**
 * Splits `arn:partition:service:region:account:resource` (the resource may hold more colons); undefined if not
 * an ARN. In a policy pattern, a colon inside a policy variable (`${aws:PrincipalAccount}`) does not split.
 */
export function splitArn(arn: string, pattern = false): ArnParts | undefined {
  if (!arn.startsWith('arn:')) return undefined;
  const parts = pattern && arn.includes('${') ? arn.split(/:(?![^{]*\})/) : arn.split(':');
  if (parts.length < 6) return undefined;
  return {
    partition: parts[1]!,
    service: parts[2]!,
    region: parts[3]!,
    account: parts[4]!,
    resource: parts.slice(5).join(':'),
  };
}

export type PrincipalType = 'AssumedRole' | 'Role' | 'User' | 'FederatedUser' | 'Account';

export interface ResolvedPrincipal {
  /** The ARN the caller authenticated as (e.g. an STS assumed-role session ARN). */
  callerArn: string;
  /** The ARN policies see as aws:PrincipalArn: the role ARN for an assumed-role session. */
  principalArn: string;
  account: string;
  partition: string;
  type: PrincipalType;
  /** The role session name of an assumed-role session, as whoever called AssumeRole chose it (see PrincipalRule.sessionNames). */
  sessionName?: string;
}

const ASSUMED_ROLE = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/;
const IAM_ENTITY = /^arn:(aws[a-z-]*):iam::(\d{12}):(role|user)\/(.+)$/;
const FEDERATED = /^arn:(aws[a-z-]*):sts::(\d{12}):federated-user\/(.+)$/;
const ROOT = /^arn:(aws[a-z-]*):iam::(\d{12}):root$/;

/**
 * Resolves the caller ARN API Gateway reports (`requestContext.identity.userArn`) into the principal IAM
 * evaluates. An assumed-role ARN `arn:aws:sts::ACCT:assumed-role/ROLE/SESSION` becomes `arn:aws:iam::ACCT:role/ROLE`.
 * The role path is not part of a session ARN, so a role with a path is matched without it (as IAM does for
 * aws:PrincipalArn only when the path is `/`); configure principals by role name accordingly.
 */
export function resolvePrincipal(callerArn: string): ResolvedPrincipal | undefined {
  let m = ASSUMED_ROLE.exec(callerArn);
  if (m) {
    const [, partition, account, role, session] = m as unknown as [string, string, string, string, string];
    return {
      callerArn,
      principalArn: `arn:${partition}:iam::${account}:role/${role}`,
      account,
      partition,
      type: 'AssumedRole',
      sessionName: session,
    };
  }
  m = IAM_ENTITY.exec(callerArn);
  if (m) {
    return { callerArn, principalArn: callerArn, account: m[2]!, partition: m[1]!, type: m[3] === 'role' ? 'Role' : 'User' };
  }
  m = FEDERATED.exec(callerArn);
  if (m) return { callerArn, principalArn: callerArn, account: m[2]!, partition: m[1]!, type: 'FederatedUser' };
  m = ROOT.exec(callerArn);
  if (m) return { callerArn, principalArn: callerArn, account: m[2]!, partition: m[1]!, type: 'Account' };
  return undefined;
}
