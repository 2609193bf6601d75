/**
 * The local EMR on its own (no stack): ActionOnFailure after a failed step, and the journal read back after a
 * stop. Steps are real processes (bash -c), each a few milliseconds; a step that must stay running waits for a
 * file the test creates, so no assertion depends on timing.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { LocalEmr, type LocalEmrOptions } from '../../src/local/emr/api';
import { StepCredentialsDeniedError } from '../../src/local/emr/model';
import { LocalServiceError } from '../../src/local/errors';
import { thrown } from '../support/thrown';
import { until as waitUntil } from '../support/wait';
import { EMR_TERMINAL_STATES } from '../../src/jobs/model';

jest.setTimeout(30_000);

const CLUSTER = 'j-1LOCALUNITTEST';
const TERMINAL: readonly string[] = EMR_TERMINAL_STATES;

const dirs: string[] = [];
const emrs: LocalEmr[] = [];

afterEach(async () => {
  await Promise.all(emrs.splice(0).map((emr) => emr.stop()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
});

function newDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'emr-gateway-local-emr-'));
  dirs.push(dir);
  return dir;
}

/** A local EMR on `dataDir`; the cluster is created unless the journal is to be read back as it is. */
function startEmr(dataDir: string, cluster?: { stepConcurrencyLevel: number }, options: Partial<Pick<LocalEmrOptions, 'interruptGraceSeconds' | 'stepCredentials' | 'stepEndpointUrl' | 'holdSteps' | 'env'>> = {}): LocalEmr {
  const emr = new LocalEmr({ dataDir, region: 'us-east-1', account: '123456789012', env: { PATH: process.env.PATH }, ...options });
  emrs.push(emr);
  if (cluster) emr.ensureCluster({ id: CLUSTER, name: 'unit', runtimeRoles: false, propagateSourceIdentity: false, ...cluster });
  return emr;
}

function bash(name: string, script: string, actionOnFailure?: string) {
  return { Name: name, ...(actionOnFailure ? { ActionOnFailure: actionOnFailure } : {}), HadoopJarStep: { Jar: 'command-runner.jar', Args: ['bash', '-c', script] } };
}

function add(emr: LocalEmr, ...steps: ReturnType<typeof bash>[]): string[] {
  return emr.addJobFlowSteps({ JobFlowId: CLUSTER, Steps: steps }).StepIds;
}

/** DescribeStep's Status of a step. */
function status(emr: LocalEmr, stepId: string): Record<string, unknown> {
  return emr.describeStep({ ClusterId: CLUSTER, StepId: stepId }).Step.Status as Record<string, unknown>;
}

function clusterState(emr: LocalEmr): unknown {
  return (emr.describeCluster({ ClusterId: CLUSTER }).Cluster.Status as { State: string }).State;
}

async function until(what: string, probe: () => boolean, timeoutMs = 10_000): Promise<void> {
  await waitUntil(() => Promise.resolve(probe() ? true : undefined), { what, timeoutMs, intervalMs: 10 });
}

const settled = (emr: LocalEmr, ids: string[]) => until(`${ids.join(', ')} to end`, () => ids.every((id) => TERMINAL.includes(emr.steps.get(id)!.state)));
const running = (emr: LocalEmr, ids: string[]) => until(`${ids.join(', ')} to run`, () => ids.every((id) => emr.steps.get(id)!.pid !== undefined));


