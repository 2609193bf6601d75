/**
 * Interactive sessions (POST /sessions): EMR GetClusterSessionCredentials through the same gate as a submission.
 * The cluster's and the catalogue's rules first (the same for every caller: validation, nothing recorded), then the
 * policy engine decides elasticmapreduce:GetClusterSessionCredentials on the cluster with the runtime role as
 * elasticmapreduce:ExecutionRoleArn, for the caller as the engine identifies it (a source identity only where the
 * principals rule verifies session names). Every decision is audited on the session's own chain (its id), denials
 * too; then EMR is asked, through the submitter path with the verified source identity, and the issue of the
 * credentials is audited (user name and expiry, never the password). The record is written once, after the last
 * event, with the chain's head, so the digests of the chain heads cover it as they cover a job.
 */
import type { DigestVerifier, AnchorReport } from '../audit/digester';
import type { AuditDraft, AuditEvent, ChainHead, VerifyResult } from '../audit/chain';
import type { AuditSealer } from '../audit/ports';
import { verifyTrail } from '../audit/verify';
import type { PolicyEngine } from '../authz/engine';
import { sessionCredentialsRequest } from '../authz/submission';
import type { GatewayConfig } from '../config/validate';
import { EmrRejectedError, ForbiddenError, IntegrityError, NotFoundError, TransientError, ValidationError } from '../errors';
import { configuredClusterArn } from '../identifiers';
import { actorFor, type Caller } from '../jobs/actor';
import { newSessionId } from '../jobs/job-id';
import { ListTokens, type ListTokenScope } from '../jobs/list-token';
import type { AuditLog } from '../jobs/ports';
import { runtimeRolesProblem } from '../jobs/request';
import { decisionRecord } from '../jobs/service';
import { SYSTEM_ACTOR } from '../jobs/step-tasks';
import { sessionKeyOf, type ClusterEndpoints, type Session } from './model';
import type { EmrSessionCredentials, IssuedCredentials, SessionRepository } from './ports';

/** POST /sessions, as the HTTP layer validated it (src/http/schemas.ts sessionRequestSchema). */
export interface SessionRequest {
  clusterId: string;
  executionRoleArn: string;
  durationSeconds?: number;
}

/** The answer to POST /sessions: the record, and the credentials that only this answer carries. */
export interface OpenedSession {
  session: Session;
  credentials: { username: string; password: string };
}

export interface SessionListPage {
  sessions: Session[];
  nextToken?: string;
}

export interface SessionServiceDeps {
  config: GatewayConfig;
  engine: PolicyEngine;
  sessions: SessionRepository;
  audit: AuditLog;
  /** Checks the MACs of a trail read back; keys the listing's nextToken, as for jobs. */
  sealer: AuditSealer;
  digests: Pick<DigestVerifier, 'check'>;
  emr: EmrSessionCredentials;
  now?: () => Date;
}

/** EMR's operation, as the audit trail names it. */
const OPERATION = 'GetClusterSessionCredentials';

export class SessionService {
  private readonly now: () => Date;
  private readonly catalogue: ReadonlySet<string>;
  private readonly listTokens: ListTokens;

  constructor(private readonly deps: SessionServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    this.catalogue = new Set(deps.config.runtimeRoles);
    this.listTokens = new ListTokens(deps.sealer, this.now);
  }

  /**
   * Decides, audits the decision, and on an Allow asks EMR for the credentials. A denial is a ForbiddenError with
   * the decision and the session id (its trail holds the DECISION); EMR's refusal an EmrRejectedError, its
   * unavailability a TransientError, each after the FAILED session and its ISSUE_FAILED event are recorded.
   */
  async open(caller: Caller, request: SessionRequest): Promise<OpenedSession> {
    const actor = actorFor(this.deps.engine, caller);
    const cluster = this.deps.config.clusters.find((c) => c.id === request.clusterId);
    if (!cluster) throw ValidationError.single('clusterId', `${request.clusterId} is not a cluster this gateway manages`);
    const rolesProblem = runtimeRolesProblem(cluster);
    if (rolesProblem) throw ValidationError.single('clusterId', rolesProblem);
    if (!this.catalogue.has(request.executionRoleArn)) {
      throw ValidationError.single('executionRoleArn', 'is not one of the runtime roles this gateway may pass (see GET /roles)');
    }

    const at = this.now();
    const resource = this.clusterArn(request.clusterId);
    const decision = this.deps.engine.evaluate(
      sessionCredentialsRequest({ callerArn: caller.callerArn, ...(caller.sourceIdentity !== undefined ? { sourceIdentity: caller.sourceIdentity } : {}), now: at }, resource, request.executionRoleArn),
    );
    const sessionId = newSessionId(at);
    const subject = {
      clusterId: request.clusterId,
      clusterArn: resource,
      executionRoleArn: request.executionRoleArn,
      ...(request.durationSeconds !== undefined ? { durationSeconds: request.durationSeconds } : {}),
    };
    const decided = await this.deps.audit.append(sessionId, { type: 'DECISION', dedupeKey: 'DECISION', actor: { ...actor }, subject, decision: decisionRecord(decision) }, { firstEvent: true });
    const createdAt = at.toISOString();
    const base = {
      sessionId,
      createdAt,
      sessionKey: sessionKeyOf(createdAt, sessionId),
      actor,
      principalArn: actor.principalArn,
      clusterId: request.clusterId,
      clusterArn: resource,
      executionRoleArn: request.executionRoleArn,
      ...(request.durationSeconds !== undefined ? { durationSeconds: request.durationSeconds } : {}),
      decision: { result: decision.result, reason: decision.reason },
    };

    if (!decision.allowed) {
      await this.record({ ...base, status: 'DENIED', ...head(decided) });
      throw new ForbiddenError(decision.reason, { sessionId, decision: decisionRecord(decision) });
    }

    let issued: IssuedCredentials;
    let endpoints: ClusterEndpoints | undefined;
    try {
      // The endpoints first: a cluster EMR cannot describe gets no credentials.
      endpoints = await this.deps.emr.endpoints(request.clusterId);
      issued = await this.deps.emr.issue({ sessionId, clusterId: request.clusterId, executionRoleArn: request.executionRoleArn, ...(actor.sourceIdentity !== undefined ? { sourceIdentity: actor.sourceIdentity } : {}) });
    } catch (error) {
      const failure = failureOf(error);
      const event = await this.append(sessionId, { type: 'ISSUE_FAILED', dedupeKey: 'ISSUE_FAILED', actor: SYSTEM_ACTOR, subject, emr: { operation: OPERATION, ...failure } });
      await this.record({ ...base, status: 'FAILED', failure, ...head(event) });
      throw error;
    }
    const expiresAt = issued.expiresAt.toISOString();
    const event = await this.append(sessionId, {
      type: 'CREDENTIALS_ISSUED',
      dedupeKey: 'CREDENTIALS_ISSUED',
      actor: SYSTEM_ACTOR,
      subject,
      // The user name and the expiry; the password is never recorded.
      emr: { operation: OPERATION, username: issued.username, expiresAt, ...(issued.sourceIdentity !== undefined ? { sourceIdentity: issued.sourceIdentity } : {}) },
      ...(endpoints ? { detail: { endpoints: { ...endpoints } } } : {}),
    });
    const session: Session = { ...base, status: 'ISSUED', username: issued.username, expiresAt, ...(endpoints ? { endpoints } : {}), ...head(event) };
    await this.record(session);
    return { session, credentials: { username: issued.username, password: issued.password } };
  }

