/**
 * Starts step processes from a small helper process instead of the stack's own: forking a process is
 * proportional to its memory, and the stack holds hundreds of megabytes (spawning from it cost ~8 ms a
 * step). The helper writes each step's stdout/stderr straight to its log files and reports start and exit.
 * If the stack dies, the helper kills the steps and exits (they are INTERRUPTED on the next start).
 */
import { fork, type ChildProcess } from 'node:child_process';

const HELPER = `
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const kids = new Map();
const killGroup = (pid, signal) => { try { process.kill(-pid, signal); } catch {} };
process.on('message', (m) => {
  if (m.type === 'kill') { const c = kids.get(m.id); if (c && c.pid) killGroup(c.pid, m.signal); return; }
  if (m.type !== 'spawn') return;
  const out = fs.openSync(m.stdout, 'a');
  const err = fs.openSync(m.stderr, 'a');
  let child;
  try {
    child = spawn(m.program, m.args, { cwd: m.cwd, env: m.env, detached: true, stdio: ['ignore', out, err] });
  } finally { fs.closeSync(out); fs.closeSync(err); }
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
  private readonly helper: ChildProcess;
  private readonly waiting = new Map<string, Callbacks>();

  constructor() {
    this.helper = fork('-e', [HELPER], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
    // fork() wants a module path; '-e' with the script as an argument runs it as the helper.
    this.helper.on('message', (m: Message) => {
      const callbacks = this.waiting.get(m.id);
      if (!callbacks) return;
      if (m.type === 'started') callbacks.started(m.pid);
      else {
        this.waiting.delete(m.id);
        callbacks.exit(m.code, m.signal);
      }
    });
    this.helper.unref();
    (this.helper as unknown as { channel?: { unref(): void } }).channel?.unref();
  }

  spawn(request: SpawnRequest, callbacks: Callbacks): void {
    this.waiting.set(request.id, callbacks);
    this.helper.send({ type: 'spawn', ...request });
  }

  kill(id: string, signal: NodeJS.Signals): void {
    this.helper.send({ type: 'kill', id, signal });
  }

  /** Kills every running step and the helper. */
  stop(): void {
    this.waiting.clear();
    if (this.helper.connected) this.helper.disconnect();
  }
}