describe('ActionOnFailure', () => {
  it('CONTINUE (also the default): the next steps run, the cluster keeps going', async () => {
    const emr = startEmr(newDataDir(), { stepConcurrencyLevel: 1 });
    const [failed, next, defaulted] = add(emr, bash('fails', 'echo boom >&2; exit 3', 'CONTINUE'), bash('next', 'exit 4'), bash('after', 'true'));
    await settled(emr, [failed!, next!, defaulted!]);
    expect(status(emr, failed!)).toMatchObject({ State: 'FAILED', FailureDetails: { Reason: 'Unknown Error.', Message: 'boom' } });
    // `next` had no ActionOnFailure: CONTINUE, so its failure did not stop `after` either.
    expect(emr.describeStep({ ClusterId: CLUSTER, StepId: next! }).Step.ActionOnFailure).toBe('CONTINUE');
    expect(status(emr, next!)).toMatchObject({ State: 'FAILED', FailureDetails: { Message: 'The step exited with code 4.' } });
    expect(status(emr, defaulted!).State).toBe('COMPLETED');
    expect(clusterState(emr)).toBe('WAITING');
  });

  it("CANCEL_AND_WAIT: the cluster's pending steps are cancelled, the cluster takes new ones", async () => {
    const emr = startEmr(newDataDir(), { stepConcurrencyLevel: 1 });
    const [failed, second, third] = add(emr, bash('fails', 'exit 1', 'CANCEL_AND_WAIT'), bash('second', 'true'), bash('third', 'true'));
    await settled(emr, [failed!, second!, third!]);
    expect(status(emr, failed!).State).toBe('FAILED');
    for (const id of [second!, third!]) {
      const cancelled = status(emr, id);
      expect(cancelled).toMatchObject({ State: 'CANCELLED', StateChangeReason: { Message: `Cancelled after step ${failed} failed (CANCEL_AND_WAIT).` } });
      expect(cancelled.Timeline).not.toHaveProperty('StartDateTime'); // it never ran
    }
    expect(clusterState(emr)).toBe('WAITING');
    const [later] = add(emr, bash('later', 'true'));
    await settled(emr, [later!]);
    expect(status(emr, later!).State).toBe('COMPLETED');
  });

  it.each(['TERMINATE_CLUSTER', 'TERMINATE_JOB_FLOW'])('%s: pending steps are cancelled, the cluster ends TERMINATED_WITH_ERRORS and refuses steps, also after a restart', async (action) => {
    const dataDir = newDataDir();
    const emr = startEmr(dataDir, { stepConcurrencyLevel: 1 });
    const [failed, pending] = add(emr, bash('fails', 'exit 1', action), bash('pending', 'true'));
    await settled(emr, [failed!, pending!]);
    expect(status(emr, failed!).State).toBe('FAILED');
    expect(status(emr, pending!)).toMatchObject({ State: 'CANCELLED', StateChangeReason: { Message: `Cancelled after step ${failed} failed (${action}).` } });
    expect(clusterState(emr)).toBe('TERMINATED_WITH_ERRORS');
    const refusal = thrown(() => add(emr, bash('refused', 'true')));
    expect(refusal).toBeInstanceOf(LocalServiceError);
    expect(refusal).toMatchObject({ type: 'ValidationException', status: 400, message: 'A job flow that is shutting down, terminated, or finished may not be modified.' });
    await emr.stop();
    expect(clusterState(startEmr(dataDir))).toBe('TERMINATED_WITH_ERRORS');
  });

  it('cancels only pending steps: a step already running carries on to its own end', async () => {
    const dir = newDataDir();
    const go = join(dir, 'go');
    const emr = startEmr(dir, { stepConcurrencyLevel: 2 });
    const [failed, busy, pending] = add(emr, bash('fails', 'exit 1', 'TERMINATE_CLUSTER'), bash('busy', `while [ ! -e '${go}' ]; do sleep 0.02; done`), bash('pending', 'true'));
    await settled(emr, [failed!]);
    expect(emr.steps.get(busy!)!.state).toBe('RUNNING');
    expect(status(emr, pending!).State).toBe('CANCELLED');
    writeFileSync(go, '');
    await settled(emr, [busy!]);
    expect(status(emr, busy!).State).toBe('COMPLETED');
    expect(clusterState(emr)).toBe('TERMINATED_WITH_ERRORS');
  });
});

