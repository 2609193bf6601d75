/**
 * `emr-gateway local` as a process, under every way it can stop (issue 11): a signal from the terminal to its
 * whole process group, a signal to the node process alone, a SIGKILL of either, a stop under load, and a
 * second start on the same data directory. The stack runs as a child process in a process group of its own,
 * as under a terminal; its step writes its own pid and its child's, so the test can see whether any survived.
 *
 * One data directory for the whole file: each stop is followed by the restart that checks what the previous
 * stack recorded (and is the stack the next case stops).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DescribeStepCommand, EMRClient } from '@aws-sdk/client-emr';
import { GatewayClient } from '../../src/client';
import { isTerminal } from '../../src/jobs/model';
import { KEYS, newDataDir } from '../support/local-stack';
import { until } from '../support/wait';

jest.setTimeout(60_000);

const BIN = resolve(__dirname, '../../bin/emr-gateway.js');
const CLUSTER = 'j-2AXXXXXXGAPLF';
const ETL = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';
/** What the local EMR records for a step whose process ended because the stack stopped. */
const STOPPED = 'The step process ended when the local EMR stopped.';

interface Local {
  child: ChildProcess;
  pid: number;
  apiUrl: string;
  awsUrl: string;
  alice: GatewayClient;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * `emr-gateway local` on free ports, in a new process group (its pid is the group's id), once it is up; with
 * `npm`, as `npm start` runs it (npm passes a SIGINT or SIGTERM it receives on to the stack: it gets two).
 */
async function startLocal(dataDir: string, { npm = false } = {}): Promise<Local> {
  const args = ['local', '--port', '0', '--aws-port', '0', '--data-dir', dataDir];
  const child = spawn(npm ? 'npm' : process.execPath, npm ? ['start', '--silent', '--', ...args.slice(1)] : [BIN, ...args], {
    cwd: resolve(__dirname, '../..'),
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', npm_config_update_notifier: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('exit', (code, signal) => done({ code, signal })));
  let gone = false;
  void exited.then(() => (gone = true));
  await until(() => Promise.resolve(stdout.includes('Stop with Ctrl-C') || gone ? true : undefined), { timeoutMs: 30_000, intervalMs: 50, what: 'the local stack coming up' });
  if (!stdout.includes('Stop with Ctrl-C')) throw new Error(`the local stack did not come up:\n${stderr}`);
  const apiUrl = /Gateway API \(AWS SigV4, service execute-api\):\s+(\S+)/.exec(stdout)![1]!;
  const awsUrl = /AWS endpoint \([^)]*\):\s+(\S+)/.exec(stdout)![1]!;
  const alice = new GatewayClient({ endpoint: apiUrl, region: 'us-east-1', credentials: KEYS.alice });
  return { child, pid: child.pid!, apiUrl, awsUrl, alice, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Whether a process exists and is not a zombie (orphans here may be reparented to a pid 1 that never reaps). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The stack's step helper processes (their command line names the data directory's exits file). */
function helpers(): number[] {
  const exits = join(dataDir, 'emr', 'exits.jsonl');
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && alive(Number(entry)))
    .filter((entry) => {
      try {
        return readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(exits);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const pid = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim();
  return Number(pid);
}

const base = newDataDir();
const dataDir = join(base, 'data');
const lockFile = join(dataDir, 'stack.lock');
let local: Local;
/** Every pid a step wrote, so that afterAll can clean up whatever a failing test left. */
const stepPids: number[] = [];

afterAll(async () => {
  if (local && local.child.exitCode === null && local.child.signalCode === null) {
    process.kill(-local.pid, 'SIGKILL');
    await local.exited;
  }
  for (const pid of stepPids) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

/** Submits a step that writes `$$` and its child's pid to a file, then sleeps; resolves once both pids are written and the step RUNNING. */
async function runningStep(name: string): Promise<{ jobId: string; stepId: string; pids: number[] }> {
  const file = join(base, `${name}.pids`);
  const { jobId } = await local.alice.submit({ clusterId: CLUSTER, executionRoleArn: ETL, name, step: { type: 'command', args: ['bash', '-c', `echo $$ >> '${file}'; sleep 300 & echo $! >> '${file}'; wait`] } });
  const stepId = await until(
    async () => {
      const job = await local.alice.getJob(jobId);
      return job.step.state === 'RUNNING' && existsSync(file) && readFileSync(file, 'utf8').trim().split('\n').length === 2 ? job.step.id : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 100, what: `step ${name} running` },
  );
  const pids = readFileSync(file, 'utf8').trim().split('\n').map(Number);
  stepPids.push(...pids);
  expect(pids.every(alive)).toBe(true);
  return { jobId, stepId, pids };
}

/** The job at its end and its step as the local EMR describes it, after a restart. */
async function recorded(jobId: string, stepId: string): Promise<{ status: string; step: Record<string, unknown> }> {
  const job = await until(
    async () => {
      const view = await local.alice.getJob(jobId);
      return isTerminal(view.status) ? view : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 200, what: `job ${jobId} finishing` },
  );
  const emr = new EMRClient({ endpoint: local.awsUrl, region: 'us-east-1', credentials: { accessKeyId: 'AKIAANY', secretAccessKey: 'any' } });
  const { Step } = await emr.send(new DescribeStepCommand({ ClusterId: CLUSTER, StepId: stepId }));
  emr.destroy();
  return { status: job.status, step: Step!.Status as Record<string, unknown> };
}

it('a stale lock (the pid of a process that has exited) does not block the start', async () => {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(lockFile, JSON.stringify({ pid: deadPid(), apiUrl: 'http://127.0.0.1:1', awsUrl: 'http://127.0.0.1:2' }));
  local = await startLocal(dataDir, { npm: true }); // as `npm start` runs it: the first case below stops it with Ctrl-C
  expect(await local.alice.health()).toMatchObject({ status: 'ok' });
  const lock = JSON.parse(readFileSync(lockFile, 'utf8')) as { pid: number };
  expect(lock).toMatchObject({ apiUrl: local.apiUrl, awsUrl: local.awsUrl });
  expect(alive(lock.pid)).toBe(true);
});

type Stop = { name: string; graceful: boolean; send: (l: Local) => void };
const STOPS: Stop[] = [
  { name: 'SIGINT to the process group of `npm start` (Ctrl-C in a terminal)', graceful: true, send: (l) => process.kill(-l.pid, 'SIGINT') },
  { name: 'SIGTERM to the process group', graceful: true, send: (l) => process.kill(-l.pid, 'SIGTERM') },
  { name: 'SIGTERM to the node process alone', graceful: true, send: (l) => l.child.kill('SIGTERM') },
  { name: 'SIGKILL of the node process', graceful: false, send: (l) => l.child.kill('SIGKILL') },
  { name: 'SIGKILL of the process group', graceful: false, send: (l) => process.kill(-l.pid, 'SIGKILL') },
];

describe.each(STOPS)('$name', ({ name, graceful, send }) => {
  it('leaves no step process alive, and the restart records the step INTERRUPTED, as it was', async () => {
    const { jobId, stepId, pids } = await runningStep(name.split(' ')[0]!.toLowerCase() + String(STOPS.findIndex((s) => s.name === name)));
    const stopped = local;
    send(stopped);
    const exit = await stopped.exited;
    // What is left of the step once the stack has gone: nothing, at once after a stop; after a SIGKILL, nothing
    // within moments, although no part of the stack is left to wait for them.
    if (!graceful) await until(() => Promise.resolve(pids.some(alive) ? undefined : true), { timeoutMs: 5_000, intervalMs: 50, what: 'the step processes ending' }).catch(() => undefined);
    const survivors = pids.filter(alive);
    // Nor does the stack's step helper outlive it (after a SIGKILL, it ends once it has ended the steps).
    await until(() => Promise.resolve(helpers().length ? undefined : true), { timeoutMs: 5_000, intervalMs: 50, what: 'the step helper ending' }).catch(() => undefined);
    const helpersLeft = helpers();
    const lock = existsSync(lockFile) ? (JSON.parse(readFileSync(lockFile, 'utf8')) as { pid?: number }) : undefined;
    local = await startLocal(dataDir); // also what the next case stops

    expect({ survivors, helpersLeft }).toEqual({ survivors: [], helpersLeft: [] });
    if (graceful) {
      // npm, once its script has exited, ends itself with the signal it was sent.
      const expected = name.includes('npm start') ? { code: null, signal: 'SIGINT' } : { code: 0, signal: null };
      expect({ exit, stderr: stopped.stderr() }).toEqual({ exit: expected, stderr: expect.stringContaining('stopped.') as string });
      expect(lock).toBeUndefined();
    } else {
      expect(exit.signal).toBe('SIGKILL');
      // Its lock was left behind, naming a process that is gone: this start took it over.
      expect(lock).toMatchObject({ pid: stopped.pid });
    }
    expect(await recorded(jobId, stepId)).toEqual({ status: 'INTERRUPTED', step: expect.objectContaining({ State: 'INTERRUPTED', StateChangeReason: { Message: STOPPED } }) as unknown });
  });
});

it('SIGTERM under load (50 submissions in flight) exits within 10 s, without an EPIPE or a stack trace; what it answered 202 is followed again after the restart', async () => {
  const stopped = local;
  const submissions = Array.from({ length: 50 }, (_, i) =>
    stopped.alice.submit({ clusterId: CLUSTER, executionRoleArn: ETL, name: `load-${i}`, step: { type: 'command', args: ['true'] } }).then(
      ({ jobId }) => jobId,
      (error: Error) => error,
    ),
  );
  await Promise.race(submissions); // the first is answered: the others are in flight, their workflows starting
  const signalled = Date.now();
  stopped.child.kill('SIGTERM');
  const exit = await Promise.race([stopped.exited, new Promise((r) => setTimeout(() => r('still running after 10 s'), 10_000))]);
  const seconds = (Date.now() - signalled) / 1000;
  expect({ exit, withinTenSeconds: seconds <= 10 }).toEqual({ exit: { code: 0, signal: null }, withinTenSeconds: true });
  expect(`${stopped.stdout()}\n${stopped.stderr()}`).not.toMatch(/EPIPE|\n\s+at /);
  expect(stopped.stderr()).toContain('stopped.');
  const results = await Promise.all(submissions);
  // Each one was answered (202) or refused (503 once the drain was over, or its connection was never taken).
  const refused = results.filter((r): r is Error => r instanceof Error);
  for (const error of refused) expect(error.message).toMatch(/503|Service Unavailable|cannot reach/);
  const answered = results.filter((r): r is string => typeof r === 'string');
  expect(answered.length).toBeGreaterThan(0);

  local = await startLocal(dataDir);
  // Every job it accepted is followed again by the new stack (the old one left it unfinished) to its end: COMPLETED,
  // or INTERRUPTED where its step's process was running when the stop ended it (as EMR records a step its cluster lost).
  for (const jobId of answered) {
    const job = await until(async () => { const j = await local.alice.getJob(jobId); return isTerminal(j.status) ? j : undefined; }, { timeoutMs: 30_000, intervalMs: 200, what: `job ${jobId} ending` });
    if (job.status === 'INTERRUPTED') expect(job.failureDetails?.message).toBe(STOPPED);
    else expect(job.status).toBe('COMPLETED');
  }
});

it('a second stack on the same data directory refuses at once, naming the first; the first carries on unharmed', async () => {
  const { jobId, stepId, pids } = await runningStep('first');
  const second = spawnSync(process.execPath, [BIN, 'local', '--port', '0', '--aws-port', '0', '--data-dir', dataDir], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8' },
    encoding: 'utf8',
    timeout: 20_000,
  });
  expect(second.status).toBe(1);
  expect(second.stderr).toContain(`emr-gateway local: the data directory ${dataDir} is in use by another local stack (pid ${local.pid}, gateway ${local.apiUrl}, AWS endpoint ${local.awsUrl})`);
  expect(second.stderr).not.toMatch(/Database is closed|\n\s+at /);
  expect(second.stdout).not.toContain('the local stack is up');

  expect(await local.alice.health()).toMatchObject({ status: 'ok' });
  expect((await local.alice.getJob(jobId)).step.state).toBe('RUNNING');
  expect(pids.every(alive)).toBe(true);
  // The first stack still runs its step as before: it cancels it as usual.
  await local.alice.cancel(jobId, 'TERMINATE_PROCESS');
  expect((await recorded(jobId, stepId)).status).toBe('CANCELLED');
  expect(pids.filter(alive)).toEqual([]);
});

it('Ctrl-C when the reader of its output has gone with it (`npm start 2>&1 | tee log`): still a clean stop, no EPIPE crash', async () => {
  const { pids } = await runningStep('tee');
  local.child.stdout!.destroy();
  local.child.stderr!.destroy();
  process.kill(-local.pid, 'SIGINT');
  expect(await local.exited).toEqual({ code: 0, signal: null });
  expect(pids.filter(alive)).toEqual([]);
  expect(existsSync(lockFile)).toBe(false); // released by the stop's last part
});
