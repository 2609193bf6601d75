/**
 * The local EMR: clusters and steps behind EMR's JSON 1.1 API (ElasticMapReduce.*), with EMR's validation,
 * its runtime-role rules per cluster and its response shapes. Steps really run, as local processes
 * (process-runner.ts) with the credentials `stepCredentials` gives them (the stack's: step-credentials.ts, from the
 * local STS as EMR obtains them), as many at once as the cluster's StepConcurrencyLevel allows (scheduler.ts); state is
 * an append-only journal in the data directory (journal.ts). No step process outlives the emulator (spawner.ts):
 * stopping it ends them, INTERRUPTED as on EMR; after a restart, a step the previous stack could not record is
 * recorded as it really ended. A change the journal cannot take (a full or unwritable disk) is answered as EMR
 * answers an internal failure, HTTP 500 with the error its model names for the operation (the SDKs retry it),
 * and is not made; reads go on.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { clusterArn } from '../../identifiers';
import { LocalServiceError } from '../errors';
import { enumMembers, requiredMember, stringList, stringMember } from '../json-input';
import { LOCAL_CLUSTER_DEFAULTS, RELEASE_LABEL } from '../../config/schema';
import { settingsOf, withExternalId } from './external-id';
import { EmrJournal, JournalWriteError } from './journal';
import {
  CLUSTER_STATES,
  STEP_STATES,
  StepCredentialsDeniedError,
  type HadoopJarStep,
  type IssuedSessionCredentials,
  type LocalCluster,
  type LocalStep,
  type RuntimeRoleCredentialsSource,
  type SecurityConfiguration,
  type StepCredentialsSource,
} from './model';
import { LocalAppUis } from './app-ui';
import { StepLogUploader, type StepLogSink } from './log-uploader';
import { StepProcessRunner } from './process-runner';
import { StepScheduler } from './scheduler';

export interface LocalEmrOptions {
  dataDir: string;
  region: string;
  account: string;
  /** The partition of the ARNs it answers with (the config's); 'aws' if not given. */
  partition?: string;
  /** The environment step processes start from (AWS credentials are removed from it). */
  env: NodeJS.ProcessEnv;
  /** Told of every change of a step's state (the local EventBridge's "EMR Step Status Change"). */
  onStepChange?: (step: Readonly<LocalStep>) => void;
  /** Seconds between SIGTERM and SIGKILL for SEND_INTERRUPT. */
  interruptGraceSeconds?: number;
  /** The credentials each step runs with (the stack: from the local STS, as EMR gets them); none if not given. */
  stepCredentials?: StepCredentialsSource;
  /**
   * The runtime role's session behind GetClusterSessionCredentials (the stack: from the local STS, as for a step), so
   * that credentials are issued only for a role the cluster's node may assume; without it, issued unchecked.
   */
  runtimeRoleCredentials?: RuntimeRoleCredentialsSource;
  /** The AWS endpoint of the step processes (AWS_ENDPOINT_URL): the local AWS port, known once it listens. */
  stepEndpointUrl?: () => string | undefined;
  /**
   * Where the steps' logs are uploaded, gzipped, under each cluster's LogUri (the stack: the local S3), every
   * `logUploadIntervalMs` while a step runs and at its end, as EMR does; without it, they stay in the data directory.
   */
  stepLogSink?: StepLogSink;
  /** How often a running step's logs are uploaded (EMR: every five minutes; the local default, 1 s). */
  logUploadIntervalMs?: number;
  /** No step starts before `startSteps()` (the stack: not before the AWS port, which the steps' credentials are for, listens). */
  holdSteps?: boolean;
  now?: () => number;
}

/** EMR's internal errors, as its model names them per operation (AddJobFlowSteps, CancelSteps, RunJobFlow: the first). */
type InternalErrorType = 'InternalServerError' | 'InternalServerException';

export class LocalEmr {
  readonly clusters: ReadonlyMap<string, LocalCluster>;
  readonly steps: ReadonlyMap<string, LocalStep>;
  readonly securityConfigurations: ReadonlyMap<string, SecurityConfiguration>;
  private readonly journal: EmrJournal;
  /** GetClusterSessionCredentials' issues, by user name (in memory, as the STS sessions behind them). */
  private readonly sessionCredentials = new Map<string, IssuedSessionCredentials>();
  private readonly runner: StepProcessRunner;
  private readonly scheduler: StepScheduler;
  private readonly uploader: StepLogUploader | undefined;
  /** The application UIs (Spark History Server) and their presigned links. */
  readonly appUis: LocalAppUis;
  private readonly now: () => number;

