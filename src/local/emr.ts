/**
 * The local EMR: clusters and steps behind EMR's JSON 1.1 API (ElasticMapReduce.*). Steps really run, as
 * local processes, command-runner style (the first argument is the program); their stdout and stderr are the
 * step's logs. It keeps EMR's step states and StepConcurrencyLevel, CancelSteps stops the process, and the
 * runtime-role rules hold per cluster. State is an append-only journal in the data directory: after a
 * restart, steps whose process died with the stack are INTERRUPTED, as on EMR.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { LocalServiceError } from './errors';
import { Spawner } from './spawner';

type StepState = 'PENDING' | 'CANCEL_PENDING' | 'RUNNING' | 'COMPLETED' | 'CANCELLED' | 'FAILED' | 'INTERRUPTED';

interface HadoopJarStep {
  Jar: string;
  MainClass?: string;
  Args?: string[];
  Properties?: { Key?: string; Value?: string }[];
}

export interface LocalStep {
  id: string;
  clusterId: string;
  name: string;
  actionOnFailure: string;
  jar: HadoopJarStep;
  executionRoleArn?: string;
  sourceIdentity?: string;
  state: StepState;
  created: number;
  started?: number;
  ended?: number;
  failure?: { Reason?: string; Message?: string; LogFile?: string };
  stateChangeReason?: { Code?: string; Message?: string };
  pid?: number;
}

export interface LocalCluster {
  id: string;
  name: string;
  securityConfiguration?: string;
  stepConcurrencyLevel: number;
  state: 'WAITING' | 'RUNNING' | 'TERMINATED' | 'TERMINATED_WITH_ERRORS';
  created: number;
}

export interface SecurityConfiguration {
  name: string;
  json: string;
  created: number;
}

/** What each program of a step runs as; missing ones fail the step with a message that says so. */
const EMR_PROGRAMS = new Set(['spark-submit', 'hive-script', 'hive', 'pig-script', 'hadoop', 'hbase', 'presto-cli', 'trino-cli']);

export interface LocalEmrOptions {
  dataDir: string;
  region: string;
  account: string;
  /** The environment step processes start from (AWS credentials are removed from it). */
  env: NodeJS.ProcessEnv;
  /** Told of every change of a step's state (the local EventBridge's "EMR Step Status Change"). */
  onStepChange?: (step: Readonly<LocalStep>) => void;
  /** Seconds between SIGTERM and SIGKILL for SEND_INTERRUPT. */
  interruptGraceSeconds?: number;
  now?: () => number;
}

type Journal =
  | { kind: 'cluster'; cluster: LocalCluster }
  | { kind: 'securityConfiguration'; config: SecurityConfiguration }
  | { kind: 'step'; step: LocalStep };

export class LocalEmr {
  readonly clusters = new Map<string, LocalCluster>();
  readonly steps = new Map<string, LocalStep>();
  readonly securityConfigurations = new Map<string, SecurityConfiguration>();
  /** Steps whose process is running, by step id. */
  private readonly processes = new Set<string>();
  private readonly spawner = new Spawner();
  private readonly journal: string;
  private readonly logs: string;
  private readonly now: () => number;
  private stopping = false;

  constructor(private readonly options: LocalEmrOptions) {
    const dir = join(options.dataDir, 'emr');
    this.logs = join(dir, 'steps');
    mkdirSync(this.logs, { recursive: true });
    this.journal = join(dir, 'journal.jsonl');
    this.now = options.now ?? Date.now;
    this.replay();
  }