describe('the journal, read back after the local EMR stopped', () => {
  it('brings a running step back INTERRUPTED, a cancel in progress CANCELLED, finished steps as they were, and runs the pending ones', async () => {
    const dataDir = newDataDir();
    const first = startEmr(dataDir, { stepConcurrencyLevel: 2 }, { interruptGraceSeconds: 60 });
    const [done, failed] = add(first, bash('done', 'echo ok'), bash('failed', 'echo bad >&2; exit 2'));
    await settled(first, [done!, failed!]);
    const finished = [done!, failed!].map((id) => first.describeStep({ ClusterId: CLUSTER, StepId: id }));
    expect(finished.map((d) => (d.Step.Status as { State: string }).State)).toEqual(['COMPLETED', 'FAILED']);

    // Two steps fill both slots: one runs, one ignores SIGTERM (once it says so) so that its cancel stays
    // CANCEL_PENDING; a third waits for a slot.
    const ready = join(dataDir, 'stubborn-ready');
    const [busy, stubborn, waiting] = add(first, bash('busy', 'sleep 30'), bash('stubborn', `trap '' TERM; touch '${ready}'; sleep 30`), bash('waiting', 'echo later'));
    await running(first, [busy!, stubborn!]);
    await until('the stubborn step to ignore SIGTERM', () => existsSync(ready));
    expect(first.cancelSteps({ ClusterId: CLUSTER, StepIds: [stubborn!], StepCancellationOption: 'SEND_INTERRUPT' }).CancelStepsInfoList).toEqual([{ StepId: stubborn, Status: 'SUBMITTED' }]);
    expect([busy, stubborn, waiting].map((id) => first.steps.get(id!)!.state)).toEqual(['RUNNING', 'CANCEL_PENDING', 'PENDING']);
    const started = (status(first, busy!).Timeline as { StartDateTime: number }).StartDateTime;
    await first.stop();

    const second = startEmr(dataDir);
    const interrupted = status(second, busy!);
    expect(interrupted).toMatchObject({ State: 'INTERRUPTED', StateChangeReason: { Message: 'The step process ended when the local EMR stopped.' }, Timeline: { StartDateTime: started } });
    expect(interrupted.Timeline).toHaveProperty('EndDateTime');
    expect(status(second, stubborn!)).toMatchObject({ State: 'CANCELLED', Timeline: { EndDateTime: expect.any(Number) } });
    for (const [i, id] of [done!, failed!].entries()) expect(second.describeStep({ ClusterId: CLUSTER, StepId: id })).toEqual(finished[i]);
    expect(readFileSync(second.logFile(done!, 'stdout')!, 'utf8')).toBe('ok\n');

    await settled(second, [waiting!]);
    expect(status(second, waiting!).State).toBe('COMPLETED');
  });

  it('skips a line torn by a crash, keeps the last record of each step, and journals the next change on a line of its own', async () => {
    const dataDir = newDataDir();
    const journal = join(dataDir, 'emr', 'journal.jsonl');
    const first = startEmr(dataDir, { stepConcurrencyLevel: 1 });
    await first.stop(); // only the cluster and its security configuration are journaled
    const step = { id: 's-1TORN', clusterId: CLUSTER, name: 'n', actionOnFailure: 'CONTINUE', jar: { Jar: 'command-runner.jar', Args: ['true'] }, created: 1_000 };
    appendFileSync(journal, `${JSON.stringify({ kind: 'step', step: { ...step, state: 'RUNNING', started: 2_000 } })}\n`);
    appendFileSync(journal, `${JSON.stringify({ kind: 'step', step: { ...step, state: 'COMPLETED', started: 2_000, ended: 3_000 } })}\n`);
    appendFileSync(journal, '{"kind":"step","step":{"id":"s-1TORN","sta');
    expect(existsSync(journal)).toBe(true);

    const second = startEmr(dataDir);
    expect(status(second, 's-1TORN')).toEqual({ State: 'COMPLETED', Timeline: { CreationDateTime: 1, StartDateTime: 2, EndDateTime: 3 } });

    // What is journaled next starts a line of its own: it is not lost in the torn one.
    const { JobFlowId } = second.runJobFlow({ Name: 'after the torn line' });
    await second.stop();
    expect(startEmr(dataDir).describeCluster({ ClusterId: JobFlowId }).Cluster).toMatchObject({ Id: JobFlowId, Name: 'after the torn line' });
  });
});

