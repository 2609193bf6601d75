/**
 * Resident memory of the local stack under load (`npx tsx bench/memory.ts [--jobs N] [--concurrency C]
 * [--idle SECONDS] [--snapshot FILE]`): the stack runs as a user runs it (`node bin/emr-gateway.js local`, a
 * child process, fresh data directory), N jobs (`true` command steps) are submitted through its SigV4 API at
 * concurrency C, and once every job is terminal the stack is left idle. Its RSS (VmRSS from /proc) is sampled
 * at start, at its peak (VmHWM) during the load, when every job is terminal, after the idle time, and after a
 * full GC. The GC and the heap figures come from a small probe loaded into the stack with `--require` (and
 * `--expose-gc`), reached over an IPC channel; `--snapshot FILE` also writes a heap snapshot there (after the
 * GC) to see what holds the heap. Needs `npm run build` (the bin runs dist/cli.js) and Linux (/proc).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { GatewayClient } from '../src/client';
import { isTerminal } from '../src/jobs/model';
import { eachLimited, sleep } from '../src/util/concurrency';
import { procMemory } from './proc-memory';

const ROOT = resolve(__dirname, '..');
const BIN = join(ROOT, 'bin/emr-gateway.js');
const CLUSTER = 'j-2AXXXXXXGAPLF';
const ROLE = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';
const ALICE = { accessKeyId: 'AKIALOCALALICE000001', secretAccessKey: 'local-alice-secret' };

/** Loaded into the stack (`--require`): answers each message with its memory figures, after a GC or a snapshot if asked. */
const PROBE = `
const v8 = require('node:v8');
process.on('message', (m) => {
  let file;
  if (m.gc && global.gc) { global.gc(); global.gc(); }
  if (m.snapshot) file = v8.writeHeapSnapshot(m.snapshot);
  const u = process.memoryUsage();
  process.send({ id: m.id, rss: u.rss, heapUsed: u.heapUsed, external: u.external, arrayBuffers: u.arrayBuffers, file });
});
// The bench gone (killed, say), the stack stops as at Ctrl-C.
process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
process.channel && process.channel.unref();
`;

interface ProbeAnswer {
  id: number;
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  file?: string;
}

interface Row {
  phase: string;
  rssMb: number;
  heapMb?: number;
  externalMb?: number;
  note?: string;
}

const mb = (bytes: number): number => bytes / 1024 / 1024;

class Stack {
  private nextId = 0;
  private readonly answers = new Map<number, (a: ProbeAnswer) => void>();
  readonly exited: Promise<number | null>;
  private output = '';

  private constructor(readonly child: ChildProcess) {
    child.on('message', (m: ProbeAnswer) => this.answers.get(m.id)?.(m));
    child.stdout!.setEncoding('utf8').on('data', (text: string) => (this.output += text));
    child.stderr!.setEncoding('utf8').on('data', (text: string) => (this.output += text));
    this.exited = new Promise((done) => child.on('exit', (code) => done(code)));
  }