  /** The caller's own session; another principal's is not found, as one that does not exist. */
  async get(caller: Caller, sessionId: string): Promise<Session> {
    const owner = actorFor(this.deps.engine, caller).principalArn;
    const session = await this.deps.sessions.get(sessionId);
    if (!session || session.principalArn !== owner) throw new NotFoundError(`no session ${sessionId}`);
    return session;
  }

  /**
   * The caller's own sessions (their principal's, as GET /jobs lists one's own jobs), newest first, from the owner's
   * index (no scan); the nextToken is sealed and bound to the caller and to this listing (list-token.ts), 24 hours.
   */
  async list(caller: Caller, query: { limit: number; nextToken?: string }): Promise<SessionListPage> {
    const owner = actorFor(this.deps.engine, caller).principalArn;
    const scope: ListTokenScope = {
      caller: { callerArn: caller.callerArn, sourceIdentity: caller.sourceIdentity, trigger: caller.trigger },
      // Not a listing of jobs: a GET /jobs token opens nothing here, nor this one there.
      filters: { listing: 'sessions' },
    };
    const after = query.nextToken === undefined ? undefined : await this.listTokens.open(query.nextToken, scope);
    const page = await this.deps.sessions.listByOwner(owner, query.limit, after);
    return { sessions: page.sessions, ...(page.next !== undefined ? { nextToken: await this.listTokens.issue(page.next, scope) } : {}) };
  }

  /** The session's audit events in order, verified here against the head its record holds, and against the digests. */
  async auditTrail(caller: Caller, sessionId: string): Promise<{ session: Session; events: AuditEvent[]; head: ChainHead; verification: VerifyResult; anchor: AnchorReport }> {
    const session = await this.get(caller, sessionId);
    const events = await this.deps.audit.list(sessionId);
    const chainHead = { seq: session.auditSeq, hash: session.auditHash };
    const [verification, anchor] = await Promise.all([
      verifyTrail(this.deps.sealer, sessionId, events, { head: chainHead, firstType: 'DECISION', now: this.now() }),
      this.deps.digests.check({ chainId: sessionId, events, head: chainHead }),
    ]);
    return { session, events, head: chainHead, verification, anchor };
  }

  private append(sessionId: string, draft: AuditDraft): Promise<AuditEvent> {
    return this.deps.audit.append(sessionId, draft);
  }

  private async record(session: Session): Promise<void> {
    // A new random id: taken only if the table already held it, which no retry of this request can cause.
    if (!(await this.deps.sessions.create(session))) throw new IntegrityError(`session ${session.sessionId} already exists`);
  }

  /** In the cluster's own account: a cluster of another account is that account's resource. */
  private clusterArn(clusterId: string): string {
    return configuredClusterArn(this.deps.config, clusterId);
  }
}

const head = (event: AuditEvent): { auditSeq: number; auditHash: string } => ({ auditSeq: event.seq, auditHash: event.hash });

/** What the trail and the record say of a failure: EMR's error name and message where EMR answered, else the gateway's. */
function failureOf(error: unknown): { error: string; message: string } {
  if (error instanceof EmrRejectedError) return { error: error.emrError, message: error.message.slice(0, 1000) };
  if (error instanceof TransientError) return { error: error.name, message: error.dependency };
  return { error: error instanceof Error ? error.name : 'Error', message: 'the gateway could not ask EMR (see its logs)' };
}
