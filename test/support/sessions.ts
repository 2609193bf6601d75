/**
 * The session domain's ports in memory (src/sessions/ports.ts), and a SessionService over them with the real policy
 * engine, the in-memory audit log and digests, on a simulated clock. No SDK here: unit tests use it. The store keeps
 * its adapter's contract (DynamoSessionStore): a copy comes back, undefined attributes dropped; a create never
 * overwrites; one owner's sessions newest first, `limit` at a time.
 */
import { parse, stringify } from 'yaml';
import { DigestVerifier } from '../../src/audit/digester';
import type { LoadedConfig } from '../../src/config/validate';
import { EmrRejectedError, TransientError, ValidationError } from '../../src/errors';
import { sanitizeSourceIdentity, SESSION_ID } from '../../src/identifiers';
import type { ClusterEndpoints, Session } from '../../src/sessions/model';
import type { EmrSessionCredentials, IssuedCredentials, IssueRequest, SessionPage, SessionRepository } from '../../src/sessions/ports';
import { SessionService } from '../../src/sessions/service';
import { ACCOUNT, GATEWAY_CONFIG_YAML, role, SimClock } from './config';
import { InMemoryDigestStore, TestDigestSigner } from './digests';
import { InMemoryAuditLog } from './fakes';
import { TestSealer } from './sealer';

/** A cluster without runtime roles (added by withSessions). */
export const LEGACY = 'j-1LEGACYNORUNTIME';
const ETL = role('CallerTeamRoleETL');
const SESSIONS = 'elasticmapreduce:GetClusterSessionCredentials';

/** The test config plus: DataTeamA may open sessions as CallerTeamRole*, NoReads too but never as ETL, and a cluster without runtime roles. */
export function withSessions(yaml: string): string {
  const doc = parse(yaml) as { clusters: unknown[]; principals: { match: string; policies: string[] }[]; policies: Record<string, unknown> };
  doc.clusters.push({ id: LEGACY, name: 'legacy', runtimeRoles: false });
  doc.principals.find((p) => p.match === role('DataTeamA'))!.policies.push('sessions');
  doc.principals.find((p) => p.match === role('NoReads'))!.policies.push('sessions', 'no-etl-sessions');
  const clusters = `arn:aws:elasticmapreduce:us-east-1:${ACCOUNT}:cluster/*`;
  doc.policies.sessions = { Version: '2012-10-17', Statement: [{ Sid: 'SessionsAsTeamRoles', Effect: 'Allow', Action: SESSIONS, Resource: clusters, Condition: { StringLike: { 'elasticmapreduce:ExecutionRoleArn': role('CallerTeamRole*') } } }] };
  doc.policies['no-etl-sessions'] = { Version: '2012-10-17', Statement: [{ Sid: 'NoEtlSessions', Effect: 'Deny', Action: SESSIONS, Resource: '*', Condition: { StringEquals: { 'elasticmapreduce:ExecutionRoleArn': ETL } } }] };
  return stringify(doc);
}
/** The shared test configuration with sessions (withSessions). */
export const SESSIONS_CONFIG_YAML = withSessions(GATEWAY_CONFIG_YAML);

const stored = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const SESSION_KEY = new RegExp(`^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z#${SESSION_ID.source.slice(1, -1)}$`);

export class InMemorySessionRepository implements SessionRepository {
  readonly items = new Map<string, Session>();

  async create(session: Session): Promise<boolean> {
    await turn();
    if (this.items.has(session.sessionId)) return false;
    this.items.set(session.sessionId, stored(session));
    return true;
  }

  async get(sessionId: string): Promise<Session | undefined> {
    await turn();
    const session = this.items.get(sessionId);
    return session && stored(session);
  }

  async listByOwner(principalArn: string, limit: number, after?: string): Promise<SessionPage> {
    await turn();
    if (after !== undefined && !SESSION_KEY.test(after)) throw ValidationError.single('nextToken', 'is not a position in a session listing');
    const all = [...this.items.values()].filter((s) => s.principalArn === principalArn && (after === undefined || s.sessionKey < after)).sort((a, b) => (a.sessionKey < b.sessionKey ? 1 : -1));
    const page = all.slice(0, limit);
    return { sessions: page.map(stored), ...(all.length > page.length ? { next: page.at(-1)!.sessionKey } : {}) };
  }
}

/** EMR at the port: credentials with a fresh password each time, an hour's life; failures on demand. */
export class FakeEmrSessions implements EmrSessionCredentials {
  readonly issued: (IssueRequest & { username: string; password: string })[] = [];
  readonly described: string[] = [];
  endpointsOf: (clusterId: string) => ClusterEndpoints | undefined = () => ({ masterPublicDnsName: 'ip-10-0-0-1.ec2.internal', livy: 'https://ip-10-0-0-1.ec2.internal:8998' });
  private readonly failures: Error[] = [];

  /** `propagating`: the clusters where the request carries the caller as source identity. */
  constructor(private readonly now: () => Date, private readonly propagating: readonly string[] = []) {}

  failNext(error: Error): void {
    this.failures.push(error);
  }

  async endpoints(clusterId: string): Promise<ClusterEndpoints | undefined> {
    await turn();
    this.described.push(clusterId);
    return this.endpointsOf(clusterId);
  }

  async issue(request: IssueRequest): Promise<IssuedCredentials> {
    await turn();
    const failure = this.failures.shift();
    if (failure) throw failure;
    const n = this.issued.length + 1;
    const credentials = { username: `emr-user-${n}`, password: `s3cr3t-password-${n}-${Math.random().toString(36).slice(2)}` };
    this.issued.push({ ...request, ...credentials });
    const sourceIdentity = request.sourceIdentity !== undefined && this.propagating.includes(request.clusterId) ? sanitizeSourceIdentity(request.sourceIdentity) : undefined;
    return { ...credentials, expiresAt: new Date(this.now().getTime() + 3600_000), ...(sourceIdentity !== undefined ? { sourceIdentity } : {}) };
  }
}

export const emrRefusal = (message: string): EmrRejectedError => new EmrRejectedError(message, 'InvalidRequestException');
export const emrThrottled = (): TransientError => new TransientError('GetClusterSessionCredentials: ThrottlingException: Rate exceeded', { throttled: true, dependency: 'GetClusterSessionCredentials: ThrottlingException' });

export interface MemorySessions {
  clock: SimClock;
  sessions: InMemorySessionRepository;
  audit: InMemoryAuditLog;
  sealer: TestSealer;
  emr: FakeEmrSessions;
  service: SessionService;
}

export function memorySessions(loaded: LoadedConfig): MemorySessions {
  const clock = new SimClock();
  const sealer = new TestSealer();
  const audit = new InMemoryAuditLog(clock.now, sealer);
  const sessions = new InMemorySessionRepository();
  const emr = new FakeEmrSessions(clock.now, loaded.config.clusters.filter((c) => c.propagateSourceIdentity).map((c) => c.id));
  const digests = new DigestVerifier(new InMemoryDigestStore(), new TestDigestSigner());
  const service = new SessionService({ config: loaded.config, engine: loaded.engine, sessions, audit, sealer, digests, emr, now: clock.now });
  return { clock, sessions, audit, sealer, emr, service };
}