  constructor(private readonly options: LocalEmrOptions) {
    const dir = join(options.dataDir, 'emr');
    const logsDir = join(dir, 'steps');
    mkdirSync(logsDir, { recursive: true });
    this.now = options.now ?? Date.now;
    const sink = options.stepLogSink;
    this.uploader = sink && new StepLogUploader({ sink, logsDir, logUriOf: (id) => this.clusters.get(id)?.logUri, intervalMs: options.logUploadIntervalMs ?? 1000 });
    const onStepChange = options.onStepChange;
    this.journal = new EmrJournal(join(dir, 'journal.jsonl'), {
      // The logs first: a step's end announced is a step whose logs are in S3 (EMR's own order is looser; a read of them
      // right after the end, which the gateway's users do first, should find them).
      onStepChange: (step) => {
        this.uploader?.changed(step);
        onStepChange?.(step);
      },
      // Steps held back while the journal could not say they started may start now.
      onWritable: () => {
        for (const cluster of this.clusters.values()) this.scheduler.schedule(cluster.id);
      },
    });
    this.clusters = this.journal.clusters;
    this.steps = this.journal.steps;
    this.securityConfigurations = this.journal.securityConfigurations;
    // The runner frees slots that the scheduler fills: each is told of the other through a callback.
    const exitsFile = join(dir, 'exits.jsonl');
    const { stepCredentials, stepEndpointUrl } = options;
    this.runner = new StepProcessRunner(
      this.journal,
      {
        logsDir,
        exitsFile,
        env: options.env,
        region: options.region,
        ...(stepCredentials ? { credentials: (step: Readonly<LocalStep>) => this.credentialsOf(stepCredentials, step) } : {}),
        ...(stepEndpointUrl ? { endpointUrl: stepEndpointUrl } : {}),
        interruptGraceSeconds: options.interruptGraceSeconds,
        stderrUri: (step) => {
          const where = this.uploader?.location(step);
          return where && `s3://${where.bucket}/${where.prefix}stderr.gz`;
        },
        now: this.now,
      },
      (clusterId) => this.scheduler.schedule(clusterId),
    );
    this.appUis = new LocalAppUis({
      cluster: (id) => this.cluster(id),
      clusterByArn: (arn) => [...this.clusters.values()].find((c) => this.arnOf(c.id, this.accountOf(c)) === arn),
      runtimeRolesEnabled: (cluster) => this.runtimeRolesEnabled(cluster),
      steps: () => this.steps.values(),
      logsDir,
      // The links point at the AWS port, which serves their pages: the steps' endpoint, as on EMR the cluster's primary node.
      baseUrl: () => stepEndpointUrl?.(),
      now: this.now,
    });
    this.scheduler = new StepScheduler(this.journal, (step) => this.runner.start(step), options.holdSteps === true);
    this.runner.recover();
    if (!options.holdSteps) this.startSteps();
  }

  /** Steps start from now on (at once unless `holdSteps`): the pending ones, oldest first, as each cluster has room. */
  startSteps(): void {
    this.scheduler.release();
    for (const cluster of this.clusters.values()) this.scheduler.schedule(cluster.id);
  }

  /** A cluster with a given id (the configured ones), with its security configuration. */
  ensureCluster(spec: { id: string; name: string; account?: string; runtimeRoles: boolean; propagateSourceIdentity: boolean; stepConcurrencyLevel: number; logUri?: string; local?: LocalClusterSpec }): void {
    const configName = `emr-gateway-${spec.id}`;
    const owner = spec.account !== undefined && spec.account !== this.options.account ? { account: spec.account } : {};
    const json = JSON.stringify({
      AuthorizationConfiguration: {
        IAMConfiguration: {
          EnableApplicationScopedIAMRole: spec.runtimeRoles,
          ...(spec.runtimeRoles ? { ApplicationScopedIAMRoleConfiguration: { PropagateSourceIdentity: spec.propagateSourceIdentity } } : {}),
        },
      },
    });
    const existingConfig = this.securityConfigurations.get(configName);
    if (existingConfig?.json !== json || existingConfig.account !== owner.account) {
      this.journal.saveSecurityConfiguration({ name: configName, ...owner, json, created: existingConfig?.created ?? this.now() });
    }
    const existing = this.clusters.get(spec.id);
    const local = { ...LOCAL_CLUSTER_DEFAULTS, ...spec.local };
    const cluster: LocalCluster = {
      id: spec.id,
      name: spec.name,
      ...owner,
      securityConfiguration: configName,
      stepConcurrencyLevel: spec.stepConcurrencyLevel,
      ...(spec.logUri !== undefined ? { logUri: spec.logUri } : {}),
      releaseLabel: local.releaseLabel,
      applications: [...local.applications],
      instanceProfile: local.instanceProfile,
      primaryNodes: local.primaryNodes,
      state: 'WAITING',
      created: existing?.created ?? this.now(),
    };
    if (existing && JSON.stringify({ ...existing, state: 'WAITING' }) === JSON.stringify(cluster)) return;
    this.journal.saveCluster(cluster);
  }

