/**
 * The local STS (Query protocol, XML answers): AssumeRole with SourceIdentity and tags, GetCallerIdentity.
 * Issued session keys are remembered with their source identity, so the local EMR can hand it to the step
 * the session submits, as EMR does with PropagateSourceIdentity, until they expire: the gateway assumes its
 * submitter role for every job it submits with a source identity (a 15-minute session each), so sessions are
 * forgotten once expired (swept at most once a SWEEP_MS), and an expired key is as any unknown one (the AWS
 * port checks no credentials). What is kept is then bounded by the sessions issued within their durations.
 */
import { randomBytes } from 'node:crypto';
import { LocalServiceError } from './errors';

export interface StsSession {
  roleArn: string;
  sessionName: string;
  sourceIdentity?: string;
  expires: Date;
}

const xmlEscape = (s: string): string => s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
const SOURCE_IDENTITY = /^[\w+=,.@-]{2,64}$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
/** How often expired sessions are swept out, at most. */
const SWEEP_MS = 60_000;

export class LocalSts {
  readonly sessions = new Map<string, StsSession>();
  private lastSweep = 0;

  constructor(private readonly account: string) {}

  /** The session of an issued key, until it expires. */
  session(accessKeyId: string | undefined): StsSession | undefined {
    const session = accessKeyId === undefined ? undefined : this.sessions.get(accessKeyId);
    return session && session.expires.getTime() > Date.now() ? session : undefined;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_MS) return;
    this.lastSweep = now;
    for (const [key, session] of this.sessions) if (session.expires.getTime() <= now) this.sessions.delete(key);
  }

  handle(params: URLSearchParams, callerAccessKey: string | undefined): string {
    const action = params.get('Action');
    const requestId = randomBytes(16).toString('hex');
    if (action === 'AssumeRole') {
      const roleArn = params.get('RoleArn') ?? '';
      const sessionName = params.get('RoleSessionName') ?? '';
      const sourceIdentity = params.get('SourceIdentity') ?? undefined;
      if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(roleArn)) throw new LocalServiceError('ValidationError', `RoleArn ${roleArn} is not a role ARN`);
      if (!SESSION_NAME.test(sessionName)) throw new LocalServiceError('ValidationError', 'RoleSessionName must be 2-64 characters of [\\w+=,.@-]');
      if (sourceIdentity !== undefined && (!SOURCE_IDENTITY.test(sourceIdentity) || sourceIdentity.toLowerCase().startsWith('aws:'))) {
        throw new LocalServiceError('ValidationError', 'SourceIdentity must be 2-64 characters of [\\w+=,.@-] and not start with aws:');
      }
      // A session that carries a source identity cannot change it (STS rule).
      const caller = this.session(callerAccessKey);
      if (caller?.sourceIdentity && sourceIdentity && caller.sourceIdentity !== sourceIdentity) {
        throw new LocalServiceError('AccessDenied', 'SourceIdentity cannot be changed once set in a role chain', 403);
      }
      const duration = Number(params.get('DurationSeconds') ?? 3600);
      if (!Number.isInteger(duration) || duration < 900 || duration > 43_200) throw new LocalServiceError('ValidationError', 'DurationSeconds must be a whole number from 900 to 43200');
      const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
      this.sweep(Date.now());
      const expires = new Date(Date.now() + duration * 1000);
      const session: StsSession = { roleArn, sessionName, ...(sourceIdentity ?? caller?.sourceIdentity ? { sourceIdentity: sourceIdentity ?? caller?.sourceIdentity } : {}), expires };
      this.sessions.set(accessKeyId, session);
      const role = roleArn.split(':role/')[1]!.split('/').pop()!;
      const assumed = `arn:aws:sts::${roleArn.split(':')[4]}:assumed-role/${role}/${sessionName}`;
      return `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    ${session.sourceIdentity ? `<SourceIdentity>${xmlEscape(session.sourceIdentity)}</SourceIdentity>` : ''}
    <AssumedRoleUser><Arn>${xmlEscape(assumed)}</Arn><AssumedRoleId>AROALOCAL:${xmlEscape(sessionName)}</AssumedRoleId></AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${accessKeyId}</AccessKeyId>
      <SecretAccessKey>${randomBytes(20).toString('base64')}</SecretAccessKey>
      <SessionToken>${randomBytes(32).toString('base64')}</SessionToken>
      <Expiration>${expires.toISOString()}</Expiration>
    </Credentials>
    <PackedPolicySize>0</PackedPolicySize>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>
</AssumeRoleResponse>`;
    }
    if (action === 'GetCallerIdentity') {
      const session = this.session(callerAccessKey);
      const arn = session ? `arn:aws:sts::${this.account}:assumed-role/${session.roleArn.split('/').pop()}/${session.sessionName}` : `arn:aws:iam::${this.account}:root`;
      return `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult><Arn>${xmlEscape(arn)}</Arn><UserId>LOCAL</UserId><Account>${this.account}</Account></GetCallerIdentityResult>
  <ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>`;
    }
    throw new LocalServiceError('InvalidAction', `Could not find operation ${String(action)} for version 2011-06-15`);
  }

  static errorXml(error: LocalServiceError): string {
    return `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${xmlEscape(error.type)}</Code><Message>${xmlEscape(error.message)}</Message></Error><RequestId>${randomBytes(16).toString('hex')}</RequestId></ErrorResponse>`;
  }
}