  /** Reads the journal back; steps that were running when the stack stopped died with it. */
  private replay(): void {
    if (!existsSync(this.journal)) return;
    for (const line of readFileSync(this.journal, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      let entry: Journal;
      try {
        entry = JSON.parse(line) as Journal;
      } catch {
        continue; // a torn last line from a crash
      }
      if (entry.kind === 'cluster') this.clusters.set(entry.cluster.id, entry.cluster);
      else if (entry.kind === 'securityConfiguration') this.securityConfigurations.set(entry.config.name, entry.config);
      else this.steps.set(entry.step.id, entry.step);
    }
    for (const step of this.steps.values()) {
      if (step.state === 'RUNNING') this.update(step, { state: 'INTERRUPTED', ended: this.now(), stateChangeReason: { Message: 'The step process ended when the local EMR stopped.' } });
      else if (step.state === 'CANCEL_PENDING') this.update(step, { state: 'CANCELLED', ended: this.now() });
    }
    for (const cluster of this.clusters.values()) this.schedule(cluster.id);
  }

  private write(entry: Journal): void {
    appendFileSync(this.journal, `${JSON.stringify(entry)}\n`);
  }

  private update(step: LocalStep, changes: Partial<LocalStep>): void {
    const before = step.state;
    Object.assign(step, changes);
    this.write({ kind: 'step', step });
    if (step.state !== before && !this.stopping) this.options.onStepChange?.(step);
  }

  /** A cluster with a given id (the configured ones), with its security configuration. */
  ensureCluster(spec: { id: string; name: string; runtimeRoles: boolean; propagateSourceIdentity: boolean; stepConcurrencyLevel: number }): void {
    const configName = `emr-gateway-${spec.id}`;
    const json = JSON.stringify({
      AuthorizationConfiguration: {
        IAMConfiguration: {
          EnableApplicationScopedIAMRole: spec.runtimeRoles,
          ...(spec.runtimeRoles ? { ApplicationScopedIAMRoleConfiguration: { PropagateSourceIdentity: spec.propagateSourceIdentity } } : {}),
        },
      },
    });
    const existingConfig = this.securityConfigurations.get(configName);
    if (existingConfig?.json !== json) {
      const config = { name: configName, json, created: existingConfig?.created ?? this.now() };
      this.securityConfigurations.set(configName, config);
      this.write({ kind: 'securityConfiguration', config });
    }
    const existing = this.clusters.get(spec.id);
    if (existing && existing.stepConcurrencyLevel === spec.stepConcurrencyLevel && existing.name === spec.name && existing.securityConfiguration === configName) return;
    const cluster: LocalCluster = { id: spec.id, name: spec.name, securityConfiguration: configName, stepConcurrencyLevel: spec.stepConcurrencyLevel, state: 'WAITING', created: existing?.created ?? this.now() };
    this.clusters.set(cluster.id, cluster);
    this.write({ kind: 'cluster', cluster });
  }

  private cluster(id: unknown): LocalCluster {
    const cluster = typeof id === 'string' ? this.clusters.get(id) : undefined;
    if (!cluster) throw new LocalServiceError('InvalidRequestException', `Cluster id '${String(id)}' is not valid.`);
    return cluster;
  }

  private runtimeRolesEnabled(cluster: LocalCluster): boolean {
    const config = cluster.securityConfiguration ? this.securityConfigurations.get(cluster.securityConfiguration) : undefined;
    if (!config) return false;
    const parsed = JSON.parse(config.json) as { AuthorizationConfiguration?: { IAMConfiguration?: { EnableApplicationScopedIAMRole?: boolean } } };
    return parsed.AuthorizationConfiguration?.IAMConfiguration?.EnableApplicationScopedIAMRole === true;
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
    const ids: string[] = [];
    for (const s of steps) {
      if (!s.Name || typeof s.Name !== 'string' || typeof s.HadoopJarStep?.Jar !== 'string' || !s.HadoopJarStep.Jar) {
        throw new LocalServiceError('ValidationException', 'Each step needs a Name and a HadoopJarStep with a Jar.');
      }
      const args = s.HadoopJarStep.Args ?? [];
      if (!Array.isArray(args) || args.some((a) => typeof a !== 'string' || a.includes('\u0000'))) {
        throw new LocalServiceError('ValidationException', 'HadoopJarStep.Args must be a list of strings without NUL characters.');
      }
    }
    for (const s of steps) {
      if (!s.HadoopJarStep || !s.Name) continue; // checked above
      const step: LocalStep = {
        id: `s-${randomBytes(8).toString('hex').toUpperCase().slice(0, 13)}`,
        clusterId: cluster.id,
        name: s.Name,
        actionOnFailure: s.ActionOnFailure ?? 'CONTINUE',
        jar: s.HadoopJarStep,
        ...(input.ExecutionRoleArn ? { executionRoleArn: input.ExecutionRoleArn } : {}),
        ...(sourceIdentity ? { sourceIdentity } : {}),
        state: 'PENDING',
        created: this.now(),
      };
      this.steps.set(step.id, step);
      this.write({ kind: 'step', step });
      ids.push(step.id);
    }
    this.schedule(cluster.id);
    return { StepIds: ids };
  }

  describeStep(input: { ClusterId?: string; StepId?: string }): { Step: Record<string, unknown> } {
    this.cluster(input.ClusterId);
    const step = this.steps.get(input.StepId ?? '');
    if (!step || step.clusterId !== input.ClusterId) throw new LocalServiceError('InvalidRequestException', `Step id '${String(input.StepId)}' is not valid.`);
    return { Step: this.view(step, true) };
  }

  listSteps(input: { ClusterId?: string; StepStates?: string[]; StepIds?: string[]; Marker?: string }): { Steps: Record<string, unknown>[]; Marker?: string } {
    this.cluster(input.ClusterId);
    const all = [...this.steps.values()]
      .filter((s) => s.clusterId === input.ClusterId)
      .filter((s) => !input.StepStates?.length || input.StepStates.includes(s.state))
      .filter((s) => !input.StepIds?.length || input.StepIds.includes(s.id))
      .sort((a, b) => b.created - a.created || (a.id < b.id ? 1 : -1));
    const start = input.Marker ? Number(Buffer.from(input.Marker, 'base64').toString()) || 0 : 0;
    const page = all.slice(start, start + 50);
    return { Steps: page.map((s) => this.view(s, false)), ...(start + 50 < all.length ? { Marker: Buffer.from(String(start + 50)).toString('base64') } : {}) };
  }

  cancelSteps(input: { ClusterId?: string; StepIds?: string[]; StepCancellationOption?: string }): { CancelStepsInfoList: { StepId: string; Status: string; Reason?: string }[] } {
    this.cluster(input.ClusterId);
    const mode = input.StepCancellationOption ?? 'SEND_INTERRUPT';
    if (mode !== 'SEND_INTERRUPT' && mode !== 'TERMINATE_PROCESS') throw new LocalServiceError('ValidationException', `Invalid StepCancellationOption: ${mode}`);
    return {
      CancelStepsInfoList: (input.StepIds ?? []).map((id) => {
        const step = this.steps.get(id);
        if (!step || step.clusterId !== input.ClusterId) return { StepId: id, Status: 'FAILED', Reason: `Step id '${id}' is not valid.` };
        if (step.state === 'PENDING') {
          this.update(step, { state: 'CANCELLED', ended: this.now(), stateChangeReason: { Message: 'Cancelled by the user.' } });
          return { StepId: id, Status: 'SUBMITTED' };
        }
        if (step.state === 'RUNNING' || step.state === 'CANCEL_PENDING') {
          this.update(step, { state: 'CANCEL_PENDING' });
          this.kill(step, mode);
          return { StepId: id, Status: 'SUBMITTED' };
        }
        return { StepId: id, Status: 'FAILED', Reason: `Step ${id} is ${step.state}: it can no longer be cancelled.` };
      }),
    };
  }

  describeCluster(input: { ClusterId?: string }): { Cluster: Record<string, unknown> } {
    const c = this.cluster(input.ClusterId);
    return {
      Cluster: {
        Id: c.id,
        Name: c.name,
        Status: { State: c.state, Timeline: { CreationDateTime: c.created / 1000 } },
        ClusterArn: `arn:aws:elasticmapreduce:${this.options.region}:${this.options.account}:cluster/${c.id}`,
        ReleaseLabel: 'emr-7.5.0',
        Applications: [{ Name: 'Spark' }, { Name: 'Hive' }],
        StepConcurrencyLevel: c.stepConcurrencyLevel,
        ...(c.securityConfiguration ? { SecurityConfiguration: c.securityConfiguration } : {}),
      },
    };
  }

  listClusters(input: { ClusterStates?: string[] }): { Clusters: Record<string, unknown>[] } {
    return {
      Clusters: [...this.clusters.values()]
        .filter((c) => !input.ClusterStates?.length || input.ClusterStates.includes(c.state))
        .map((c) => ({ Id: c.id, Name: c.name, Status: { State: c.state, Timeline: { CreationDateTime: c.created / 1000 } } })),
    };
  }

  runJobFlow(input: { Name?: string; SecurityConfiguration?: string; StepConcurrencyLevel?: number; Steps?: unknown[] }): { JobFlowId: string; ClusterArn: string } {
    if (!input.Name) throw new LocalServiceError('ValidationException', 'Name is required.');
    if (input.SecurityConfiguration && !this.securityConfigurations.has(input.SecurityConfiguration)) {
      throw new LocalServiceError('InvalidRequestException', `Security configuration '${input.SecurityConfiguration}' does not exist.`);
    }
    const id = `j-${randomBytes(10).toString('hex').toUpperCase().slice(0, 13)}`;
    const cluster: LocalCluster = { id, name: input.Name, ...(input.SecurityConfiguration ? { securityConfiguration: input.SecurityConfiguration } : {}), stepConcurrencyLevel: input.StepConcurrencyLevel ?? 1, state: 'WAITING', created: this.now() };
    this.clusters.set(id, cluster);
    this.write({ kind: 'cluster', cluster });
    return { JobFlowId: id, ClusterArn: `arn:aws:elasticmapreduce:${this.options.region}:${this.options.account}:cluster/${id}` };
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
    this.securityConfigurations.set(config.name, config);
    this.write({ kind: 'securityConfiguration', config });
    return { Name: config.name, CreationDateTime: config.created / 1000 };
  }

  describeSecurityConfiguration(input: { Name?: string }): { Name: string; SecurityConfiguration: string; CreationDateTime: number } {
    const config = this.securityConfigurations.get(input.Name ?? '');
    if (!config) throw new LocalServiceError('InvalidRequestException', `Security configuration '${String(input.Name)}' does not exist.`);
    return { Name: config.name, SecurityConfiguration: config.json, CreationDateTime: config.created / 1000 };
  }

  /** A step's log file, for the logs route. */
  logFile(stepId: string, stream: 'stdout' | 'stderr'): string | undefined {
    const file = join(this.logs, stepId, stream);
    return this.steps.has(stepId) && existsSync(file) ? file : undefined;
  }

  // ---- running steps --------------------------------------------------------------------------------------

  private view(step: LocalStep, full: boolean): Record<string, unknown> {
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
      ...(step.executionRoleArn ? { ExecutionRoleArn: step.executionRoleArn } : {}),
    };
  }

