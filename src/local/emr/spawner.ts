/**
 * Starts step processes from a small helper process instead of the stack's own: forking a process is
 * proportional to its memory, and the stack holds hundreds of megabytes (spawning from it cost ~8 ms a
 * step). The helper writes each step's stdout/stderr straight to its log files and reports start and exit.
 * If the stack dies, the helper kills the steps and exits (they are INTERRUPTED on the next start).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { logger } from '../../util/logger';

const HELPER = `
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const kids = new Map();
const killGroup = (pid, signal) => { try { process.kill(-pid, signal); } catch {} };
process.on('message', (m) => {
  if (m.type === 'kill') { const c = kids.get(m.id); if (c && c.pid) killGroup(c.pid, m.signal); return; }
  if (m.type !== 'spawn') return;
  let out, err, child;
  try {
    out = fs.openSync(m.stdout, 'a');
    err = fs.openSync(m.stderr, 'a');
    child = spawn(m.program, m.args, { cwd: m.cwd, env: m.env, detached: true, stdio: ['ignore', out, err] });
  } catch (e) {
    try { fs.appendFileSync(m.stderr, 'the step could not start: ' + e.message + '\\n'); } catch {}
    process.send({ type: 'exit', id: m.id, code: 127, signal: null });
    return;
  } finally { if (out !== undefined) fs.closeSync(out); if (err !== undefined) fs.closeSync(err); }
  kids.set(m.id, child);
  let failed = false;
  child.on('error', (e) => {
    failed = true;
    fs.appendFileSync(m.stderr, (e.code === 'ENOENT' ? m.program + ': command not found' : e.message) + '\\n');
  });
  if (child.pid) process.send({ type: 'started', id: m.id, pid: child.pid });
  child.on('close', (code, signal) => { kids.delete(m.id); process.send({ type: 'exit', id: m.id, code: failed ? 127 : code, signal }); });
});
process.on('disconnect', () => { for (const c of kids.values()) if (c.pid) killGroup(c.pid, 'SIGKILL'); process.exit(0); });
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

interface Callbacks {
  started(pid: number): void;
  exit(code: number | null, signal: string | null): void;
}

type Message = { type: 'started'; id: string; pid: number } | { type: 'exit'; id: string; code: number | null; signal: string | null };

export class Spawner {
  private helper!: ChildProcess;
  private readonly waiting = new Map<string, Callbacks>();
  private stopped = false;

  constructor() {
    this.start();
  }

  /** Forks the helper; if it dies, the steps it was running end (exit 127) and a new helper takes over. */
  private start(): void {
    const helper = fork('-e', [HELPER], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
    this.helper = helper;
    helper.on('message', (m: Message) => {
      const callbacks = this.waiting.get(m.id);
      if (!callbacks) return;
      if (m.type === 'started') callbacks.started(m.pid);
      else {
        this.waiting.delete(m.id);
        callbacks.exit(m.code, m.signal);
      }
    });
    // E.g. a send after it died: logged; 'exit' below handles the consequences.
    helper.on('error', (error) => logger.warn('local EMR: the step helper process failed', { error }));
    helper.on('exit', () => {
      if (this.stopped) return;
      const orphans = [...this.waiting.values()];
      this.waiting.clear();
      for (const callbacks of orphans) callbacks.exit(127, null);
      this.start();
    });
    helper.unref();
    (helper as unknown as { channel?: { unref(): void } }).channel?.unref();
  }

  spawn(request: SpawnRequest, callbacks: Callbacks): void {
    this.waiting.set(request.id, callbacks);
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

  /** Kills every running step and the helper. */
  stop(): void {
    this.stopped = true;
    this.waiting.clear();
    if (this.helper.connected) this.helper.disconnect();
  }
}