  static async start(dataDir: string): Promise<{ stack: Stack; apiUrl: string }> {
    const probe = join(dataDir, 'memory-probe.cjs');
    writeFileSync(probe, PROBE);
    const child = spawn(process.execPath, ['--expose-gc', '--require', probe, BIN, 'local', '--port', '0', '--aws-port', '0', '--data-dir', join(dataDir, 'stack')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const stack = new Stack(child);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const url = /Gateway API[^\n]*?(http:\/\/\S+)/.exec(stack.output)?.[1];
      if (url) return { stack, apiUrl: url };
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the local stack did not start:\n${stack.output}`);
      await sleep(100);
    }
  }

  probe(request: { gc?: boolean; snapshot?: string } = {}): Promise<ProbeAnswer> {
    const id = this.nextId++;
    return new Promise((done) => {
      this.answers.set(id, done);
      this.child.send({ id, ...request });
    });
  }

  memory(): { rss: number; hwm: number } {
    return procMemory(this.child.pid!);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      jobs: { type: 'string', default: '2000' },
      concurrency: { type: 'string', default: '50' },
      idle: { type: 'string', default: '30' },
      snapshot: { type: 'string' },
    },
  });
  const jobs = Number(values.jobs);
  const concurrency = Number(values.concurrency);
  const idleSeconds = Number(values.idle);
  if (!existsSync(join(ROOT, 'dist/cli.js'))) throw new Error('dist/cli.js is missing: run `npm run build` first');
  if (!existsSync('/proc/self/status')) throw new Error('this bench reads /proc (Linux)');

  const dataDir = mkdtempSync(join(tmpdir(), 'emr-gateway-bench-memory-'));
  const { stack, apiUrl } = await Stack.start(dataDir);
  const rows: Row[] = [];
  const record = async (phase: string, request: { gc?: boolean; snapshot?: string } = {}, note?: string) => {
    const answer = await stack.probe(request);
    rows.push({ phase, rssMb: stack.memory().rss, heapMb: mb(answer.heapUsed), externalMb: mb(answer.external), ...(note ? { note } : {}) });
    return answer;
  };
  try {
    const client = new GatewayClient({ endpoint: apiUrl, region: 'us-east-1', credentials: ALICE });
    await client.health();
    await sleep(2000); // the start's own work (recovery, the first digest) done
    await record('started, after GC', { gc: true });

    let sampledPeak = 0;
    const sampler = setInterval(() => (sampledPeak = Math.max(sampledPeak, stack.memory().rss)), 250);
    const started = performance.now();
    const ids: string[] = [];
    let refused = 0;
    await eachLimited(
      Array.from({ length: jobs }, (_, i) => i),
      concurrency,
      async (i) => {
        try {
          const accepted = await client.submit(
            { clusterId: CLUSTER, executionRoleArn: ROLE, name: `memory ${i}`, step: { type: 'command', args: ['true'] } },
            { idempotencyKey: `memory-${i}` },
          );
          ids.push(accepted.jobId);
        } catch {
          refused++;
        }
      },
    );
    const submittedS = (performance.now() - started) / 1000;
    await record('all submitted', {}, `${ids.length} accepted, ${refused} refused, in ${submittedS.toFixed(0)} s`);

    // Every accepted job to its end, checked a few at a time (the checks are load too, kept light).
    let pending = ids;
    const statuses = new Map<string, number>();
    while (pending.length) {
      const still: string[] = [];
      await eachLimited(pending, 8, async (id) => {
        const job = await client.getJob(id);
        if (isTerminal(job.status)) statuses.set(job.status, (statuses.get(job.status) ?? 0) + 1);
        else still.push(id);
      });
      pending = still;
      if (pending.length) await sleep(1000);
    }
    clearInterval(sampler);
    const terminalS = (performance.now() - started) / 1000;
    const peak = stack.memory().hwm;
    rows.push({ phase: 'peak during the load (VmHWM)', rssMb: peak, note: `sampled every 250 ms: ${sampledPeak.toFixed(0)} MB` });
    await record('all terminal', {}, `${[...statuses].map(([s, n]) => `${n} ${s}`).join(', ')}, ${terminalS.toFixed(0)} s after the first submit`);

    await sleep(idleSeconds * 1000);
    await record(`idle ${idleSeconds} s`);
    await record(`idle, after GC`, { gc: true });
    // After the last row: writing a snapshot takes memory of its own.
    if (values.snapshot) console.log(`heap snapshot: ${(await stack.probe({ snapshot: resolve(values.snapshot) })).file}`);

    const base = rows[0]!.rssMb;
    console.log(`local stack (node bin/emr-gateway.js local, a child process) under ${jobs} jobs at concurrency ${concurrency}, node ${process.version}`);
    console.log('phase                          | RSS MB | × start | heap used MB | external MB | note');
    console.log('-------------------------------|--------|---------|--------------|-------------|-----');
    for (const row of rows) {
      const heap = row.heapMb === undefined ? '' : row.heapMb.toFixed(0);
      const external = row.externalMb === undefined ? '' : row.externalMb.toFixed(0);
      console.log(`${row.phase.padEnd(30)} | ${row.rssMb.toFixed(0).padStart(6)} | ${(row.rssMb / base).toFixed(2).padStart(7)} | ${heap.padStart(12)} | ${external.padStart(11)} | ${row.note ?? ''}`);
    }
    const kept = rows.at(-1)!.heapMb! - rows[0]!.heapMb!;
    console.log(`heap kept after a full GC: ${kept.toFixed(1)} MB, ${((kept * 1024) / Math.max(1, ids.length)).toFixed(1)} KB per job`);
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
