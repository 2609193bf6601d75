/**
 * The local EMR's application UIs: what GetOnClusterAppUIPresignedURL, CreatePersistentAppUI and
 * GetPersistentAppUIPresignedURL answer (the shapes of EMR's model, as the SDK v3 declares them: Debian's botocore
 * predates them), and the page their presigned links open. EMR's links open the cluster's Spark History Server (or
 * the persistent copy of it EMR keeps off the cluster), scoped, on a runtime-role cluster, to what the role ran;
 * here the page shows the steps that role ran on the cluster, each with its state and the end of its logs. A link
 * is a bearer token, valid for a few minutes (as EMR's), kept in memory only.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalServiceError } from '../errors';
import { enumMembers, requiredMember, stringMember } from '../json-input';
import type { LocalCluster, LocalStep } from './model';

/** How long a presigned link opens its page. */
export const APP_UI_LINK_SECONDS = 600;
const ON_CLUSTER_TYPES = ['SparkHistoryServer', 'YarnTimelineService', 'TezUI', 'ApplicationMaster', 'JobHistoryServer', 'ResourceManager'] as const;
const PERSISTENT_TYPES = ['SHS', 'TEZ', 'YTS'] as const;
const PROFILER_TYPES = ['SHS', 'TEZUI', 'YTS'] as const;
/** The bytes of each log a page shows (its end). */
const PAGE_LOG_BYTES = 16 * 1024;

export interface AppUiHost {
  cluster(id: unknown): LocalCluster;
  clusterByArn(arn: string): LocalCluster | undefined;
  runtimeRolesEnabled(cluster: LocalCluster): boolean;
  steps(): Iterable<Readonly<LocalStep>>;
  /** `<logsDir>/<stepId>/` holds a step's files. */
  logsDir: string;
  /** Where the links point (the local AWS port, which serves the page); undefined before it listens. */
  baseUrl: () => string | undefined;
  now: () => number;
}

interface Link {
  clusterId: string;
  executionRoleArn?: string;
  kind: 'on-cluster' | 'persistent';
  expires: number;
}

export class LocalAppUis {
  /** CreatePersistentAppUI's UIs, by id (one per cluster: creating it again answers the same one). */
  private readonly persistent = new Map<string, { clusterId: string; created: number }>();
  private readonly links = new Map<string, Link>();

  constructor(private readonly host: AppUiHost) {}

  /** The cluster a persistent UI was made of (for EMR's account boundary), or undefined for an unknown id. */
  clusterOf(persistentAppUiId: string): string | undefined {
    return this.persistent.get(persistentAppUiId)?.clusterId;
  }

  onClusterPresignedUrl(input: { ClusterId?: unknown; OnClusterAppUIType?: unknown; ApplicationId?: unknown; DryRun?: unknown; ExecutionRoleArn?: unknown }): { PresignedURLReady: boolean; PresignedURL?: string } {
    const clusterId = requiredMember(stringMember(input.ClusterId, 'ClusterId'), 'ClusterId');
    enumMember(input.OnClusterAppUIType, 'OnClusterAppUIType', ON_CLUSTER_TYPES);
    const cluster = this.host.cluster(clusterId);
    if (cluster.state.startsWith('TERMINATED')) throw new LocalServiceError('InvalidRequestException', `The cluster ${cluster.id} is terminated: its on-cluster application UIs are gone (use a persistent application UI).`);
    const role = this.roleFor(cluster, input.ExecutionRoleArn);
    if (input.DryRun === true) return { PresignedURLReady: true };
    return { PresignedURLReady: true, PresignedURL: this.link({ clusterId: cluster.id, ...(role ? { executionRoleArn: role } : {}), kind: 'on-cluster' }) };
  }

  createPersistent(input: { TargetResourceArn?: unknown; ProfilerType?: unknown; XReferer?: unknown }): { PersistentAppUIId: string; RuntimeRoleEnabledCluster: boolean } {
    const arn = requiredMember(stringMember(input.TargetResourceArn, 'TargetResourceArn'), 'TargetResourceArn');
    enumMember(input.ProfilerType, 'ProfilerType', PROFILER_TYPES);
    const cluster = this.host.clusterByArn(arn);
    if (!cluster) throw new LocalServiceError('InvalidRequestException', `The target resource ${arn} is not a cluster of this account and region.`);
    const existing = [...this.persistent].find(([, p]) => p.clusterId === cluster.id)?.[0];
    const id = existing ?? `p-${randomBytes(10).toString('hex').toUpperCase().slice(0, 13)}`;
    if (!existing) this.persistent.set(id, { clusterId: cluster.id, created: this.host.now() });
    return { PersistentAppUIId: id, RuntimeRoleEnabledCluster: this.host.runtimeRolesEnabled(cluster) };
  }