  /** The account that owns a cluster. */
  accountOf(cluster: Pick<LocalCluster, 'account'>): string {
    return cluster.account ?? this.options.account;
  }

  /**
   * EMR's account boundary: a caller sees only its own account's clusters. A request naming another account's
   * cluster (ClusterId, JobFlowId) is answered as for a cluster that does not exist, as EMR answers it.
   */
  assertVisible(input: unknown, callerAccount: string): void {
    const members = input && typeof input === 'object' ? (input as Record<string, unknown>) : {};
    for (const id of [members.ClusterId, members.JobFlowId]) {
      const cluster = typeof id === 'string' ? this.clusters.get(id) : undefined;
      if (cluster && this.accountOf(cluster) !== callerAccount) throw new LocalServiceError('InvalidRequestException', `Cluster id '${id as string}' is not valid.`);
    }
    // The app-UI operations name a cluster by its ARN (CreatePersistentAppUI) or through the persistent UI made of it.
    const arn = members.TargetResourceArn;
    if (typeof arn === 'string' && arn.split(':')[4] !== callerAccount) throw new LocalServiceError('InvalidRequestException', `The target resource ${arn} is not a cluster of this account and region.`);
    const ui = typeof members.PersistentAppUIId === 'string' ? this.appUis.clusterOf(members.PersistentAppUIId) : undefined;
    const owner = ui === undefined ? undefined : this.clusters.get(ui);
    if (owner && this.accountOf(owner) !== callerAccount) throw new LocalServiceError('InvalidRequestException', `Persistent application UI ${members.PersistentAppUIId as string} does not exist.`);
  }

  // ---- the API ----------------------------------------------------------------------------------------

  addJobFlowSteps(input: { JobFlowId?: string; Steps?: { Name?: string; ActionOnFailure?: string; HadoopJarStep?: HadoopJarStep }[]; ExecutionRoleArn?: string }, sourceIdentity?: string): { StepIds: string[] } {
    const cluster = this.cluster(input.JobFlowId);
    if (cluster.state.startsWith('TERMINATED')) throw new LocalServiceError('ValidationException', `A job flow that is shutting down, terminated, or finished may not be modified.`);
    const runtimeRoles = this.runtimeRolesEnabled(cluster);
    if (runtimeRoles && !input.ExecutionRoleArn) throw new LocalServiceError('ValidationException', 'Runtime roles are required for this cluster. Please specify the role using the ExecutionRoleArn parameter.');
    if (!runtimeRoles && input.ExecutionRoleArn) throw new LocalServiceError('ValidationException', 'Runtime roles are not supported on this cluster.');
    const steps = input.Steps ?? [];
    if (!steps.length || steps.length > 256) throw new LocalServiceError('ValidationException', 'Steps must have between 1 and 256 members.');
    for (const s of steps) {
      if (!s.Name || typeof s.Name !== 'string' || typeof s.HadoopJarStep?.Jar !== 'string' || !s.HadoopJarStep.Jar) {
        throw new LocalServiceError('ValidationException', 'Each step needs a Name and a HadoopJarStep with a Jar.');
      }
      const args = s.HadoopJarStep.Args ?? [];
      if (!Array.isArray(args) || args.some((a) => typeof a !== 'string' || a.includes('\u0000'))) {
        throw new LocalServiceError('ValidationException', 'HadoopJarStep.Args must be a list of strings without NUL characters.');
      }
    }
    const added: LocalStep[] = [];
    for (const s of steps) {
      if (!s.HadoopJarStep || !s.Name) continue; // checked above
      added.push({
        id: `s-${randomBytes(8).toString('hex').toUpperCase().slice(0, 13)}`,
        clusterId: cluster.id,
        name: s.Name,
        actionOnFailure: s.ActionOnFailure ?? 'CONTINUE',
        jar: s.HadoopJarStep,
        ...(input.ExecutionRoleArn ? { executionRoleArn: input.ExecutionRoleArn } : {}),
        ...(sourceIdentity ? { sourceIdentity } : {}),
        state: 'PENDING',
        created: this.now(),
      });
    }
    // All or none: a retry after a refusal must not find some of them added already.
    orInternalError('InternalServerError', () => this.journal.addSteps(added));
    this.scheduler.schedule(cluster.id);
    return { StepIds: added.map((step) => step.id) };
  }

