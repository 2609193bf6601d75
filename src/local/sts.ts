/**
 * The local STS: who the caller of a request is, and AssumeRole decided as STS decides it, with the roles of the
 * local IAM and the project's engine (authz/trust.ts): the role's trust policy, the caller's identity policies
 * (its role's inline and attached policies), sts:ExternalId, sts:SourceIdentity, sts:TagSession. A role that does
 * not exist is refused like one that does not trust the caller (STS does not say which roles exist). Issued
 * sessions are remembered, with their source identity (which role chaining carries on and cannot change), tags
 * and expiry, so the local EMR can hand the source identity to the step a session submits, as EMR does with
 * PropagateSourceIdentity. The caller is the request's access key: a session issued here, a configured
 * credential (the stack's own, `local.credentials`), or, for any other long-term key, the account root (the
 * AWS port checks no signatures), which STS lets assume no role. The wire (Query protocol, XML) is sts-query.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { resolvePrincipal } from '../authz/arn';
import { decideAssumeRole, accessDeniedMessage, STS_ACTIONS, type AssumeRoleDecision, type TrustCaller } from '../authz/trust';
import { logger } from '../util/logger';
import { LocalServiceError } from './errors';
import type { IamRole, LocalIam } from './iam';

export interface StsSession {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** The role's ARN, with its path. */
  roleArn: string;
  roleId: string;
  sessionName: string;
  sourceIdentity?: string;
  /** Session tags (aws:PrincipalTag/* of the session), and which of them role chaining passes on. */
  tags: Record<string, string>;
  transitiveTagKeys: string[];
  expires: Date;
}

/** A long-term key the local stack knows, and the principal it stands for. */
export interface StaticCredential {
  accessKeyId: string;
  principal: string;
}

export interface LocalStsOptions {
  account: string;
  partition: string;
  iam: LocalIam;
  /** The IAM of each other account the stack holds (a second account's clusters and roles): roles are found in their own account's. */
  accounts?: ReadonlyMap<string, LocalIam>;
  credentials?: readonly StaticCredential[];
  now?: () => number;
}

/** The caller of a request, as STS and its policies see it. */
export interface StsCaller extends TrustCaller {
  account: string;
  /** The session, when the caller used credentials STS issued. */
  session?: StsSession;
}

export interface AssumeRoleRequest {
  roleArn: string;
  sessionName: string;
  durationSeconds?: number;
  externalId?: string;
  sourceIdentity?: string;
  tags?: Readonly<Record<string, string>>;
  transitiveTagKeys?: readonly string[];
}

/** AccessDenied from AssumeRole, with the decision behind it (for a step's FailureDetails, say). */
export class AssumeRoleDeniedError extends LocalServiceError {
  constructor(
    message: string,
    readonly decision: AssumeRoleDecision | undefined,
  ) {
    super('AccessDenied', message, 403);
  }
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** A stable IAM-style unique id for a principal the local IAM does not hold (a configured user, a role of the demo keys). */
const derivedId = (prefix: string, arn: string): string => prefix + [...createHash('sha256').update(arn).digest().subarray(0, 17)].map((b) => BASE32[b % 32]).join('');
/** EC2 refreshes instance profile credentials well before they expire; they last six hours. */
const INSTANCE_CREDENTIALS_SECONDS = 6 * 3600;
const ROLE_CHAINING_MAX_SECONDS = 3600;
/** How often expired sessions are swept out, at most. */
const SWEEP_MS = 60_000;

export class LocalSts {
  readonly sessions = new Map<string, StsSession>();
  private lastSweep = 0;
  private readonly credentials: ReadonlyMap<string, string>;
  private readonly now: () => number;

  constructor(private readonly options: LocalStsOptions) {
    this.credentials = new Map((options.credentials ?? []).map((c) => [c.accessKeyId, c.principal]));
    this.now = options.now ?? Date.now;
  }

  /** The IAM of `account`, if the stack holds that account. */
  iamOf(account: string | undefined): LocalIam | undefined {
    return account === this.options.account ? this.options.iam : account === undefined ? undefined : this.options.accounts?.get(account);
  }

  /** The IAM holding the role an ARN names (by its account). */
  private iamOfArn(arn: string): LocalIam | undefined {
    return this.iamOf(arn.split(':')[4]);
  }

  /** The session of a key STS issued, until it expires (the local EMR reads the source identity a step carries). */
  session(accessKeyId: string | undefined): StsSession | undefined {
    const session = accessKeyId === undefined ? undefined : this.sessions.get(accessKeyId);
    return session && session.expires.getTime() > this.now() ? session : undefined;
  }