  persistentPresignedUrl(input: { PersistentAppUIId?: unknown; PersistentAppUIType?: unknown; ApplicationId?: unknown; AuthProxyCall?: unknown; ExecutionRoleArn?: unknown }): { PresignedURLReady: boolean; PresignedURL: string } {
    const id = requiredMember(stringMember(input.PersistentAppUIId, 'PersistentAppUIId'), 'PersistentAppUIId');
    enumMember(input.PersistentAppUIType, 'PersistentAppUIType', PERSISTENT_TYPES);
    const ui = this.persistent.get(id);
    if (!ui) throw new LocalServiceError('InvalidRequestException', `Persistent application UI ${id} does not exist.`);
    const cluster = this.host.cluster(ui.clusterId);
    const role = this.roleFor(cluster, input.ExecutionRoleArn);
    return { PresignedURLReady: true, PresignedURL: this.link({ clusterId: cluster.id, ...(role ? { executionRoleArn: role } : {}), kind: 'persistent' }) };
  }

  /** The page a link opens: 200 with its steps, or 403 for an unknown or expired link. */
  page(token: string): { status: number; html: string } {
    const link = this.links.get(token);
    if (!link || link.expires <= this.host.now()) {
      if (link) this.links.delete(token);
      return { status: 403, html: document('Link expired', '<p>This application UI link is unknown or has expired: ask for a new one (emr-gateway ui JOB_ID).</p>') };
    }
    const steps = [...this.host.steps()].filter((s) => s.clusterId === link.clusterId && (link.executionRoleArn === undefined || s.executionRoleArn === link.executionRoleArn)).sort((a, b) => b.created - a.created);
    const title = `${link.kind === 'on-cluster' ? 'Spark History Server' : 'Persistent application UI'}: ${link.clusterId}`;
    const body = [
      `<h1>${escape(title)}</h1>`,
      `<p>Runtime role: <code>${escape(link.executionRoleArn ?? '(none: the cluster has no runtime roles)')}</code>. ${steps.length} step${steps.length === 1 ? '' : 's'}.</p>`,
      ...steps.map((s) => this.stepSection(s)),
    ].join('\n');
    return { status: 200, html: document(title, body) };
  }

  private stepSection(step: Readonly<LocalStep>): string {
    const logs = (['stdout', 'stderr'] as const).map((name) => {
      const text = tail(join(this.host.logsDir, step.id, name));
      return `<h3>${name}</h3><pre>${escape(text)}</pre>`;
    });
    return [`<section id="${escape(step.id)}">`, `<h2>${escape(step.id)}: ${escape(step.name)}</h2>`, `<p>State: <strong class="state">${escape(step.state)}</strong></p>`, ...logs, '</section>'].join('\n');
  }

  /** The runtime role a UI is for: required on a runtime-role cluster, refused on another (as AddJobFlowSteps). */
  private roleFor(cluster: LocalCluster, role: unknown): string | undefined {
    const arn = stringMember(role, 'ExecutionRoleArn');
    const enabled = this.host.runtimeRolesEnabled(cluster);
    if (enabled && !arn) throw new LocalServiceError('ValidationException', 'Runtime roles are required for this cluster. Please specify the role using the ExecutionRoleArn parameter.');
    if (!enabled && arn) throw new LocalServiceError('ValidationException', 'Runtime roles are not supported on this cluster.');
    return arn;
  }

  private link(link: Omit<Link, 'expires'>): string {
    const base = this.host.baseUrl();
    if (!base) throw new LocalServiceError('InternalServerError', 'the local EMR serves no application UI before the AWS port listens', 500);
    const now = this.host.now();
    for (const [token, old] of this.links) if (old.expires <= now) this.links.delete(token);
    const token = randomBytes(24).toString('base64url');
    this.links.set(token, { ...link, expires: now + APP_UI_LINK_SECONDS * 1000 });
    return `${base.replace(/\/$/, '')}/_local/emr/ui/${token}`;
  }
}

/** An enum member, if given: a string of the enum (SerializationException, ValidationException otherwise). */
function enumMember(value: unknown, member: string, allowed: readonly string[]): void {
  const given = stringMember(value, member);
  if (given !== undefined) enumMembers([given], allowed, member);
}

function tail(file: string): string {
  try {
    const text = readFileSync(file);
    return text.subarray(Math.max(0, text.length - PAGE_LOG_BYTES)).toString('utf8');
  } catch {
    return '';
  }
}

const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function document(title: string, body: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title><style>body{font-family:sans-serif;margin:2em}pre{background:#f4f4f4;padding:.5em;max-height:20em;overflow:auto}</style></head>\n<body>\n${body}\n</body></html>\n`;
}