  /**
   * Temporary HTTP basic credentials for the cluster's endpoints (Livy's, on EMR) under a runtime role, as EMR issues
   * them: the cluster must have runtime roles enabled by its security configuration (EMR's own refusal otherwise, as
   * for AddJobFlowSteps), and its node must be able to assume the role as for a step (the role's trust, the ExternalId,
   * the instance profile's permissions; the caller's source identity where the configuration propagates it). They
   * expire with that role session (an hour). Only the SHA-256 of the password is kept, in memory.
   */
  getClusterSessionCredentials(input: { ClusterId?: unknown; ExecutionRoleArn?: unknown }, sourceIdentity?: string): { Credentials: { UsernamePassword: { Username: string; Password: string } }; ExpiresAt: number } {
    // The model's constraints first, as AWS's request validation checks them before the cluster is looked up.
    const clusterId = requiredMember(stringMember(input.ClusterId, 'ClusterId'), 'ClusterId');
    const roleArn = requiredMember(stringMember(input.ExecutionRoleArn, 'ExecutionRoleArn'), 'ExecutionRoleArn');
    lengthWithin(roleArn, 'ExecutionRoleArn', 20, 2048);
    const cluster = this.cluster(clusterId);
    if (cluster.state.startsWith('TERMINATED')) throw new LocalServiceError('ValidationException', `A job flow that is shutting down, terminated, or finished may not be modified.`);
    if (!this.runtimeRolesEnabled(cluster)) throw new LocalServiceError('ValidationException', 'Runtime roles are not supported on this cluster.');
    const username = `emr-session-${randomBytes(8).toString('hex')}`;
    const password = randomBytes(32).toString('base64url');
    let expires = this.now() + SESSION_CREDENTIALS_SECONDS * 1000;
    let roleSessionAccessKeyId: string | undefined;
    const source = this.options.runtimeRoleCredentials;
    if (source) {
      const config = cluster.securityConfiguration ? this.securityConfigurations.get(cluster.securityConfiguration) : undefined;
      try {
        const session = source({ roleArn, sessionName: username, ...(sourceIdentity !== undefined ? { sourceIdentity } : {}) }, cluster, config);
        expires = Math.min(expires, session.expiration.getTime());
        roleSessionAccessKeyId = session.accessKeyId;
      } catch (error) {
        if (!(error instanceof StepCredentialsDeniedError)) throw error;
        throw new LocalServiceError('InvalidRequestException', `The cluster cannot obtain credentials of the runtime role ${roleArn}: ${error.message}`);
      }
    }
    this.sessionCredentials.set(username, {
      username,
      passwordSha256: sha256(password),
      clusterId: cluster.id,
      executionRoleArn: roleArn,
      ...(sourceIdentity !== undefined ? { sourceIdentity } : {}),
      ...(roleSessionAccessKeyId !== undefined ? { roleSessionAccessKeyId } : {}),
      expires,
    });
    return { Credentials: { UsernamePassword: { Username: username, Password: password } }, ExpiresAt: expires / 1000 };
  }

  /**
   * What an endpoint of the cluster would grant a user name and password (HTTP basic authentication): the credentials
   * GetClusterSessionCredentials issued for this cluster and not expired, else undefined. Never the password.
   */
  sessionCredentialsFor(clusterId: string, username: string, password: string): Omit<IssuedSessionCredentials, 'passwordSha256'> | undefined {
    const issued = this.sessionCredentials.get(username);
    if (!issued || issued.clusterId !== clusterId || issued.expires <= this.now()) return undefined;
    const given = Buffer.from(sha256(password), 'hex');
    if (!timingSafeEqual(given, Buffer.from(issued.passwordSha256, 'hex'))) return undefined;
    const { passwordSha256: _hash, ...rest } = issued;
    return rest;
  }

