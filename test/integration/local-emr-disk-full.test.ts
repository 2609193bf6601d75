/**
 * The local EMR (src/local/emr) when its data directory cannot be written, for real: a small tmpfs filled up
 * (ENOSPC), or remounted read-only (EROFS). A change a caller asked for (AddJobFlowSteps, CancelSteps) that cannot
 * be journaled is refused with EMR's InternalServerError (500, which the SDKs retry) and not made: memory and
 * journal agree. A change the steps make (a step ending) cannot be refused: it is kept in memory, as DescribeStep
 * shows it, and journaled, in order, once the directory takes writes again; no step starts meanwhile (it could
 * not be journaled as started). Reads go on throughout, and nothing ever throws out of the emulator.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalEmr } from '../../src/local/emr/api';
import { LocalServiceError } from '../../src/local/errors';
import { captureLogs, type CapturedLogs } from '../support/logs';
import { thrown } from '../support/thrown';
import { fillDisk, mountTmpfs } from '../support/tmpfs';
import { until as waitUntil } from '../support/wait';

jest.setTimeout(60_000);

const mount = mountTmpfs('4m');
const maybe = mount.ok ? it : it.skip;
const skipped = mount.ok ? '' : ` [skipped: ${mount.reason}]`;
const gates = mkdtempSync(join(tmpdir(), 'emr-gateway-gates-')); // off the tmpfs: creating a gate needs no room there
afterAll(() => {
  if (mount.ok) mount.unmount();
  rmSync(gates, { recursive: true, force: true });
});

const CLUSTER = 'j-1LOCALDISKFULL';
const emrs: LocalEmr[] = [];
let logs: CapturedLogs | undefined;
const fillers: string[] = [];
afterEach(async () => {
  for (const filler of fillers.splice(0)) rmSync(filler, { force: true }); // room again for the next test, whatever happened
  await Promise.all(emrs.splice(0).map((emr) => emr.stop()));
  logs?.restore();
  logs = undefined;
});

let dirs = 0;
/** A fresh data directory on the tmpfs. */
function dataDir(): string {
  if (!mount.ok) throw new Error('no tmpfs');
  const dir = join(mount.dir, `data-${++dirs}`);
  mkdirSync(dir);
  return dir;
}

function startEmr(dir: string): LocalEmr {
  const emr = new LocalEmr({ dataDir: dir, region: 'us-east-1', account: '123456789012', env: { PATH: process.env.PATH } });
  emrs.push(emr);
  emr.ensureCluster({ id: CLUSTER, name: 'disk-full', runtimeRoles: false, propagateSourceIdentity: false, stepConcurrencyLevel: 1 });
  return emr;
}

const bash = (name: string, script: string) => ({ Name: name, HadoopJarStep: { Jar: 'command-runner.jar', Args: ['bash', '-c', script] } });
const add = (emr: LocalEmr, name: string, script = 'true') => emr.addJobFlowSteps({ JobFlowId: CLUSTER, Steps: [bash(name, script)] }).StepIds[0]!;
/** A step that runs until its gate file exists. */
function gated(emr: LocalEmr, name: string): { id: string; open(): void } {
  const gate = join(gates, `${name}-${dirs}`);
  return { id: add(emr, name, `while [ ! -e '${gate}' ]; do sleep 0.02; done`), open: () => writeFileSync(gate, '') };
}

const state = (emr: LocalEmr, id: string) => emr.steps.get(id)?.state;
const until = (what: string, probe: () => boolean, timeoutMs = 15_000) => waitUntil(() => Promise.resolve(probe() ? true : undefined), { what, timeoutMs, intervalMs: 20 });