  /** Starts pending steps, oldest first, while the cluster has free slots. */
  private schedule(clusterId: string): void {
    if (this.stopping) return;
    const cluster = this.clusters.get(clusterId);
    if (!cluster) return;
    const steps = [...this.steps.values()].filter((s) => s.clusterId === clusterId);
    const busy = () => steps.filter((s) => s.state === 'RUNNING' || s.state === 'CANCEL_PENDING').length;
    for (const step of steps.filter((s) => s.state === 'PENDING').sort((a, b) => a.created - b.created)) {
      if (busy() >= cluster.stepConcurrencyLevel) break;
      if (step.state === 'PENDING') this.start(step); // a step that failed to start has already ended
    }
  }

  private start(step: LocalStep): void {
    const dir = join(this.logs, step.id);
    mkdirSync(dir, { recursive: true });
    const stdoutFile = join(dir, 'stdout');
    const stderrFile = join(dir, 'stderr');
    appendFileSync(stdoutFile, '');
    appendFileSync(stderrFile, '');
    this.update(step, { state: 'RUNNING', started: this.now() });
    const argv = step.jar.Jar === 'command-runner.jar' ? [...(step.jar.Args ?? [])] : ['hadoop', 'jar', step.jar.Jar, ...(step.jar.MainClass ? [step.jar.MainClass] : []), ...(step.jar.Args ?? [])];
    const [program, ...args] = argv;
    if (!program) return this.end(step, 1, 'the step has no command (command-runner.jar needs Args)');
    const base = stepEnvironment(this.options.env);
    if (EMR_PROGRAMS.has(program) && !onPath(program, base.PATH)) {
      return this.end(step, 127, `${program} is not installed on this machine: the local EMR runs steps as local processes and could not find ${program} in PATH. Install it, or use a command step.`);
    }
    this.processes.add(step.id);
    this.spawner.spawn(
      {
        id: step.id,
        program,
        args,
        cwd: dir,
        stdout: stdoutFile,
        stderr: stderrFile,
        env: {
          ...base,
          EMR_CLUSTER_ID: step.clusterId,
          EMR_STEP_ID: step.id,
          ...(step.executionRoleArn ? { AWS_ROLE_ARN: step.executionRoleArn, AWS_ROLE_SESSION_NAME: `emr-step-${step.id}` } : {}),
          ...(step.sourceIdentity ? { AWS_SOURCE_IDENTITY: step.sourceIdentity } : {}),
        },
      },
      {
        started: (pid) => {
          if (step.state === 'RUNNING' || step.state === 'CANCEL_PENDING') this.update(step, { pid });
          if (step.state === 'CANCEL_PENDING') this.kill(step, this.pendingKill.get(step.id) ?? 'TERMINATE_PROCESS');
        },
        exit: (code, signal) => {
          this.processes.delete(step.id);
          this.pendingKill.delete(step.id);
          if (this.stopping) return; // the stack is stopping: the step stays RUNNING and is INTERRUPTED on restart
          this.end(step, code ?? (signal ? 128 : 1), undefined, signal ?? undefined);
        },
      },
    );
  }