  describeStep(input: { ClusterId?: string; StepId?: string }): { Step: Record<string, unknown> } {
    this.cluster(input.ClusterId);
    const step = this.steps.get(requiredMember(stringMember(input.StepId, 'StepId'), 'StepId'));
    if (!step || step.clusterId !== input.ClusterId) throw new LocalServiceError('InvalidRequestException', `Step id '${String(input.StepId)}' is not valid.`);
    return { Step: stepView(step, true) };
  }

  listSteps(input: { ClusterId?: string; StepStates?: string[]; StepIds?: string[]; Marker?: string }): { Steps: Record<string, unknown>[]; Marker?: string } {
    this.cluster(input.ClusterId);
    const states = enumMembers(stringList(input.StepStates, 'StepStates'), STEP_STATES, 'StepStates');
    const ids = stringList(input.StepIds, 'StepIds');
    // Newest first, as EMR lists them: by creation, and steps added together (one time) last added first, which
    // is the reverse of the journal's order (steps are kept in the order they were added).
    const all = [...this.steps.values()]
      .reverse()
      .filter((s) => s.clusterId === input.ClusterId)
      .filter((s) => !states?.length || states.includes(s.state))
      .filter((s) => !ids?.length || ids.includes(s.id))
      .sort((a, b) => b.created - a.created);
    const start = input.Marker ? Number(Buffer.from(input.Marker, 'base64').toString()) || 0 : 0;
    const page = all.slice(start, start + 50);
    return { Steps: page.map((s) => stepView(s, false)), ...(start + 50 < all.length ? { Marker: Buffer.from(String(start + 50)).toString('base64') } : {}) };
  }

  cancelSteps(input: { ClusterId?: string; StepIds?: string[]; StepCancellationOption?: string }): { CancelStepsInfoList: { StepId: string; Status: string; Reason?: string }[] } {
    this.cluster(input.ClusterId);
    const mode = input.StepCancellationOption ?? 'SEND_INTERRUPT';
    if (mode !== 'SEND_INTERRUPT' && mode !== 'TERMINATE_PROCESS') throw new LocalServiceError('ValidationException', `Invalid StepCancellationOption: ${mode}`);
    return {
      CancelStepsInfoList: (input.StepIds ?? []).map((id) => {
        const step = this.steps.get(id);
        if (!step || step.clusterId !== input.ClusterId) return { StepId: id, Status: 'FAILED', Reason: `Step id '${id}' is not valid.` };
        // A cancel that cannot be journaled is not made (the whole call is refused, and retried, so a step whose
        // cancel was journaled before the refusal is cancelled again, which changes nothing).
        if (step.state === 'PENDING') {
          orInternalError('InternalServerError', () => this.journal.commit(step, { state: 'CANCELLED', ended: this.now(), stateChangeReason: { Message: 'Cancelled by the user.' } }));
          return { StepId: id, Status: 'SUBMITTED' };
        }
        if (step.state === 'RUNNING' || step.state === 'CANCEL_PENDING') {
          orInternalError('InternalServerError', () => this.journal.commit(step, { state: 'CANCEL_PENDING' }));
          this.runner.kill(step, mode);
          return { StepId: id, Status: 'SUBMITTED' };
        }
        return { StepId: id, Status: 'FAILED', Reason: `Step ${id} is ${step.state}: it can no longer be cancelled.` };
      }),
    };
  }