describe('no step process outlives the local EMR, and what a dead stack could not record is recorded truly at start', () => {
  /** Whether a process exists and is not a zombie. */
  function alive(pid: number): boolean {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
    } catch {
      return false;
    }
  }
  const linux = existsSync('/proc/self/stat');
  const onLinux = linux ? it : it.skip;

  /** A step that writes its pid and its child's to `file`, then waits for the child. */
  const sleeper = (name: string, file: string) => bash(name, `echo $$ >> '${file}'; sleep 300 & echo $! >> '${file}'; wait`);
  const pidsIn = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map(Number) : []);

  /** A journal line for a step that was RUNNING (with `pid`) when its stack went away. */
  function runningLine(id: string, pid: number): string {
    const step = { id, clusterId: CLUSTER, name: id, actionOnFailure: 'CONTINUE', jar: { Jar: 'command-runner.jar', Args: ['true'] }, created: 1_000, started: 2_000, state: 'RUNNING', pid };
    return `${JSON.stringify({ kind: 'step', step })}\n`;
  }

  onLinux('stop ends each running step, the children it started too, and records it INTERRUPTED then', async () => {
    const dataDir = newDataDir();
    const file = join(dataDir, 'pids');
    const emr = startEmr(dataDir, { stepConcurrencyLevel: 1 });
    const [id] = add(emr, sleeper('sleeper', file));
    await until('both pids written', () => pidsIn(file).length === 2);
    const pids = pidsIn(file);
    expect(pids.every(alive)).toBe(true);
    await emr.stop();
    expect(pids.filter(alive)).toEqual([]);
    const stopped = status(emr, id!);
    expect(stopped).toMatchObject({ State: 'INTERRUPTED', StateChangeReason: { Message: 'The step process ended when the local EMR stopped.' }, Timeline: { EndDateTime: expect.any(Number) } });
    expect(status(startEmr(dataDir), id!)).toEqual(stopped); // journaled as it was
  });

  onLinux('a step that completed, or failed, when no stack was there to record it: COMPLETED or FAILED from the exit status the helper recorded', async () => {
    const dataDir = newDataDir();
    await startEmr(dataDir, { stepConcurrencyLevel: 2 }).stop();
    appendFileSync(join(dataDir, 'emr', 'journal.jsonl'), runningLine('s-1COMPLETED', 999_999) + runningLine('s-1FAILED', 999_998));
    writeFileSync(join(dataDir, 'emr', 'exits.jsonl'), [
      { id: 's-1COMPLETED', pid: 999_999, code: 0, signal: null, stopped: false, at: 5_000 },
      { id: 's-1FAILED', pid: 999_998, code: 3, signal: null, stopped: false, at: 6_000 },
    ].map((e) => `${JSON.stringify(e)}\n`).join('') + '{"id":"s-1FAI');
    mkdirSync(join(dataDir, 'emr', 'steps', 's-1FAILED'), { recursive: true });
    writeFileSync(join(dataDir, 'emr', 'steps', 's-1FAILED', 'stderr'), 'bad input\n');

    const emr = startEmr(dataDir);
    expect(status(emr, 's-1COMPLETED')).toEqual({ State: 'COMPLETED', Timeline: { CreationDateTime: 1, StartDateTime: 2, EndDateTime: 5 } });
    expect(status(emr, 's-1FAILED')).toMatchObject({ State: 'FAILED', FailureDetails: { Reason: 'Unknown Error.', Message: 'bad input' }, Timeline: { EndDateTime: 6 } });
    expect(readFileSync(join(dataDir, 'emr', 'exits.jsonl'), 'utf8')).toBe(''); // consumed
  });

  onLinux('a step whose process group outlived its stack is killed at start and INTERRUPTED saying so; a pid now of another process is left alone', async () => {
    const dataDir = newDataDir();
    await startEmr(dataDir, { stepConcurrencyLevel: 2 }).stop();
    const leftover = spawn('sleep', ['300'], { detached: true, stdio: 'ignore', env: { ...process.env, EMR_STEP_ID: 's-1LEFTOVER' } });
    const unrelated = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    try {
      await until('both sleeping', () => alive(leftover.pid!) && alive(unrelated.pid!));
      appendFileSync(join(dataDir, 'emr', 'journal.jsonl'), runningLine('s-1LEFTOVER', leftover.pid!) + runningLine('s-1REUSEDPID', unrelated.pid!));

      const emr = startEmr(dataDir);
      await until('the leftover killed', () => !alive(leftover.pid!));
      expect(status(emr, 's-1LEFTOVER')).toMatchObject({
        State: 'INTERRUPTED',
        StateChangeReason: { Message: `The step process (pid ${leftover.pid}) was still running after the local EMR had stopped; it was killed when the local EMR started again.` },
      });
      expect(alive(unrelated.pid!)).toBe(true);
      expect(status(emr, 's-1REUSEDPID')).toMatchObject({ State: 'INTERRUPTED', StateChangeReason: { Message: 'The step process ended when the local EMR stopped.' } });
    } finally {
      leftover.kill('SIGKILL');
      unrelated.kill('SIGKILL');
    }
  });

  onLinux('the step helper dying on its own takes its steps with it (FAILED, saying so), and a new helper runs the next ones', async () => {
    const dataDir = newDataDir();
    const file = join(dataDir, 'pids');
    const emr = startEmr(dataDir, { stepConcurrencyLevel: 2 });
    const [id] = add(emr, sleeper('sleeper', file));
    await until('both pids written', () => pidsIn(file).length === 2);
    const exits = join(dataDir, 'emr', 'exits.jsonl');
    const helpers = readdirSync('/proc').filter((p) => /^\d+$/.test(p) && alive(Number(p))).filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(exits);
      } catch {
        return false;
      }
    });
    expect(helpers).toHaveLength(1);
    process.kill(Number(helpers[0]), 'SIGKILL');
    await settled(emr, [id!]);
    expect(pidsIn(file).filter(alive)).toEqual([]);
    expect(status(emr, id!)).toMatchObject({ State: 'FAILED', FailureDetails: { Reason: 'Killed by SIGKILL.', Message: expect.stringContaining("the local EMR's step helper process ended unexpectedly: the step was killed") } });
    const [next] = add(emr, bash('next', 'echo again'));
    await settled(emr, [next!]);
    expect(status(emr, next!).State).toBe('COMPLETED');
  });
});

