/**
 * Steps as local processes, command-runner style (the first argument is the program; any other jar runs
 * as `hadoop jar`). A step's stdout and stderr are its log files, its credentials (its runtime role's, or the
 * instance profile role's, from `credentials`) are in its environment with the SDKs' standard variables, a
 * step refused them fails without running, its exit decides COMPLETED or FAILED, and a failure applies its ActionOnFailure to the cluster's other
 * steps. CancelSteps kills the process: TERMINATE_PROCESS at once, SEND_INTERRUPT with SIGTERM first.
 * Stopping the stack ends the running steps (spawner.ts), recorded INTERRUPTED; what a stack that died could
 * not record is recorded at the next start from what really happened (`recover`). A step starts only once the
 * journal says it runs (journal.ts); its end is kept in memory if the journal cannot take it at once, and a
 * log line that cannot be written is left out: a full disk never throws out of a process's callback.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { groupMembersWithEnv } from '../procfs';
import { causeOf } from '../write-outage';
import { INTERRUPTED_MESSAGE, JournalWriteError, type EmrJournal } from './journal';
import { StepCredentialsDeniedError, type LocalStep, type StepCredentials } from './model';
import { Spawner, type StepExit } from './spawner';

/** EMR's programs; a missing one fails the step with a message that says so. */
const EMR_PROGRAMS = new Set(['spark-submit', 'hive-script', 'hive', 'pig-script', 'hadoop', 'hbase', 'presto-cli', 'trino-cli']);

export interface StepProcessOptions {
  /** Each step's stdout and stderr go to `<logsDir>/<stepId>/`. */
  logsDir: string;
  /** Where the step helper records every exit, read back by `recover`. */
  exitsFile: string;
  /** The environment step processes start from (AWS settings are removed from it). */
  env: NodeJS.ProcessEnv;
  /** AWS_REGION and AWS_DEFAULT_REGION of the steps. */
  region?: string;
  /** The credentials a step runs with; throws StepCredentialsDeniedError where IAM refuses them. None if not given. */
  credentials?: (step: Readonly<LocalStep>) => StepCredentials;
  /** AWS_ENDPOINT_URL of the steps: where their SDKs send every AWS call (the local AWS port). */
  endpointUrl?: () => string | undefined;
  /** Seconds between SIGTERM and SIGKILL for SEND_INTERRUPT. */
  interruptGraceSeconds?: number;
  /** The S3 URI of a step's stderr once uploaded (FailureDetails.LogFile, as EMR gives it), where its cluster has a LogUri. */
  stderrUri?: (step: Readonly<LocalStep>) => string | undefined;
  now: () => number;
}

export class StepProcessRunner {
  /** Steps whose process is running, by step id. */
  private readonly processes = new Set<string>();
  /** Cancel modes asked for before the process had started: applied as soon as it has. */
  private readonly pendingKill = new Map<string, string>();
  private readonly spawner: Spawner;

  constructor(
    private readonly journal: EmrJournal,
    private readonly options: StepProcessOptions,
    /** Told when a step has ended, so that the cluster's next pending step can start. */
    private readonly slotFreed: (clusterId: string) => void,
  ) {
    this.spawner = new Spawner(options.exitsFile);
  }

  logPath(stepId: string, stream: 'stdout' | 'stderr' | 'controller'): string {
    return join(this.options.logsDir, stepId, stream);
  }

  /**
   * A line of the step's controller log, EMR's account of the step (what ran, its process, its exit), in EMR's
   * words where it has them; never its environment (it holds the step's credentials). Left out if it cannot be written.
   */
  private controller(step: LocalStep, text: string, at = this.options.now()): void {
    try {
      appendFileSync(this.logPath(step.id, 'controller'), `${new Date(at).toISOString()} INFO ${text}\n`);
    } catch {
      // a log line that cannot be written is left out
    }
  }