/** Each step's states as the journal file has them, in order (lines that do not parse are skipped, as on replay). */
function journaled(dir: string): Map<string, string[]> {
  const states = new Map<string, string[]>();
  for (const line of readFileSync(join(dir, 'emr', 'journal.jsonl'), 'utf8').split('\n')) {
    try {
      const entry = JSON.parse(line) as { kind: string; step?: { id: string; state: string } };
      if (entry.step) states.set(entry.step.id, [...(states.get(entry.step.id) ?? []), entry.step.state]);
    } catch {
      // an empty line, or a torn one
    }
  }
  return states;
}
const lastJournaled = (dir: string) => new Map([...journaled(dir)].map(([id, states]) => [id, states.at(-1)]));
const inMemory = (emr: LocalEmr) => new Map([...emr.steps.values()].map((s) => [s.id, s.state]));

/** What the local EMR logged about its journal: one ERROR when writes start failing, one INFO when they take again. */
function journalLogs(): { level: unknown; message: unknown }[] {
  return (logs?.lines() ?? []).filter((l) => /^local EMR: .*journal/.test(String(l.message))).map(({ level, message }) => ({ level, message }));
}

function expectRefused(error: unknown, cause: RegExp): void {
  expect(error).toBeInstanceOf(LocalServiceError);
  expect(error).toMatchObject({ type: 'InternalServerError', status: 500 });
  expect((error as Error).message).toMatch(/^the local EMR cannot write its journal \(/);
  expect((error as Error).message).toMatch(cause);
}

maybe(`no space left: AddJobFlowSteps and CancelSteps answer InternalServerError (500) and change nothing, reads go on, writes resume once space is back${skipped}`, async () => {
  const dir = dataDir();
  const emr = startEmr(dir);
  const blocker = gated(emr, 'blocker');
  await until('the blocker to run', () => emr.steps.get(blocker.id)?.pid !== undefined);
  logs = captureLogs();
  const filler = join(dir, 'filler');
  fillers.push(filler);
  fillDisk(filler);

  // Steps are added (PENDING behind the blocker) until the journal cannot take one: that one is refused.
  const accepted = [blocker.id];
  let refusal: unknown;
  for (let i = 0; i < 500 && refusal === undefined; i++) {
    try {
      accepted.push(add(emr, `s${i}`));
    } catch (error) {
      refusal = error;
    }
  }
  expectRefused(refusal, /no space left on device/i);
  // Nothing half-written: the emulator holds exactly the steps it acknowledged, and so does its journal.
  expect([...emr.steps.keys()].sort()).toEqual([...accepted].sort());
  expect(lastJournaled(dir)).toEqual(inMemory(emr));

  // Refused again, the same way; a cancel too (of a running and of a pending step), which then changes nothing.
  expectRefused(thrown(() => add(emr, 'again')), /no space left on device/i);
  const pending = accepted[1]!;
  expectRefused(thrown(() => emr.cancelSteps({ ClusterId: CLUSTER, StepIds: [blocker.id, pending] })), /no space left on device/i);
  expect([state(emr, blocker.id), state(emr, pending)]).toEqual(['RUNNING', 'PENDING']);
  expect(lastJournaled(dir)).toEqual(inMemory(emr));

  // Reads are answered.
  expect(emr.describeStep({ ClusterId: CLUSTER, StepId: blocker.id }).Step).toMatchObject({ Id: blocker.id, Status: { State: 'RUNNING' } });
  expect(emr.listSteps({ ClusterId: CLUSTER }).Steps.length).toBe(Math.min(accepted.length, 50));
  expect(emr.describeCluster({ ClusterId: CLUSTER }).Cluster).toMatchObject({ Id: CLUSTER, Status: { State: 'WAITING' } });
  expect(journalLogs()).toEqual([{ level: 'ERROR', message: expect.stringMatching(/^local EMR: cannot write its journal/) }]);

  // Space again: the next change is made, and every step runs.
  rmSync(filler);
  accepted.push(add(emr, 'after'));
  blocker.open();
  await until('every step to end', () => accepted.every((id) => state(emr, id) === 'COMPLETED'));
  expect(journalLogs()).toEqual([
    { level: 'ERROR', message: expect.stringMatching(/^local EMR: cannot write its journal/) },
    { level: 'INFO', message: expect.stringMatching(/^local EMR: its journal takes writes again/) },
  ]);
  await emr.stop();
  expect(lastJournaled(dir)).toEqual(inMemory(emr));
  expect(inMemory(startEmr(dir))).toEqual(inMemory(emr));
});

maybe(`a read-only data directory (EROFS): AddJobFlowSteps answers InternalServerError and adds nothing; writable again, it adds${skipped}`, async () => {
  if (!mount.ok) return;
  const dir = dataDir();
  const emr = startEmr(dir);
  const done = add(emr, 'done');
  await until('the first step to end', () => state(emr, done) === 'COMPLETED');
  logs = captureLogs();
  mount.readOnly(true);
  try {
    expectRefused(thrown(() => add(emr, 'refused')), /read-only file system/);
    expect([...emr.steps.keys()]).toEqual([done]);
    expect(emr.describeStep({ ClusterId: CLUSTER, StepId: done }).Step).toMatchObject({ Status: { State: 'COMPLETED' } });
  } finally {
    mount.readOnly(false);
  }
  const after = add(emr, 'after');
  await until('the next step to end', () => state(emr, after) === 'COMPLETED');
  expect(lastJournaled(dir)).toEqual(inMemory(emr));
  expect(journalLogs().map((l) => l.level)).toEqual(['ERROR', 'INFO']);
});

maybe(`a step that ends while the disk is full: no crash, its end is in memory at once and journaled in order once space is back; no step starts meanwhile${skipped}`, async () => {
  const dir = dataDir();
  const emr = startEmr(dir);
  const blocker = gated(emr, 'blocker');
  const next = add(emr, 'next', 'echo next'); // waits for the blocker's slot
  await until('the blocker to run', () => emr.steps.get(blocker.id)?.pid !== undefined);
  logs = captureLogs();
  const filler = join(dir, 'filler');
  fillers.push(filler);
  fillDisk(filler);
  fillDisk(join(dir, 'emr', 'journal.jsonl'), { pad: true }); // not a byte left, not even in the journal's last page

  // The blocker ends: its end cannot be journaled (nor written to exits.jsonl by the step helper).
  blocker.open();
  await until('the blocker to complete, in memory', () => state(emr, blocker.id) === 'COMPLETED');
  expect(emr.describeStep({ ClusterId: CLUSTER, StepId: blocker.id }).Step).toMatchObject({ Status: { State: 'COMPLETED' } });
  expect(journaled(dir).get(blocker.id)?.at(-1)).toBe('RUNNING');
  // Its slot is free, but the next step is not started: it could not be journaled RUNNING.
  await new Promise((r) => setTimeout(r, 500));
  expect(state(emr, next)).toBe('PENDING');
  expect(journalLogs()).toEqual([{ level: 'ERROR', message: expect.stringMatching(/^local EMR: cannot write its journal/) }]);

  // Space again: the end is journaled (retried on a timer), then the next step starts and runs.
  rmSync(filler);
  await until('the next step to complete', () => state(emr, next) === 'COMPLETED');
  expect(journaled(dir).get(blocker.id)?.slice(-2)).toEqual(['RUNNING', 'COMPLETED']);
  expect(journaled(dir).get(next)).toEqual(['PENDING', 'RUNNING', 'RUNNING', 'COMPLETED']); // added, started, its pid, ended
  expect(journalLogs().map((l) => l.level)).toEqual(['ERROR', 'INFO']);
  // The step helper wrote the blocker's exit too, once it could.
  await until('the blocker\'s exit in exits.jsonl', () => existsSync(join(dir, 'emr', 'exits.jsonl')) && readFileSync(join(dir, 'emr', 'exits.jsonl'), 'utf8').includes(`"id":"${blocker.id}"`));

  await emr.stop();
  expect(inMemory(startEmr(dir))).toEqual(new Map([[blocker.id, 'COMPLETED'], [next, 'COMPLETED']]));
});