  /** The cluster as DescribeCluster shows it: with the members EMR always returns (its model's Cluster). */
  describeCluster(input: { ClusterId?: string }): { Cluster: Record<string, unknown> } {
    const c = this.cluster(input.ClusterId);
    const described = describedCluster(c);
    const created = c.created / 1000;
    return {
      Cluster: {
        Id: c.id,
        Name: c.name,
        Status: {
          State: c.state,
          StateChangeReason: c.state === 'WAITING' ? { Message: 'Cluster ready to run steps.' } : {},
          Timeline: { CreationDateTime: created, ReadyDateTime: created },
        },
        Ec2InstanceAttributes: {
          Ec2SubnetId: 'subnet-0local0000000000',
          RequestedEc2SubnetIds: ['subnet-0local0000000000'],
          Ec2AvailabilityZone: `${this.options.region}a`,
          RequestedEc2AvailabilityZones: [],
          IamInstanceProfile: described.instanceProfile,
          EmrManagedMasterSecurityGroup: 'sg-0local00000000000m',
          EmrManagedSlaveSecurityGroup: 'sg-0local00000000000c',
        },
        // Uniform instance groups (ListInstanceGroups), so `aws emr describe-cluster` lists groups, not fleets.
        InstanceCollectionType: 'INSTANCE_GROUP',
        ReleaseLabel: described.releaseLabel,
        AutoTerminate: false,
        TerminationProtected: false,
        UnhealthyNodeReplacement: false,
        VisibleToAllUsers: true,
        Applications: described.applications.map((name) => ({ Name: name, Version: APPLICATION_VERSIONS[name.toLowerCase()] ?? '1.0.0' })),
        Tags: [],
        ServiceRole: 'EMR_DefaultRole',
        // Instance hours so far, rounded up per node as EMR bills them (one core node and the primary ones).
        NormalizedInstanceHours: Math.ceil(Math.max(0, this.now() - c.created) / 3_600_000) * (described.primaryNodes + 1) * 8,
        MasterPublicDnsName: 'localhost',
        Configurations: [],
        ...(c.securityConfiguration ? { SecurityConfiguration: c.securityConfiguration } : {}),
        ...(c.logUri !== undefined ? { LogUri: c.logUri } : {}),
        ScaleDownBehavior: 'TERMINATE_AT_TASK_COMPLETION',
        ClusterArn: this.arnOf(c.id, this.accountOf(c)),
        StepConcurrencyLevel: c.stepConcurrencyLevel,
        PlacementGroups: [],
      },
    };
  }

  /** The cluster's instance groups: one primary and one core node, running since the cluster was created (the local steps run on this machine). */
  listInstanceGroups(input: { ClusterId?: string; Marker?: string }): { InstanceGroups: Record<string, unknown>[] } {
    const c = this.cluster(input.ClusterId);
    const { primaryNodes } = describedCluster(c);
    const group = (type: 'MASTER' | 'CORE', suffix: string) => ({
      Id: `ig-${c.id.slice(2, 12)}${suffix}`,
      Name: type === 'MASTER' ? 'Primary' : 'Core',
      Market: 'ON_DEMAND',
      InstanceGroupType: type,
      InstanceType: 'm5.xlarge',
      RequestedInstanceCount: type === 'MASTER' ? primaryNodes : 1,
      RunningInstanceCount: type === 'MASTER' ? primaryNodes : 1,
      Status: { State: 'RUNNING', StateChangeReason: {}, Timeline: { CreationDateTime: c.created / 1000, ReadyDateTime: c.created / 1000 } },
      Configurations: [],
      EbsBlockDevices: [],
      ShrinkPolicy: {},
    });
    return { InstanceGroups: [group('MASTER', 'M'), group('CORE', 'C')] };
  }

  /** The cluster's bootstrap actions: none (nothing runs before the local steps). */
  listBootstrapActions(input: { ClusterId?: string; Marker?: string }): { BootstrapActions: Record<string, unknown>[] } {
    this.cluster(input.ClusterId);
    return { BootstrapActions: [] };
  }

  listClusters(input: { ClusterStates?: string[] }, callerAccount = this.options.account): { Clusters: Record<string, unknown>[] } {
    const states = enumMembers(stringList(input.ClusterStates, 'ClusterStates'), CLUSTER_STATES, 'ClusterStates');
    return {
      Clusters: [...this.clusters.values()]
        .filter((c) => this.accountOf(c) === callerAccount && (!states?.length || states.includes(c.state)))
        .map((c) => ({ Id: c.id, Name: c.name, Status: { State: c.state, Timeline: { CreationDateTime: c.created / 1000 } } })),
    };
  }