describe('clusters and security configurations as EMR describes them', () => {
  const runtimeCluster = { id: CLUSTER, name: 'unit', runtimeRoles: true, propagateSourceIdentity: true, stepConcurrencyLevel: 2 };

  it("DescribeCluster reports the cluster's release, applications, instance profile, security configuration and the members EMR always returns", () => {
    const emr = startEmr(newDataDir());
    emr.ensureCluster({ ...runtimeCluster, local: { releaseLabel: 'emr-6.15.0', applications: ['Spark', 'Livy'], instanceProfile: 'TeamNodes', primaryNodes: 1 } });
    const { Cluster } = emr.describeCluster({ ClusterId: CLUSTER });
    expect(Cluster).toMatchObject({
      Id: CLUSTER,
      ReleaseLabel: 'emr-6.15.0',
      Applications: [{ Name: 'Spark', Version: expect.stringMatching(/^\d+\.\d+\.\d+/) }, { Name: 'Livy', Version: expect.any(String) }],
      Ec2InstanceAttributes: { IamInstanceProfile: 'TeamNodes', Ec2AvailabilityZone: 'us-east-1a' },
      SecurityConfiguration: `emr-gateway-${CLUSTER}`,
      ServiceRole: 'EMR_DefaultRole',
      AutoTerminate: false,
      TerminationProtected: false,
      VisibleToAllUsers: true,
      Tags: [],
      Configurations: [],
      ScaleDownBehavior: 'TERMINATE_AT_TASK_COMPLETION',
      NormalizedInstanceHours: expect.any(Number),
      StepConcurrencyLevel: 2,
      Status: { State: 'WAITING', StateChangeReason: expect.any(Object), Timeline: expect.any(Object) },
    });
  });

  it('defaults to what `aws emr create-cluster --use-default-roles` with Spark and Hive makes, and counts the primary nodes in the MASTER group', () => {
    const emr = startEmr(newDataDir());
    emr.ensureCluster(runtimeCluster);
    expect(emr.describeCluster({ ClusterId: CLUSTER }).Cluster).toMatchObject({ ReleaseLabel: 'emr-7.5.0', Applications: [{ Name: 'Spark' }, { Name: 'Hive' }], Ec2InstanceAttributes: { IamInstanceProfile: 'EMR_EC2_DefaultRole' } });
    const master = () => emr.listInstanceGroups({ ClusterId: CLUSTER }).InstanceGroups.find((g) => g.InstanceGroupType === 'MASTER');
    expect(master()).toMatchObject({ RequestedInstanceCount: 1, RunningInstanceCount: 1 });
    emr.ensureCluster({ ...runtimeCluster, local: { releaseLabel: 'emr-7.5.0', applications: ['Spark'], instanceProfile: 'EMR_EC2_DefaultRole', primaryNodes: 3 } });
    expect(master()).toMatchObject({ RequestedInstanceCount: 3, RunningInstanceCount: 3 });
    expect(emr.clusters.get(CLUSTER)?.instanceProfile).toBe('EMR_EC2_DefaultRole');
  });

  it('a cluster journaled before these members existed is described with the defaults; a line of no known kind is skipped, not a crash', () => {
    const dataDir = newDataDir();
    mkdirSync(join(dataDir, 'emr'), { recursive: true });
    writeFileSync(
      join(dataDir, 'emr', 'journal.jsonl'),
      [{ kind: 'cluster', cluster: { id: CLUSTER, name: 'old', stepConcurrencyLevel: 1, state: 'WAITING', created: 1 } }, { type: 'cluster' }, { kind: 'step' }, null].map((e) => `${JSON.stringify(e)}\n`).join(''),
    );
    expect(startEmr(dataDir).describeCluster({ ClusterId: CLUSTER }).Cluster).toMatchObject({ Name: 'old', ReleaseLabel: 'emr-7.5.0', Ec2InstanceAttributes: { IamInstanceProfile: 'EMR_EC2_DefaultRole' } });
  });

  it("DescribeSecurityConfiguration shows the ExternalId EMR generated (48 characters of base32), the same after a restart and after the configuration's other settings change", () => {
    const dataDir = newDataDir();
    const emr = startEmr(dataDir);
    emr.ensureCluster(runtimeCluster);
    const described = () => JSON.parse(emr.describeSecurityConfiguration({ Name: `emr-gateway-${CLUSTER}` }).SecurityConfiguration) as { AuthorizationConfiguration: { IAMConfiguration: { EnableApplicationScopedIAMRole: boolean; ApplicationScopedIAMRoleConfiguration: { PropagateSourceIdentity: boolean; ExternalId: string } } } };
    const iamConfig = described().AuthorizationConfiguration.IAMConfiguration;
    expect(iamConfig).toEqual({ EnableApplicationScopedIAMRole: true, ApplicationScopedIAMRoleConfiguration: { PropagateSourceIdentity: true, ExternalId: expect.stringMatching(/^[A-Z2-7]{48}$/) } });
    const externalId = iamConfig.ApplicationScopedIAMRoleConfiguration.ExternalId;
    emr.ensureCluster({ ...runtimeCluster, propagateSourceIdentity: false });
    expect(described().AuthorizationConfiguration.IAMConfiguration.ApplicationScopedIAMRoleConfiguration).toEqual({ PropagateSourceIdentity: false, ExternalId: externalId });

    // One made through the API gets one too; one without runtime roles has none.
    emr.createSecurityConfiguration({ Name: 'made', SecurityConfiguration: JSON.stringify({ AuthorizationConfiguration: { IAMConfiguration: { EnableApplicationScopedIAMRole: true } } }) });
    emr.createSecurityConfiguration({ Name: 'plain', SecurityConfiguration: JSON.stringify({ EncryptionConfiguration: { EnableInTransitEncryption: false, EnableAtRestEncryption: false } }) });
    const made = JSON.parse(emr.describeSecurityConfiguration({ Name: 'made' }).SecurityConfiguration) as { AuthorizationConfiguration: { IAMConfiguration: { ApplicationScopedIAMRoleConfiguration?: { ExternalId?: string } } } };
    expect(made.AuthorizationConfiguration.IAMConfiguration.ApplicationScopedIAMRoleConfiguration?.ExternalId).toMatch(/^[A-Z2-7]{48}$/);
    expect(made.AuthorizationConfiguration.IAMConfiguration.ApplicationScopedIAMRoleConfiguration?.ExternalId).not.toBe(externalId);
    expect(emr.describeSecurityConfiguration({ Name: 'plain' }).SecurityConfiguration).not.toContain('ExternalId');
  });

  it('RunJobFlow takes the release, applications, instance profile and primary node count, and refuses a release EMR does not have', () => {
    const emr = startEmr(newDataDir());
    const { JobFlowId } = emr.runJobFlow({ Name: 'made', ReleaseLabel: 'emr-6.5.0', Applications: [{ Name: 'Hadoop' }], JobFlowRole: 'Nodes', Instances: { InstanceGroups: [{ InstanceRole: 'MASTER', InstanceCount: 3 }] } });
    expect(emr.describeCluster({ ClusterId: JobFlowId }).Cluster).toMatchObject({ ReleaseLabel: 'emr-6.5.0', Applications: [{ Name: 'Hadoop' }], Ec2InstanceAttributes: { IamInstanceProfile: 'Nodes' } });
    expect(emr.listInstanceGroups({ ClusterId: JobFlowId }).InstanceGroups.find((g) => g.InstanceGroupType === 'MASTER')).toMatchObject({ RequestedInstanceCount: 3 });
    expect(thrown(() => emr.runJobFlow({ Name: 'bad', ReleaseLabel: 'emr-9' }))).toMatchObject({ type: 'ValidationException' });
  });
});
describe("a step's credentials (the stackless part: stepCredentials as given; from the local STS in e2e/step-credentials.test.ts)", () => {
  const KEYS = { accessKeyId: 'ASIASTEPSTEPSTEPSTEP', secretAccessKey: 'step-secret', sessionToken: 'step-token', expiration: new Date('2030-01-01T00:00:00Z') };

  it("are in the step's environment with the region and AWS_ENDPOINT_URL, none of the stack's own AWS settings", async () => {
    const dataDir = newDataDir();
    const emr = startEmr(
      dataDir,
      { stepConcurrencyLevel: 1 },
      { env: { PATH: process.env.PATH, AWS_ACCESS_KEY_ID: 'AKIASTACKOWNKEY00000', AWS_PROFILE: 'developer' }, stepCredentials: () => KEYS, stepEndpointUrl: () => 'http://127.0.0.1:4566' },
    );
    const [id] = add(emr, bash('env', 'env | grep ^AWS_ | sort'));
    await settled(emr, [id!]);
    expect(readFileSync(join(dataDir, 'emr', 'steps', id!, 'stdout'), 'utf8').trim().split('\n')).toEqual([
      'AWS_ACCESS_KEY_ID=ASIASTEPSTEPSTEPSTEP',
      'AWS_CONFIG_FILE=/dev/null',
      'AWS_CREDENTIAL_EXPIRATION=2030-01-01T00:00:00.000Z',
      'AWS_DEFAULT_REGION=us-east-1',
      'AWS_EC2_METADATA_DISABLED=true',
      'AWS_ENDPOINT_URL=http://127.0.0.1:4566',
      'AWS_REGION=us-east-1',
      'AWS_SECRET_ACCESS_KEY=step-secret',
      'AWS_SESSION_TOKEN=step-token',
      'AWS_SHARED_CREDENTIALS_FILE=/dev/null',
    ]);
  });

  it('refused: the step FAILED without running, FailureDetails and stderr naming the role and the denial; ActionOnFailure applies', async () => {
    const dataDir = newDataDir();
    const role = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';
    const denied = new StepCredentialsDeniedError(role, `User: arn:aws:sts::123456789012:assumed-role/EMR_EC2_DefaultRole/i-0abc is not authorized to perform: sts:AssumeRole on resource: ${role}`, 'sts:AssumeRole: no statement matched');
    const emr = startEmr(dataDir, { stepConcurrencyLevel: 1 }, { stepCredentials: (step) => (step.name === 'refused' ? thrownBy(denied) : KEYS) });
    const marker = join(dataDir, 'ran');
    const [refused, pending] = add(emr, bash('refused', `touch ${marker}`, 'CANCEL_AND_WAIT'), bash('pending', 'true'));
    await settled(emr, [refused!, pending!]);
    expect(existsSync(marker)).toBe(false);
    expect(status(emr, refused!)).toMatchObject({
      State: 'FAILED',
      FailureDetails: { Reason: `Could not assume the role ${role}.`, Message: `Amazon EMR could not assume the role ${role} for the step: ${denied.message} (sts:AssumeRole: no statement matched)`, LogFile: expect.stringContaining(`${refused}/stderr`) },
    });
    expect(readFileSync(join(dataDir, 'emr', 'steps', refused!, 'stderr'), 'utf8')).toContain(denied.message);
    expect(status(emr, pending!).State).toBe('CANCELLED');
    // Any other failure to get them fails the step too, saying so: never a step left RUNNING.
    const broken = startEmr(newDataDir(), { stepConcurrencyLevel: 1 }, { stepCredentials: () => thrownBy(new Error('the STS is gone')) });
    const [other] = add(broken, bash('other', 'true'));
    await settled(broken, [other!]);
    expect(status(broken, other!)).toMatchObject({ State: 'FAILED', FailureDetails: { Message: expect.stringContaining("could not get the step's credentials: the STS is gone") } });
  });

  it('holdSteps: nothing starts before startSteps(), then the pending steps do', async () => {
    const emr = startEmr(newDataDir(), { stepConcurrencyLevel: 1 }, { holdSteps: true });
    const [id] = add(emr, bash('held', 'true'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(emr.steps.get(id!)!.state).toBe('PENDING');
    emr.startSteps();
    await settled(emr, [id!]);
    expect(status(emr, id!).State).toBe('COMPLETED');
  });
});

function thrownBy(error: Error): never {
  throw error;
}

describe("the steps' logs under the cluster's LogUri (EMR's log pusher)", () => {
  const LOG_URI = 's3://aws-logs-123456789012-us-east-1/elasticmapreduce/';
  /** What the sink was given, by bucket/key, decompressed, and each upload in order. */
  function recordingSink() {
    const objects = new Map<string, string>();
    const puts: string[] = [];
    return { objects, puts, put: (bucket: string, key: string, body: Buffer) => void (puts.push(`${bucket}/${key}`), objects.set(`${bucket}/${key}`, gunzipSync(body).toString('utf8'))) };
  }
  const logEmr = (sink: ReturnType<typeof recordingSink>, logUri: string | null = LOG_URI) => {
    const emr = new LocalEmr({ dataDir: newDataDir(), region: 'us-east-1', account: '123456789012', env: { PATH: process.env.PATH }, stepLogSink: sink, logUploadIntervalMs: 50 });
    emrs.push(emr);
    emr.ensureCluster({ id: CLUSTER, name: 'unit', runtimeRoles: false, propagateSourceIdentity: false, stepConcurrencyLevel: 2, ...(logUri ? { logUri } : {}) });
    return emr;
  };

  it('uploads controller, stdout and stderr gzipped as CLUSTER/steps/STEP/NAME.gz while the step runs and at its end; DescribeCluster has the LogUri', async () => {
    const sink = recordingSink();
    const emr = logEmr(sink);
    expect(emr.describeCluster({ ClusterId: CLUSTER }).Cluster.LogUri).toBe(LOG_URI);
    const gate = join(newDataDir(), 'go');
    const [id] = add(emr, bash('logs', `echo first; echo warn >&2; while [ ! -e ${gate} ]; do sleep 0.02; done; echo second`));
    const key = (name: string) => `aws-logs-123456789012-us-east-1/elasticmapreduce/${CLUSTER}/steps/${id!}/${name}.gz`;
    // While it runs: what it has written so far.
    await until('the running step\'s stdout to be uploaded', () => sink.objects.get(key('stdout')) === 'first\n');
    expect(sink.objects.get(key('stderr'))).toBe('warn\n');
    expect(sink.objects.get(key('controller'))).toMatch(/INFO startExec 'bash -c echo first;/);
    writeFileSync(gate, '');
    await settled(emr, [id!]);
    // Its end is uploaded before it is announced: the logs are complete once the step has ended.
    expect(sink.objects.get(key('stdout'))).toBe('first\nsecond\n');
    expect(sink.objects.get(key('controller'))).toMatch(/INFO Step succeeded with exitCode 0 and took \d+ seconds\n$/);
    expect(sink.objects.has(key('syslog'))).toBe(false);
    // A file that has not grown is not uploaded again.
    const uploads = sink.puts.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(sink.puts.length).toBe(uploads);
  });

  it("a failed step's FailureDetails.LogFile is its stderr.gz in S3, as EMR names it; without a LogUri nothing is uploaded", async () => {
    const sink = recordingSink();
    const emr = logEmr(sink);
    const [failed] = add(emr, bash('fails', 'echo boom >&2; exit 3'));
    await settled(emr, [failed!]);
    expect(status(emr, failed!).FailureDetails).toMatchObject({ LogFile: `${LOG_URI}${CLUSTER}/steps/${failed!}/stderr.gz` });
    expect(sink.objects.get(`aws-logs-123456789012-us-east-1/elasticmapreduce/${CLUSTER}/steps/${failed!}/controller.gz`)).toMatch(/Step failed with exitCode 3/);
    const bare = recordingSink();
    const noUri = logEmr(bare, null);
    expect(noUri.describeCluster({ ClusterId: CLUSTER }).Cluster).not.toHaveProperty('LogUri');
    const [quiet] = add(noUri, bash('quiet', 'echo hi'));
    await settled(noUri, [quiet!]);
    expect(bare.puts).toEqual([]);
  });

  it("a step the stop interrupts has its last logs uploaded all the same", async () => {
    const sink = recordingSink();
    const emr = logEmr(sink);
    // RUNNING is the process started, not its first line written: the step says when it has written it.
    const marker = join(mkdtempSync(join(tmpdir(), 'emr-gateway-log-stop-')), 'written');
    const [id] = add(emr, bash('long', `echo started; touch ${marker}; sleep 30`));
    await running(emr, [id!]);
    await waitUntil(() => Promise.resolve(existsSync(marker) || undefined), { timeoutMs: 10_000, intervalMs: 20, what: 'the step writing its first line' });
    await emr.stop();
    emrs.splice(emrs.indexOf(emr), 1);
    expect(sink.objects.get(`aws-logs-123456789012-us-east-1/elasticmapreduce/${CLUSTER}/steps/${id!}/stdout.gz`)).toBe('started\n');
  });
});
