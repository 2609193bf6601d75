/**
 * What the session domain needs from the outside world: the session records and EMR's interactive-session
 * credentials. Adapters (src/adapters/) implement them over the AWS SDK and translate SDK errors into domain
 * errors (TransientError, EmrRejectedError); tests implement them in memory. The audit trail is the jobs' AuditLog.
 */
import type { ClusterEndpoints, Session } from './model';

export interface SessionPage {
  sessions: Session[];
  /** The sessionKey of the last session read, when more may follow. */
  next?: string;
}

/** The session records: each written once, complete, after its last audit event. */
export interface SessionRepository {
  /** Creates the record; false (and nothing written) if one with that id exists. */
  create(session: Session): Promise<boolean>;
  get(sessionId: string): Promise<Session | undefined>;
  /**
   * One owner's sessions, newest first (an index Query, never a scan), `limit` at most, starting strictly after the
   * position `after` (a sessionKey). A position that is not a sessionKey is a ValidationError on `nextToken`.
   */
  listByOwner(principalArn: string, limit: number, after?: string): Promise<SessionPage>;
}

export interface IssueRequest {
  sessionId: string;
  clusterId: string;
  executionRoleArn: string;
  /** The verified person (or none): sent as the STS SourceIdentity where the cluster propagates it. */
  sourceIdentity?: string;
}

export interface IssuedCredentials {
  username: string;
  password: string;
  expiresAt: Date;
  /** The SourceIdentity the credentials were asked for with, if any (sanitized as STS takes it). */
  sourceIdentity?: string;
}

/** EMR, as interactive sessions use it. Throws TransientError for what a retry can cure, EmrRejectedError for a refusal. */
export interface EmrSessionCredentials {
  /** The cluster's endpoints (DescribeCluster); undefined while it has no primary node's DNS name. */
  endpoints(clusterId: string): Promise<ClusterEndpoints | undefined>;
  /** GetClusterSessionCredentials with the runtime role, with the caller's source identity where the cluster propagates it. */
  issue(request: IssueRequest): Promise<IssuedCredentials>;
}