  runJobFlow(input: {
    Name?: string;
    SecurityConfiguration?: string;
    StepConcurrencyLevel?: number;
    Steps?: unknown[];
    ReleaseLabel?: string;
    Applications?: { Name?: string }[];
    JobFlowRole?: string;
    Instances?: { InstanceGroups?: { InstanceRole?: string; InstanceCount?: number }[] };
  }): { JobFlowId: string; ClusterArn: string } {
    if (!input.Name) throw new LocalServiceError('ValidationException', 'Name is required.');
    const releaseLabel = stringMember(input.ReleaseLabel, 'ReleaseLabel');
    if (releaseLabel !== undefined && !RELEASE_LABEL.test(releaseLabel)) throw new LocalServiceError('ValidationException', `The specified release label '${releaseLabel}' is not valid.`);
    const applications = (Array.isArray(input.Applications) ? input.Applications : []).map((a) => stringMember(a?.Name, 'Applications.Name')).filter((n): n is string => n !== undefined);
    const primary = (Array.isArray(input.Instances?.InstanceGroups) ? input.Instances.InstanceGroups : []).find((g) => g?.InstanceRole === 'MASTER');
    const primaryNodes = primary?.InstanceCount ?? 1;
    if (primaryNodes !== 1 && primaryNodes !== 3) throw new LocalServiceError('ValidationException', 'The master instance group must have 1 or 3 instances.');
    if (input.SecurityConfiguration && !this.securityConfigurations.has(input.SecurityConfiguration)) {
      throw new LocalServiceError('InvalidRequestException', `Security configuration '${input.SecurityConfiguration}' does not exist.`);
    }
    const id = `j-${randomBytes(10).toString('hex').toUpperCase().slice(0, 13)}`;
    const cluster: LocalCluster = {
      id,
      name: input.Name,
      ...(input.SecurityConfiguration ? { securityConfiguration: input.SecurityConfiguration } : {}),
      stepConcurrencyLevel: input.StepConcurrencyLevel ?? 1,
      releaseLabel: releaseLabel ?? LOCAL_CLUSTER_DEFAULTS.releaseLabel,
      applications: input.Applications === undefined ? [...LOCAL_CLUSTER_DEFAULTS.applications] : applications,
      instanceProfile: stringMember(input.JobFlowRole, 'JobFlowRole') ?? LOCAL_CLUSTER_DEFAULTS.instanceProfile,
      primaryNodes,
      state: 'WAITING',
      created: this.now(),
    };
    orInternalError('InternalServerError', () => this.journal.saveCluster(cluster));
    return { JobFlowId: id, ClusterArn: this.arnOf(id, this.options.account) };
  }

  createSecurityConfiguration(input: { Name?: string; SecurityConfiguration?: string }): { Name: string; CreationDateTime: number } {
    if (!input.Name || !input.SecurityConfiguration) throw new LocalServiceError('ValidationException', 'Name and SecurityConfiguration are required.');
    if (this.securityConfigurations.has(input.Name)) throw new LocalServiceError('InvalidRequestException', `SecurityConfiguration with name '${input.Name}' already exists.`);
    try {
      JSON.parse(input.SecurityConfiguration);
    } catch {
      throw new LocalServiceError('InvalidRequestException', 'The security configuration is not valid JSON.');
    }
    const config = { name: input.Name, json: input.SecurityConfiguration, created: this.now() };
    orInternalError('InternalServerException', () => this.journal.saveSecurityConfiguration(config));
    return { Name: config.name, CreationDateTime: config.created / 1000 };
  }

  describeSecurityConfiguration(input: { Name?: string }, callerAccount = this.options.account): { Name: string; SecurityConfiguration: string; CreationDateTime: number } {
    const found = this.securityConfigurations.get(input.Name ?? '');
    const config = found && this.accountOf(found) === callerAccount ? found : undefined;
    if (!config) throw new LocalServiceError('InvalidRequestException', `Security configuration '${String(input.Name)}' does not exist.`);
    return { Name: config.name, SecurityConfiguration: withExternalId(config, this.accountOf(config)), CreationDateTime: config.created / 1000 };
  }

  /** A step's log file, for the logs route. */
  logFile(stepId: string, stream: 'stdout' | 'stderr'): string | undefined {
    const file = this.runner.logPath(stepId, stream);
    return this.steps.has(stepId) && existsSync(file) ? file : undefined;
  }

  /** Starts no more steps and ends the running ones, recorded INTERRUPTED (journaled, not announced). */
  async stop(): Promise<void> {
    this.journal.silence();
    this.scheduler.stop();
    await this.runner.stop();
    // The steps the stop ended were journaled without being announced: their last logs go up all the same.
    this.uploader?.flush((id) => this.steps.get(id));
    this.journal.close();
  }

  private cluster(id: unknown): LocalCluster {
    const cluster = this.clusters.get(requiredMember(stringMember(id, 'ClusterId'), 'ClusterId'));
    if (!cluster) throw new LocalServiceError('InvalidRequestException', `Cluster id '${String(id)}' is not valid.`);
    return cluster;
  }

  private runtimeRolesEnabled(cluster: LocalCluster): boolean {
    const config = cluster.securityConfiguration ? this.securityConfigurations.get(cluster.securityConfiguration) : undefined;
    return config !== undefined && settingsOf(config).enabled;
  }