  /** Starts a step, unless the journal cannot say so: then it stays PENDING (started once the journal takes writes). */
  start(step: LocalStep): void {
    try {
      this.journal.commit(step, { state: 'RUNNING', started: this.options.now() });
    } catch (error) {
      if (error instanceof JournalWriteError) return;
      throw error;
    }
    const dir = join(this.options.logsDir, step.id);
    const stdoutFile = join(dir, 'stdout');
    const stderrFile = join(dir, 'stderr');
    try {
      mkdirSync(dir, { recursive: true });
      appendFileSync(stdoutFile, '');
      appendFileSync(stderrFile, '');
    } catch (error) {
      return this.end(step, 1, `the local EMR could not create the step's log files in ${dir}: ${causeOf(error)}`);
    }
    const argv = step.jar.Jar === 'command-runner.jar' ? [...(step.jar.Args ?? [])] : ['hadoop', 'jar', step.jar.Jar, ...(step.jar.MainClass ? [step.jar.MainClass] : []), ...(step.jar.Args ?? [])];
    const [program, ...args] = argv;
    this.controller(step, `Ensure step ${step.id} jar file ${step.jar.Jar}`);
    this.controller(step, `startExec '${argv.join(' ')}'`);
    if (!program) return this.end(step, 1, 'the step has no command (command-runner.jar needs Args)');
    // As EMR: the credentials first (a refusal fails the step before anything runs), then the program.
    let credentials: StepCredentials | undefined;
    try {
      credentials = this.options.credentials?.(step);
    } catch (error) {
      if (error instanceof StepCredentialsDeniedError) {
        return this.end(step, 1, `Amazon EMR could not assume the role ${error.roleArn} for the step: ${error.message}${error.reason ? ` (${error.reason})` : ''}`, undefined, undefined, `Could not assume the role ${error.roleArn}.`);
      }
      return this.end(step, 1, `the local EMR could not get the step's credentials: ${causeOf(error)}`);
    }
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
        env: { ...base, EMR_CLUSTER_ID: step.clusterId, EMR_STEP_ID: step.id, ...awsEnvironment(this.options.region, this.options.endpointUrl?.(), credentials) },
      },
      {
        started: (pid) => {
          this.controller(step, `ProcessRunner started child process ${pid}`);
          if (step.state === 'RUNNING' || step.state === 'CANCEL_PENDING') this.journal.update(step, { pid });
          if (step.state === 'CANCEL_PENDING') this.kill(step, this.pendingKill.get(step.id) ?? 'TERMINATE_PROCESS');
        },
        exit: (exit) => {
          this.processes.delete(step.id);
          this.pendingKill.delete(step.id);
          this.ended(step, exit);
        },
      },
    );
  }

  /** Stops a step's process as CancelSteps' mode says; one not started yet is stopped as soon as it starts. */
  kill(step: LocalStep, mode: string): void {
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

  /**
   * Ends every step process (a cancel in progress at once, the others with SIGTERM, then SIGKILL) and records
   * each step as it ended: INTERRUPTED if the stop ended it. A step whose end was not reported in time stays
   * RUNNING, and `recover` records it at the next start.
   */
  async stop(): Promise<void> {
    for (const step of this.journal.steps.values()) if (step.state === 'CANCEL_PENDING' && this.processes.has(step.id)) this.spawner.kill(step.id, 'SIGKILL');
    await this.spawner.stop();
  }

  /**
   * At start, before any step runs: each step the journal still has RUNNING or CANCEL_PENDING lost its process
   * with the stack that ran it. It is recorded as it really ended: from its exit as the step helper recorded it
   * (COMPLETED or FAILED by its exit status, INTERRUPTED if the stop ended it, CANCELLED if a cancel was in
   * progress); a step whose process group is still there (its journaled pid, holding the step's EMR_STEP_ID)
   * is killed now and INTERRUPTED saying so; one that left no trace is INTERRUPTED.
   */
  recover(): void {
    const exits = readExits(this.options.exitsFile);
    for (const step of this.journal.steps.values()) {
      if (step.state !== 'RUNNING' && step.state !== 'CANCEL_PENDING') continue;
      const exit = exits.get(step.id);
      if (exit) {
        this.ended(step, exit);
        continue;
      }
      const leftovers = step.pid ? groupMembersWithEnv(step.pid, 'EMR_STEP_ID', step.id) : [];
      // Its group is the step's (a group's id is not reused while it has members): all of it goes.
      if (step.pid && leftovers.length) killProcess(-step.pid, ...leftovers);
      if (step.state === 'CANCEL_PENDING') {
        this.end(step, 1, undefined, undefined);
      } else {
        const Message = step.pid && leftovers.length ? `The step process (pid ${step.pid}) was still running after the local EMR had stopped; it was killed when the local EMR started again.` : INTERRUPTED_MESSAGE;
        this.journal.update(step, { state: 'INTERRUPTED', ended: this.options.now(), pid: undefined, stateChangeReason: { Message } });
      }
    }
    // Every exit in it is journaled now, unless the journal is behind: then it stays for the next start to read.
    if (this.journal.behind) return;
    try {
      writeFileSync(this.options.exitsFile, '');
    } catch {
      // kept: a later start finds those steps ended already and reads nothing more from it
    }
  }

  /** A step's process has ended, as `exit` says (reported by the helper now, or read back at start). */
  private ended(step: LocalStep, exit: Omit<StepExit, 'id'>): void {
    if (step.state !== 'RUNNING' && step.state !== 'CANCEL_PENDING') return;
    if (exit.stopped && step.state === 'RUNNING') {
      this.journal.update(step, { state: 'INTERRUPTED', ended: exit.at, pid: undefined, stateChangeReason: { Message: INTERRUPTED_MESSAGE } });
      queueMicrotask(() => this.slotFreed(step.clusterId));
      return;
    }
    this.end(step, exit.code ?? (exit.signal ? 128 : 1), undefined, exit.signal ?? undefined, exit.at);
  }

  /** Ends a step as its exit `code` says; `message` (also appended to its stderr) and `reason` are its FailureDetails. */
  private end(step: LocalStep, code: number, message?: string, signal?: string, at?: number, reason?: string): void {
    const stderrFile = this.logPath(step.id, 'stderr');
    if (message) {
      try {
        appendFileSync(stderrFile, `${message}\n`);
      } catch {
        // the message is in the step's FailureDetails all the same
      }
    }
    const now = (): number => at ?? this.options.now();
    const took = Math.max(0, Math.round((now() - (step.started ?? now())) / 1000));
    this.controller(step, `waitProcessCompletion ended with exit code ${code}`, now());
    this.controller(step, step.state === 'CANCEL_PENDING' ? `Step ${step.id} was cancelled after ${took} seconds` : `Step ${code === 0 ? 'succeeded' : 'failed'} with exitCode ${code} and took ${took} seconds`, now());
    if (step.state === 'CANCEL_PENDING') {
      this.journal.update(step, { state: 'CANCELLED', ended: now(), pid: undefined, stateChangeReason: { Message: 'Cancelled by the user.' } });
    } else if (code === 0) {
      this.journal.update(step, { state: 'COMPLETED', ended: now(), pid: undefined });
    } else {
      const tail = readTail(stderrFile);
      this.journal.update(step, {
        state: 'FAILED',
        ended: now(),
        pid: undefined,
        failure: { Reason: reason ?? (signal ? `Killed by ${signal}.` : 'Unknown Error.'), Message: message ?? (tail || `The step exited with code ${code}.`), LogFile: this.options.stderrUri?.(step) ?? stderrFile },
      });
      this.applyActionOnFailure(step);
    }
    queueMicrotask(() => this.slotFreed(step.clusterId)); // not from inside a scheduling pass
  }

  /**
   * EMR's ActionOnFailure for the rest of the cluster: CONTINUE leaves it alone; any other action cancels the
   * cluster's pending steps (running ones carry on), and TERMINATE_CLUSTER / TERMINATE_JOB_FLOW also end the
   * cluster (TERMINATED_WITH_ERRORS: it takes no more steps).
   */
  private applyActionOnFailure(step: LocalStep): void {
    if (step.actionOnFailure === 'CONTINUE') return;
    for (const other of this.journal.steps.values()) {
      if (other.clusterId === step.clusterId && other.state === 'PENDING') {
        this.journal.update(other, { state: 'CANCELLED', ended: this.options.now(), stateChangeReason: { Message: `Cancelled after step ${step.id} failed (${step.actionOnFailure}).` } });
      }
    }
    if (step.actionOnFailure === 'TERMINATE_CLUSTER' || step.actionOnFailure === 'TERMINATE_JOB_FLOW') {
      this.journal.updateCluster(this.journal.clusters.get(step.clusterId)!, { state: 'TERMINATED_WITH_ERRORS' });
    }
  }
}

