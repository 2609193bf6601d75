/**
 * Starts step processes from a small helper process instead of the stack's own: forking a process is
 * proportional to its memory, and the stack holds hundreds of megabytes (spawning from it cost ~8 ms a
 * step). The helper writes each step's stdout/stderr straight to its log files and reports start and exit.
 *
 * No step outlives the stack, however the stack ends:
 * - Each step runs in a process group of its own (its pid is the group's id, journaled as the step's pid), so
 *   cancelling it, or stopping the stack, signals everything the step started; when the step's own process
 *   ends, what is left of its group is killed too.
 * - The helper is a session of its own, outside the terminal's process group: Ctrl-C, or any signal to the
 *   stack's group (SIGKILL included), reaches the stack and not the helper. The helper ends the steps when the
 *   stack tells it to stop, and also when its IPC channel from the stack closes, which the kernel does
 *   whenever the stack dies (SIGKILL, a crash): a watchdog that needs no cooperation from a dying stack.
 *   Ending is SIGTERM to each step's group, then SIGKILL after a grace period.
 * - The helper appends every exit to a file in the data directory (`exits.jsonl`) before it reports it, so a
 *   step that ended while the stack was not there to hear it is recorded truly at the next start
 *   (process-runner.ts); a step whose group is still there at the next start (the helper killed too) is killed
 *   then, by its journaled pid. An exit the file cannot take (a full disk) is kept and written, in order, with
 *   the next exit, by a retry every second, or as the helper ends, whichever can.
 * If the helper dies on its own, the stack kills the steps it was running, and a new helper takes over.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { logger } from '../../util/logger';

/** Milliseconds a step has between SIGTERM and SIGKILL when the stack stops. */
export const STOP_GRACE_MS = 2000;

const HELPER = `
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const exitsFile = process.argv[1];
const GRACE_MS = Number(process.argv[2]);
const kids = new Map();
let stopping = false;
// Exits not written yet, in order; after a failed write the next starts a new line (a torn one is then skipped).
const unwritten = [];
let newLine = false;
let retry;
const writeExits = () => {
  if (!unwritten.length) return;
  try {
    fs.appendFileSync(exitsFile, (newLine ? '\\n' : '') + unwritten.join(''));
    unwritten.length = 0;
    newLine = false;
  } catch {
    newLine = true;
    if (!retry) { retry = setTimeout(() => { retry = undefined; writeExits(); }, 1000); retry.unref(); }
  }
};
const killGroup = (pid, signal) => { try { process.kill(-pid, signal); } catch {} };
const tell = (m) => { if (process.connected) { try { process.send(m); } catch {} } };
let finished = false;
const finish = () => {
  if (finished) return;
  finished = true;
  for (const kid of kids.values()) killGroup(kid.pid, 'SIGKILL');
  writeExits();
  // Messages are delivered in order: once the last is written, every exit before it has been too.
  if (!process.connected) process.exit(0);
  setTimeout(() => process.exit(0), 1000);
  try { process.send({ type: 'bye' }, () => process.exit(0)); } catch { process.exit(0); }
};
const shutdown = () => {
  if (stopping) return;
  stopping = true;
  for (const kid of kids.values()) { kid.stopped = true; killGroup(kid.pid, 'SIGTERM'); }
  if (!kids.size) return finish();
  setTimeout(() => { for (const kid of kids.values()) killGroup(kid.pid, 'SIGKILL'); }, GRACE_MS);
  setTimeout(finish, GRACE_MS + 2000);
};
process.on('message', (m) => {
  if (m.type === 'stop') return shutdown();
  if (m.type === 'kill') { const kid = kids.get(m.id); if (kid) killGroup(kid.pid, m.signal); return; }
  if (m.type !== 'spawn' || stopping) return;
  let out, err, child;
  try {
    out = fs.openSync(m.stdout, 'a');
    err = fs.openSync(m.stderr, 'a');
    child = spawn(m.program, m.args, { cwd: m.cwd, env: m.env, detached: true, stdio: ['ignore', out, err] });
  } catch (e) {
    try { fs.appendFileSync(m.stderr, 'the step could not start: ' + e.message + '\\n'); } catch {}
    tell({ type: 'exit', id: m.id, code: 127, signal: null, stopped: false, at: Date.now() });
    return;
  } finally { if (out !== undefined) fs.closeSync(out); if (err !== undefined) fs.closeSync(err); }
  let failed = false;
  child.on('error', (e) => {
    failed = true;
    try { fs.appendFileSync(m.stderr, (e.code === 'ENOENT' ? m.program + ': command not found' : e.message) + '\\n'); } catch {}
  });
  if (child.pid) {
    kids.set(m.id, { pid: child.pid, stopped: false });
    tell({ type: 'started', id: m.id, pid: child.pid });
  }
  child.on('close', (code, signal) => {
    const kid = kids.get(m.id);
    kids.delete(m.id);
    if (kid) killGroup(kid.pid, 'SIGKILL'); // what the step left behind in its group ends with it
    const exit = { type: 'exit', id: m.id, pid: child.pid, code: failed ? 127 : code, signal, stopped: kid ? kid.stopped : false, at: Date.now() };
    unwritten.push(JSON.stringify(exit) + '\\n');
    writeExits();
    tell(exit);
    if (stopping && !kids.size) finish();
  });
});
process.on('disconnect', shutdown);
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, shutdown);
process.on('uncaughtException', () => { for (const kid of kids.values()) killGroup(kid.pid, 'SIGKILL'); process.exit(1); });
`;