  private end(step: LocalStep, code: number, message?: string, signal?: string): void {
    const stderrFile = join(this.logs, step.id, 'stderr');
    if (message) appendFileSync(stderrFile, `${message}\n`);
    if (step.state === 'CANCEL_PENDING') {
      this.update(step, { state: 'CANCELLED', ended: this.now(), pid: undefined, stateChangeReason: { Message: 'Cancelled by the user.' } });
    } else if (code === 0) {
      this.update(step, { state: 'COMPLETED', ended: this.now(), pid: undefined });
    } else {
      const tail = readTail(stderrFile);
      this.update(step, {
        state: 'FAILED',
        ended: this.now(),
        pid: undefined,
        failure: { Reason: signal ? `Killed by ${signal}.` : 'Unknown Error.', Message: message ?? (tail || `The step exited with code ${code}.`), LogFile: stderrFile },
      });
      this.onFailure(step);
    }
    queueMicrotask(() => this.schedule(step.clusterId)); // not from inside a scheduling pass
  }

  /** EMR's ActionOnFailure for the rest of the cluster's steps. */
  private onFailure(step: LocalStep): void {
    if (step.actionOnFailure === 'CONTINUE') return;
    for (const other of this.steps.values()) {
      if (other.clusterId === step.clusterId && other.state === 'PENDING') {
        this.update(other, { state: 'CANCELLED', ended: this.now(), stateChangeReason: { Message: `Cancelled after step ${step.id} failed (${step.actionOnFailure}).` } });
      }
    }
    if (step.actionOnFailure === 'TERMINATE_CLUSTER' || step.actionOnFailure === 'TERMINATE_JOB_FLOW') {
      const cluster = this.clusters.get(step.clusterId)!;
      cluster.state = 'TERMINATED_WITH_ERRORS';
      this.write({ kind: 'cluster', cluster });
    }
  }