  private credentialsOf(source: StepCredentialsSource, step: Readonly<LocalStep>) {
    const cluster = this.clusters.get(step.clusterId);
    if (!cluster) throw new Error(`the step's cluster ${step.clusterId} is not known`);
    const config = cluster.securityConfiguration ? this.securityConfigurations.get(cluster.securityConfiguration) : undefined;
    return source(step, cluster, config);
  }

  private arnOf(clusterId: string, account: string): string {
    return clusterArn(this.options.partition ?? 'aws', this.options.region, account, clusterId);
  }
}

/** How the configuration (`clusters[].local`) says the local EMR makes a cluster. */
export interface LocalClusterSpec {
  releaseLabel?: string;
  applications?: readonly string[];
  instanceProfile?: string;
  primaryNodes?: number;
}

/** The applications' versions EMR 7.5.0 installs (the local EMR reports them for every release). */
const APPLICATION_VERSIONS: Record<string, string> = { spark: '3.5.2', hive: '3.1.3', hadoop: '3.4.0', livy: '0.8.0', presto: '0.287', trino: '446', hbase: '2.5.10', pig: '0.17.0', tez: '0.10.2', jupyterenterprisegateway: '2.6.0' };

/** What a cluster is made of, with the defaults for one journaled before it was kept. */
function describedCluster(c: LocalCluster): Required<Pick<LocalCluster, 'releaseLabel' | 'applications' | 'instanceProfile' | 'primaryNodes'>> {
  return {
    releaseLabel: c.releaseLabel ?? LOCAL_CLUSTER_DEFAULTS.releaseLabel,
    applications: c.applications ?? [...LOCAL_CLUSTER_DEFAULTS.applications],
    instanceProfile: c.instanceProfile ?? LOCAL_CLUSTER_DEFAULTS.instanceProfile,
    primaryNodes: c.primaryNodes ?? LOCAL_CLUSTER_DEFAULTS.primaryNodes,
  };
}

/** How long GetClusterSessionCredentials' credentials last at most: the runtime role's session they stand for, role chaining's longest. */
const SESSION_CREDENTIALS_SECONDS = 3600;

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** A string member within the model's length constraint, else the ValidationException AWS's request validation answers. */
function lengthWithin(value: string, member: string, min: number, max: number): void {
  const field = member.charAt(0).toLowerCase() + member.slice(1);
  const excerpt = value.length > 60 ? `${value.slice(0, 60)}...` : value;
  if (value.length < min) throw new LocalServiceError('ValidationException', `1 validation error detected: Value '${excerpt}' at '${field}' failed to satisfy constraint: Member must have length greater than or equal to ${min}`);
  if (value.length > max) throw new LocalServiceError('ValidationException', `1 validation error detected: Value '${excerpt}' at '${field}' failed to satisfy constraint: Member must have length less than or equal to ${max}`);
}

/** Makes a change, or answers the journal's refusal of it as EMR's internal error of the operation (500: the SDKs retry it). */
function orInternalError(type: InternalErrorType, change: () => void): void {
  try {
    change();
  } catch (error) {
    if (error instanceof JournalWriteError) throw new LocalServiceError(type, error.message, 500);
    throw error;
  }
}

/** A step as DescribeStep (`full`: a Step, with FailureDetails and ExecutionRoleArn) and ListSteps (a StepSummary) show it. */
function stepView(step: LocalStep, full: boolean): Record<string, unknown> {
  const timeline = {
    CreationDateTime: step.created / 1000,
    ...(step.started ? { StartDateTime: step.started / 1000 } : {}),
    ...(step.ended ? { EndDateTime: step.ended / 1000 } : {}),
  };
  return {
    Id: step.id,
    Name: step.name,
    Config: { Jar: step.jar.Jar, Args: step.jar.Args ?? [], ...(step.jar.MainClass ? { MainClass: step.jar.MainClass } : {}), Properties: {} },
    ActionOnFailure: step.actionOnFailure,
    Status: {
      State: step.state,
      ...(step.stateChangeReason ? { StateChangeReason: step.stateChangeReason } : {}),
      ...(step.failure && full ? { FailureDetails: step.failure } : {}),
      Timeline: timeline,
    },
    // A Step has it; a StepSummary (ListSteps) has no such member.
    ...(step.executionRoleArn && full ? { ExecutionRoleArn: step.executionRoleArn } : {}),
  };
}