export interface SpawnRequest {
  id: string;
  program: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdout: string;
  stderr: string;
}

/** How a step's process ended: its exit code or signal, whether the stack's stop ended it, and when. */
export interface StepExit {
  id: string;
  pid?: number;
  code: number | null;
  signal: string | null;
  /** It was still running when the stack stopped (or died), and was ended for that. */
  stopped: boolean;
  /** Milliseconds since the epoch. */
  at: number;
}

interface Callbacks {
  started(pid: number): void;
  exit(exit: StepExit): void;
}

type Message = { type: 'started'; id: string; pid: number } | ({ type: 'exit' } & StepExit) | { type: 'bye'; id?: undefined };

interface Waiting extends Callbacks {
  request: SpawnRequest;
  pid?: number;
}

export class Spawner {
  private helper!: ChildProcess;
  private readonly waiting = new Map<string, Waiting>();
  private stopped = false;

  /** `exitsFile`: where the helper records every exit (read back at the next start). */
  constructor(private readonly exitsFile: string) {
    this.start();
  }

  /** Forks the helper, in a session of its own; if it dies, its steps are killed and a new helper takes over. */
  private start(): void {
    const helper = fork('-e', [HELPER, this.exitsFile, String(STOP_GRACE_MS)], { execArgv: [], detached: true, stdio: ['ignore', 'ignore', 'ignore', 'ipc'], serialization: 'json' });
    this.helper = helper;
    helper.on('message', (m: Message) => {
      const waiting = m.id === undefined ? undefined : this.waiting.get(m.id);
      if (!waiting || m.type === 'bye') return;
      if (m.type === 'started') {
        waiting.pid = m.pid;
        waiting.started(m.pid);
      } else {
        this.waiting.delete(m.id);
        const { type: _type, ...exit } = m;
        waiting.exit(exit);
      }
    });
    // E.g. a send after it died: 'exit' below handles the consequences.
    helper.on('error', (error) => logger.warn('local EMR: the step helper process failed', { error }));
    helper.on('exit', (code, signal) => {
      if (this.stopped) return;
      logger.warn('local EMR: the step helper process ended; its steps are killed and a new helper takes over', { code, signal });
      const orphans = [...this.waiting.values()];
      this.waiting.clear();
      for (const orphan of orphans) {
        if (orphan.pid) killGroup(orphan.pid, 'SIGKILL');
        try {
          appendFileSync(orphan.request.stderr, 'the local EMR\'s step helper process ended unexpectedly: the step was killed\n');
        } catch {
          // the log is gone: the failure below says it all the same
        }
        orphan.exit({ id: orphan.request.id, ...(orphan.pid ? { pid: orphan.pid } : {}), code: null, signal: 'SIGKILL', stopped: false, at: Date.now() });
      }
      this.start();
    });
    helper.unref();
    (helper as unknown as { channel?: { unref(): void } }).channel?.unref();
  }

  spawn(request: SpawnRequest, callbacks: Callbacks): void {
    this.waiting.set(request.id, { ...callbacks, request });
    this.send({ type: 'spawn', ...request });
  }

  kill(id: string, signal: NodeJS.Signals): void {
    this.send({ type: 'kill', id, signal });
  }

  private send(message: Record<string, unknown>): void {
    if (!this.helper.connected) return;
    this.helper.send(message, (error) => {
      // The helper has gone: its 'exit' ends the steps it was running, and a new one takes over.
      if (error) logger.warn('local EMR: could not reach the step helper process', { type: message.type, stepId: message.id, error });
    });
  }

  /**
   * Ends every running step (SIGTERM, SIGKILL after STOP_GRACE_MS) and the helper; each exit is reported as
   * usual, with `stopped` set. Bounded: a helper that has not exited a few seconds after the grace period is
   * killed, with the steps it was reported to run.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const helper = this.helper;
    if (helper.connected) {
      // Its channel closes after the last message it sent has been read (its process may be reaped before).
      const exited = new Promise<void>((done) => helper.once('disconnect', () => done()));
      (helper as unknown as { channel?: { ref(): void } }).channel?.ref(); // its last reports come in before the stack exits
      this.send({ type: 'stop' });
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((done) => (timer = setTimeout(() => done('late'), STOP_GRACE_MS + 3000)));
      if ((await Promise.race([exited, late])) === 'late') {
        logger.warn('local EMR: the step helper process did not stop in time; killing it and its steps');
        helper.kill('SIGKILL');
        for (const waiting of this.waiting.values()) if (waiting.pid) killGroup(waiting.pid, 'SIGKILL');
      }
      clearTimeout(timer);
    }
    this.waiting.clear();
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}