/** The exits the step helper recorded, the last of each step. */
function readExits(file: string): Map<string, StepExit> {
  const exits = new Map<string, StepExit>();
  if (!existsSync(file)) return exits;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    try {
      const exit = JSON.parse(line) as StepExit;
      if (typeof exit.id === 'string' && typeof exit.at === 'number') exits.set(exit.id, exit);
    } catch {
      // an empty line, or one torn when the helper was killed
    }
  }
  return exits;
}

/** SIGKILL to each target (a pid, or a negative process group id) that still exists. */
function killProcess(...targets: number[]): void {
  for (const target of targets) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // gone already
    }
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
 * (on EMR it only has its runtime role). The runner then adds the step's own (awsEnvironment).
 */
function stepEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const rest = Object.fromEntries(Object.entries(env).filter(([key]) => !key.startsWith('AWS_')));
  return { ...rest, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_EC2_METADATA_DISABLED: 'true' };
}

/**
 * A step's AWS settings, in the variables every SDK and the AWS CLI read: its credentials, the region, and
 * AWS_ENDPOINT_URL (SDKs and AWS CLI 2.13+; an older CLI needs --endpoint-url). Variables cannot be refreshed: a
 * step that outlives its credentials (an hour, role chaining's longest) gets ExpiredToken from then on, where EMR
 * would refresh them through its own credential provider.
 */
function awsEnvironment(region: string | undefined, endpointUrl: string | undefined, credentials: StepCredentials | undefined): NodeJS.ProcessEnv {
  return {
    ...(region ? { AWS_REGION: region, AWS_DEFAULT_REGION: region } : {}),
    ...(endpointUrl ? { AWS_ENDPOINT_URL: endpointUrl } : {}),
    ...(credentials
      ? {
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          AWS_SESSION_TOKEN: credentials.sessionToken,
          AWS_CREDENTIAL_EXPIRATION: credentials.expiration.toISOString(),
        }
      : {}),
  };
}
