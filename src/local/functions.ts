/**
 * The local Lambda runtime: the gateway's functions run in a worker thread of their own (functions-worker.ts), so
 * that the local stack uses two cores where one was all it had: the emulators (DynamoDB, EMR, Step Functions, KMS,
 * the API front) answer on this thread while the functions' own work (their SDK clients, the policy, the audit
 * hashes) runs there. In AWS they run apart too, and share nothing but the AWS APIs; here as well: each side has
 * its own gateway, its own SDK clients and caches, and they meet only at the AWS port.
 *
 * From source (tests, tsx) the worker loads the TypeScript through tsx; from the build, dist/functions-worker.js.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { AwsTarget } from '../adapters/clients';
import type { GatewayEnv } from '../config/env';
import type { TaskName } from '../jobs/task-routes';
import { logger } from '../util/logger';

export interface FunctionsWorkerData {
  env: GatewayEnv;
  credentials: NonNullable<AwsTarget['credentials']>;
}

/** Told of each job a function's write left with a delivery due (the local stand-in for the jobs table's stream). */
export type DueListener = (jobId: string) => void;
export type FunctionName = 'api' | 'stepEvent' | TaskName;
export interface FunctionCall {
  id: number;
  fn: FunctionName;
  event: unknown;
}
export type FunctionReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: { name: string; message: string } };

const isTask = (fn: FunctionName): fn is TaskName => fn !== 'api' && fn !== 'stepEvent';

/** Milliseconds the stop gives the calls in progress, then the worker's goodbye. */
const STOP_MS = 2000;

export class LocalFunctions {
  private nextId = 0;
  private readonly calls = new Map<number, { fn: FunctionName; resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  /** The most task invocations (the state machine's) that were in the worker at once. */
  mostTasksAtOnce = 0;
  /** The worker, once ready: a new one after a crash, as Lambda starts a new sandbox. */
  private worker: Promise<Worker>;
  private stopping = false;

  /** Set by the stack once its notifier is built. */
  onDeliveriesDue?: DueListener;

  private constructor(private readonly data: FunctionsWorkerData, first: Worker) {
    this.worker = Promise.resolve(this.watch(first));
  }

  /** Starts the worker and waits until its gateway is built (a configuration it cannot load fails here). */
  static async start(data: FunctionsWorkerData): Promise<LocalFunctions> {
    return new LocalFunctions(data, await spawn(data));
  }

  private watch(worker: Worker): Worker {
    worker.on('message', (message: FunctionReply | { ready?: true; stopped?: true; due?: string }) => {
      if ('due' in message && typeof message.due === 'string') return this.onDeliveriesDue?.(message.due);
      if (!('id' in message)) return;
      const call = this.calls.get(message.id);
      if (!call) return;
      this.calls.delete(message.id);
      if (message.ok) call.resolve(message.result);
      else call.reject(Object.assign(new Error(message.error.message), { name: message.error.name }));
    });
    worker.on('error', (error) => logger.error('local Lambda runtime: the functions\' worker failed', { error: { name: error.name, message: error.message, stack: error.stack } }));
    worker.once('exit', (code) => {
      // The calls it had die with it, as with a Lambda runtime that exits: the caller (Step Functions, the API front) sees the error.
      for (const call of this.calls.values()) {
        call.reject(Object.assign(new Error(`the function's runtime exited (code ${code}) before it answered`), { name: 'Runtime.ExitError' }));
      }
      this.calls.clear();
      if (this.stopping) return;
      logger.error('local Lambda runtime: the functions\' worker exited; starting a new one', { code });
      this.worker = spawn(this.data);
      this.worker.then((next) => this.watch(next), (error: unknown) => logger.error('local Lambda runtime: a new worker could not start', { error }));
    });
    return worker;
  }

  /** Invokes a function with its event: its result, or its error (by name and message, as Lambda reports one). */
  async invoke(fn: FunctionName, event: unknown): Promise<unknown> {
    if (this.stopping) throw new Error('the local Lambda runtime has stopped');
    const worker = await this.worker;
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { fn, resolve, reject });
      if (isTask(fn)) this.mostTasksAtOnce = Math.max(this.mostTasksAtOnce, [...this.calls.values()].filter((c) => isTask(c.fn)).length);
      worker.postMessage({ id, fn, event } satisfies FunctionCall);
    });
  }

  api(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    return this.invoke('api', event) as Promise<APIGatewayProxyResult>;
  }

  /** Waits for the calls in progress (up to STOP_MS), lets the worker close its connections, and ends it. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const worker = await this.worker.catch(() => undefined);
    if (!worker) return;
    const deadline = Date.now() + STOP_MS;
    while (this.calls.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const goodbye = new Promise<void>((resolve) => {
      worker.on('message', (message: { stopped?: true }) => message.stopped && resolve());
      worker.once('exit', () => resolve());
      setTimeout(resolve, Math.max(0, deadline - Date.now()) + 200).unref();
    });
    worker.postMessage({ stop: true });
    await goodbye;
    await worker.terminate();
  }
}

/** A worker, once its gateway is built. */
async function spawn(data: FunctionsWorkerData): Promise<Worker> {
  const built = join(__dirname, 'functions-worker.js');
  const worker = existsSync(built)
    ? new Worker(built, { workerData: data })
    : new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(join(__dirname, 'functions-worker.ts'))});`, { eval: true, workerData: data });
  await new Promise<void>((resolve, reject) => {
    const onMessage = (message: { ready?: true }) => {
      if (!message.ready) return;
      worker.off('error', reject);
      worker.off('message', onMessage);
      resolve();
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
  });
  return worker;
}