  /** Cancel modes asked for before the process had started: applied as soon as it has. */
  private readonly pendingKill = new Map<string, string>();

  private kill(step: LocalStep, mode: string): void {
    if (!this.processes.has(step.id)) return;
    if (!step.pid) {
      this.pendingKill.set(step.id, mode);
      return;
    }
    if (mode === 'TERMINATE_PROCESS') this.spawner.kill(step.id, 'SIGKILL');
    else {
      this.spawner.kill(step.id, 'SIGTERM');
      setTimeout(() => this.processes.has(step.id) && this.spawner.kill(step.id, 'SIGKILL'), (this.options.interruptGraceSeconds ?? 5) * 1000).unref();
    }
  }

  /** Stops every running step process; their steps are left RUNNING in the journal (INTERRUPTED on restart). */
  stop(): void {
    this.stopping = true;
    this.spawner.stop();
  }
}

function onPath(program: string, path = ''): boolean {
  return path.split(delimiter).some((dir) => {
    try {
      return dir && statSync(join(dir, program)).isFile();
    } catch {
      return false;
    }
  });
}

function readTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-5).join('\n').slice(-1000);
  } catch {
    return '';
  }
}

/**
 * The environment step processes inherit: the stack's own, without any AWS_* setting and with the shared AWS
 * config and credentials files pointed away, so a step cannot fall back on the developer's AWS credentials
 * (on EMR it only has its runtime role). The local EMR then adds AWS_ROLE_ARN and friends.
 */
function stepEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const rest = Object.fromEntries(Object.entries(env).filter(([key]) => !key.startsWith('AWS_')));
  return { ...rest, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_EC2_METADATA_DISABLED: 'true' };
}