  /** Who signed with `accessKeyId`; STS's errors for no key, an unknown session key and an expired session. */
  caller(accessKeyId: string | undefined): StsCaller {
    if (!accessKeyId) throw new LocalServiceError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403);
    const session = this.sessions.get(accessKeyId);
    if (session) {
      if (session.expires.getTime() <= this.now()) throw new LocalServiceError('ExpiredToken', 'The security token included in the request is expired');
      return this.sessionCaller(session);
    }
    // ASIA keys are STS's own: one it did not issue (or issued before a restart) is not a credential.
    if (accessKeyId.startsWith('ASIA')) throw new LocalServiceError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403);
    return this.principalCaller(this.credentials.get(accessKeyId) ?? `arn:${this.options.partition}:iam::${this.options.account}:root`);
  }

  /** GetCallerIdentity: the ARN, UserId (`AROA...:session`, `AIDA...`, the account id) and account. */
  callerIdentity(caller: StsCaller): { arn: string; userId: string; account: string } {
    return { arn: caller.arn, userId: caller.userId ?? caller.account, account: caller.account };
  }

  assumeRole(request: AssumeRoleRequest, caller: StsCaller): StsSession {
    if (caller.type === 'Account') throw new AssumeRoleDeniedError('Roles may not be assumed by root accounts.', undefined);
    if (caller.sourceIdentity !== undefined && request.sourceIdentity !== undefined && request.sourceIdentity !== caller.sourceIdentity) {
      throw new AssumeRoleDeniedError(`${accessDeniedMessage(caller.arn, STS_ACTIONS.setSourceIdentity, request.roleArn)}: the session's source identity cannot be changed`, undefined);
    }
    const sourceIdentity = request.sourceIdentity ?? caller.sourceIdentity;
    const iam = this.iamOfArn(request.roleArn);
    const role = iam?.roleByArn(request.roleArn);
    if (!iam || !role) throw new AssumeRoleDeniedError(accessDeniedMessage(caller.arn, STS_ACTIONS.assumeRole, request.roleArn), undefined);
    const decision = decideAssumeRole(caller, {
      roleArn: request.roleArn,
      trustPolicy: iam.trustPolicyOf(role),
      sessionName: request.sessionName,
      ...(request.externalId !== undefined ? { externalId: request.externalId } : {}),
      ...(sourceIdentity !== undefined ? { sourceIdentity } : {}),
      ...(request.tags ? { tags: request.tags } : {}),
      ...(request.transitiveTagKeys ? { transitiveTagKeys: request.transitiveTagKeys } : {}),
      now: new Date(this.now()),
    });
    if (!decision.allowed) {
      logger.info('local STS: AssumeRole denied', { caller: caller.arn, roleArn: request.roleArn, reason: decision.reason });
      throw new AssumeRoleDeniedError(decision.message!, decision);
    }
    const duration = request.durationSeconds ?? 3600;
    if (caller.type === 'AssumedRole' && duration > ROLE_CHAINING_MAX_SECONDS) {
      throw new LocalServiceError('ValidationError', 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
    }
    if (duration > role.maxSessionDuration) throw new LocalServiceError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    // Transitive tags of the calling session go on down the chain.
    const inherited = caller.session ? Object.fromEntries(caller.session.transitiveTagKeys.map((k) => [k, caller.session!.tags[k]!])) : {};
    return this.issue(iam, role, request.sessionName, duration, {
      ...(sourceIdentity !== undefined ? { sourceIdentity } : {}),
      tags: { ...inherited, ...request.tags },
      transitiveTagKeys: [...new Set([...(caller.session?.transitiveTagKeys ?? []), ...(request.transitiveTagKeys ?? [])])],
    });
  }

  /**
   * The credentials EC2 gives an instance of its instance profile role (what an EMR node signs with): a session
   * `assumed-role/ROLE/INSTANCE_ID`, if the role's trust policy lets ec2.amazonaws.com assume it.
   */
  instanceProfileSession(roleArn: string, instanceId: string): StsSession {
    const ec2: TrustCaller = { principal: { kind: 'service', service: 'ec2.amazonaws.com' }, arn: 'ec2.amazonaws.com', type: 'Service', identityPolicies: [] };
    const iam = this.iamOfArn(roleArn);
    const role = iam?.roleByArn(roleArn);
    if (!iam || !role) throw new AssumeRoleDeniedError(accessDeniedMessage(ec2.arn, STS_ACTIONS.assumeRole, roleArn), undefined);
    const decision = decideAssumeRole(ec2, { roleArn, trustPolicy: iam.trustPolicyOf(role), sessionName: instanceId, now: new Date(this.now()) });
    if (!decision.allowed) throw new AssumeRoleDeniedError(decision.message!, decision);
    return this.issue(iam, role, instanceId, INSTANCE_CREDENTIALS_SECONDS, { tags: {}, transitiveTagKeys: [] });
  }

  private issue(iam: LocalIam, role: IamRole, sessionName: string, seconds: number, carried: Pick<StsSession, 'sourceIdentity' | 'tags' | 'transitiveTagKeys'>): StsSession {
    this.sweep();
    const session: StsSession = {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(64).toString('base64'),
      roleArn: iam.roleArn(role),
      roleId: role.id,
      sessionName,
      ...carried,
      // STS's times are whole seconds.
      expires: new Date(Math.floor(this.now() / 1000) * 1000 + seconds * 1000),
    };
    this.sessions.set(session.accessKeyId, session);
    return session;
  }

  /**
   * Forgets expired sessions, at most once a SWEEP_MS: the gateway assumes its submitter role for every job it
   * submits (a 15-minute session each), so sessions kept forever grew with every job run (issue 11 item 8). An
   * expired key answers ExpiredToken until swept, then InvalidClientTokenId, as any ASIA key STS did not issue.
   */
  private sweep(): void {
    const now = this.now();
    if (now - this.lastSweep < SWEEP_MS) return;
    this.lastSweep = now;
    for (const [key, session] of this.sessions) if (session.expires.getTime() <= now) this.sessions.delete(key);
  }

  /** The session's ARN, `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION` (a session ARN has no path). */
  sessionArn(session: StsSession): string {
    const roleName = session.roleArn.slice(session.roleArn.lastIndexOf('/') + 1);
    return `arn:${this.options.partition}:sts::${session.roleArn.split(':')[4]}:assumed-role/${roleName}/${session.sessionName}`;
  }

  private sessionCaller(session: StsSession): StsCaller {
    const account = session.roleArn.split(':')[4]!;
    const iam = this.iamOf(account);
    const role = iam?.roleByArn(session.roleArn);
    const arn = this.sessionArn(session);
    return {
      principal: { kind: 'aws', arn, principalArn: session.roleArn, account },
      arn,
      type: 'AssumedRole',
      account,
      userId: `${session.roleId}:${session.sessionName}`,
      ...(session.sourceIdentity !== undefined ? { sourceIdentity: session.sourceIdentity } : {}),
      // The session's tags win over its role's.
      tags: { ...tagsOf(role), ...session.tags },
      // A role deleted since the session began grants it nothing.
      identityPolicies: role && iam ? iam.permissionsOf(role) : [],
      session,
    };
  }

  /** A configured principal ARN (or the root), with what the local IAM knows of it. */
  private principalCaller(arn: string): StsCaller {
    const resolved = resolvePrincipal(arn);
    if (!resolved) throw new LocalServiceError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403);
    const iam = this.iamOf(resolved.account);
    const base = { arn, account: resolved.account, type: resolved.type };
    if (resolved.type === 'Account') return { ...base, principal: { kind: 'aws', arn, principalArn: arn, account: resolved.account }, identityPolicies: 'unrestricted' };
    if (resolved.type === 'AssumedRole' || resolved.type === 'Role') {
      // A session ARN has no path: the role is found by its name.
      const roleName = resolved.principalArn.slice(resolved.principalArn.lastIndexOf('/') + 1);
      const role = iam?.findRoleByName(roleName);
      const principalArn = role && iam ? iam.roleArn(role) : resolved.principalArn;
      const roleId = role?.id ?? derivedId('AROA', principalArn);
      return {
        ...base,
        principal: { kind: 'aws', arn, principalArn, account: resolved.account },
        userId: resolved.sessionName !== undefined ? `${roleId}:${resolved.sessionName}` : roleId,
        tags: tagsOf(role),
        identityPolicies: role && iam ? iam.permissionsOf(role) : [],
      };
    }
    const userId = resolved.type === 'User' ? derivedId('AIDA', arn) : `${resolved.account}:${arn.slice(arn.lastIndexOf('/') + 1)}`;
    // The local IAM holds no users: a configured user has no identity policies.
    return { ...base, principal: { kind: 'aws', arn, principalArn: arn, account: resolved.account }, userId, identityPolicies: [] };
  }
}

const tagsOf = (role: IamRole | undefined): Record<string, string> => Object.fromEntries((role?.tags ?? []).map((t) => [t.Key, t.Value]));
