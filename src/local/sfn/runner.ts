/**
 * Runs statemachines/*.asl.json locally with aws-local-stepfunctions, every Task routed to real code by the
 * `${...FunctionArn}` placeholder in its Resource. A Task without a route is refused at construction: the
 * library would otherwise call real AWS Lambda. Executions are named (a second start with the same name is a
 * no-op, as Step Functions' StartExecution), their event history is kept and their transitions counted.
 * Stopping aborts every execution; one started after that is ABORTED at once, and no Task runs any more (the
 * stack resumes unfinished jobs at its next start).
 *
 * Memory stays bounded however many executions run (Step Functions keeps them for 90 days; an emulator that
 * runs for weeks must not): a running execution is kept whole; of the finished ones, the KEEP_HISTORIES most
 * recently finished keep their event history, input and output, the older ones only a summary (name, status,
 * dates, error, transitions; `summaryOnly`), so that DescribeExecution still answers and StartExecution of the
 * name is still a clash, and beyond KEEP_FINISHED finished executions the oldest is forgotten, as Step
 * Functions forgets one after 90 days (a restart of the stack forgets them all anyway). A whole execution of
 * this workflow is a few kilobytes (the history carries every state's input and output), a summary a few
 * hundred bytes: a few megabytes in all.
 */
import './polyfills';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { WorkflowStarter } from '../../jobs/ports';
import type { WorkflowInput } from '../../jobs/workflow-input';
import { logger } from '../../util/logger';

/** One entry of an execution's event log (the library does not export the type). */
export type EventLog = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

export type TaskHandler = (input: unknown) => Promise<unknown>;

export interface Execution {
  name: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  startedAt: Date;
  stoppedAt?: Date;
  /** Undefined once `summaryOnly`, as are `output` and (empty) `events`. */
  input: unknown;
  output?: unknown;
  error?: { error: string; cause: string };
  events: EventLog[];
  /** State transitions as Step Functions bills them: states entered, plus retries. */
  transitions: number;
  /** Set once a finished execution's input, output and event history have been dropped (its summary is kept). */
  summaryOnly?: true;
  done: Promise<Execution>;
}

export interface RunnerOptions {
  definition: unknown;
  /** Placeholder name (e.g. SubmitStepFunctionArn) → the code that Task runs. */
  routes: Readonly<Record<string, TaskHandler>>;
  /** Milliseconds every Wait state lasts instead of its own time (tests, simulations). */
  waitOverrideMs?: number;
  /** Milliseconds between retries instead of the Retry field's backoff (tests). */
  retryOverrideMs?: number;
  /** How many finished executions keep their history, input and output (KEEP_HISTORIES), and how many are kept at all (KEEP_FINISHED). */
  keep?: { histories?: number; finished?: number };
  /** The Lambda function ARN a placeholder stands for (what DefinitionSubstitutions put there in AWS). */
  functionArn?: (placeholder: string) => string;
}

/** Finished executions that keep their event history, input and output: the most recently finished. */
export const KEEP_HISTORIES = 1000;
/** Finished executions kept at all (those with a history included); the oldest beyond are forgotten. */
export const KEEP_FINISHED = 10_000;

const PLACEHOLDER = /^\$\{(\w+)\}$/;

/** Milliseconds `stop` waits for the Task calls in progress. */
export const STOP_TASKS_MS = 2000;

interface StateLike {
  Type?: string;
  Resource?: string;
  States?: Record<string, StateLike>;
  Branches?: { States: Record<string, StateLike> }[];
  Iterator?: { States: Record<string, StateLike> };
  ItemProcessor?: { States: Record<string, StateLike> };
}

/** Every state of a definition, nested ones included, by name. */
function allStates(states: Record<string, StateLike>): [string, StateLike][] {
  return Object.entries(states).flatMap(([name, state]) => [
    [name, state] as [string, StateLike],
    ...(state.Branches ?? []).flatMap((b) => allStates(b.States)),
    ...[state.Iterator, state.ItemProcessor].flatMap((p) => (p ? allStates(p.States) : [])),
  ]);
}

export class LocalWorkflowRunner implements WorkflowStarter {
  private readonly machine: StateMachine;
  private readonly handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  private readonly waits: Record<string, number> = {};
  private readonly retries: Record<string, number> = {};
  readonly executions = new Map<string, Execution>();
  /** The definition as it runs: each Task's `${...}` placeholder replaced by its function's ARN. */
  readonly definition: unknown;
  /** Task state name → the Lambda function ARN it invokes. */
  readonly taskResources: ReadonlyMap<string, string>;
  /** How to stop each running execution (the library's abort, which holds all of its run: dropped at its end). */
  private readonly aborts = new Map<string, () => void>();
  /** Finished executions that still have their history, then those kept as a summary: each oldest first. */
  private readonly withHistory = new Map<string, Execution>();
  private readonly summarized = new Map<string, Execution>();
  private readonly keepHistories: number;
  private readonly keepFinished: number;
  /** Task calls in flight: stopping waits for them, so nothing writes after its stores are gone. */
  private readonly inflight = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(private readonly options: RunnerOptions) {
    this.keepFinished = Math.max(0, options.keep?.finished ?? KEEP_FINISHED);
    this.keepHistories = Math.min(this.keepFinished, Math.max(0, options.keep?.histories ?? KEEP_HISTORIES));
    const definition = structuredClone(options.definition) as { States: Record<string, StateLike> };
    const unrouted: string[] = [];
    const resources = new Map<string, string>();
    const functionArn = options.functionArn ?? ((placeholder: string) => `arn:aws:lambda:us-east-1:000000000000:function:${placeholder}`);
    for (const [name, state] of allStates(definition.States)) {
      if (state.Type === 'Wait' && options.waitOverrideMs !== undefined) this.waits[name] = options.waitOverrideMs;
      if (options.retryOverrideMs !== undefined) this.retries[name] = options.retryOverrideMs;
      if (state.Type !== 'Task') continue;
      const placeholder = PLACEHOLDER.exec(state.Resource ?? '')?.[1];
      const handler = placeholder ? options.routes[placeholder] : undefined;
      if (!handler) {
        unrouted.push(`${name} (${state.Resource ?? 'no Resource'})`);
        continue;
      }
      this.handlers[name] = (input) => {
        if (this.stopped) return Promise.reject(new Error('the local Step Functions has stopped'));
        const call = handler(input);
        this.inflight.add(call);
        // The interpreter gets `call` itself and handles its failure (Retry, Catch); this copy only tracks it.
        void call.finally(() => this.inflight.delete(call)).catch(() => undefined);
        return call;
      };
      state.Resource = functionArn(placeholder!);
      resources.set(name, state.Resource);
    }
    if (unrouted.length) throw new Error(`Task states without a local route: ${unrouted.join(', ')}`);
    this.definition = definition;
    this.taskResources = resources;
    this.machine = new StateMachine(definition as unknown as StateMachineDefinition);
  }

  /** Starts an execution named after the job, unless one with that name exists (StartExecution is idempotent by name). */
  start(input: WorkflowInput): Promise<void> {
    this.run(input.jobId, input);
    return Promise.resolve();
  }

  run(name: string, input: unknown): Execution {
    const existing = this.executions.get(name);
    if (existing) return existing;
    if (this.stopped) {
      // As if it had started a moment before the stop: aborted by it, nothing run.
      const now = new Date();
      const aborted: Execution = { name, status: 'ABORTED', startedAt: now, stoppedAt: now, input, events: [], transitions: 0, done: undefined as never };
      aborted.done = Promise.resolve(aborted);
      this.executions.set(name, aborted);
      this.finished(aborted);
      return aborted;
    }
    const run = this.machine.run(input as Parameters<StateMachine['run']>[0], {
      overrides: { taskResourceLocalHandlers: this.handlers as never, waitTimeOverrides: this.waits, retryIntervalOverrides: this.retries },
    });
    this.aborts.set(name, run.abort);
    const execution: Execution = { name, status: 'RUNNING', startedAt: new Date(), input, events: [], transitions: 0, done: undefined as never };
    const logs = (async () => {
      for await (const event of run.eventLogs) {
        execution.events.push(event);
        if (event.type === 'StateEntered' || event.type === 'StateRetried') execution.transitions++;
      }
    })();
    execution.done = run.result.then(
      (output) => Object.assign(execution, { status: 'SUCCEEDED', output }),
      (error: unknown) => {
        if (execution.status === 'ABORTED') return execution;
        // The library wraps the state machine's error (e.g. the Fail state's) in an ExecutionError.
        const e = error as { name?: string; message?: string; cause?: { name?: string; message?: string } };
        const inner = e.name === 'ExecutionError' && e.cause ? e.cause : e;
        return Object.assign(execution, { status: 'FAILED', error: { error: inner.name ?? 'Error', cause: inner.message ?? String(error) } });
      },
    ).then(async (result) => {
      await logs;
      result.stoppedAt = new Date();
      if (this.aborts.get(name) === run.abort) this.aborts.delete(name);
      this.finished(result);
      return result;
    });
    this.executions.set(name, execution);
    return execution;
  }

  /** An execution has ended: it joins the kept ones, and the oldest beyond the bounds lose their history, or are forgotten. */
  private finished(execution: Execution): void {
    const { name } = execution;
    // Its name may have been kept before (started again once forgotten): only this execution counts now.
    this.withHistory.delete(name);
    this.summarized.delete(name);
    this.withHistory.set(name, execution);
    for (const [oldest, e] of this.withHistory) {
      if (this.withHistory.size <= this.keepHistories) break;
      this.withHistory.delete(oldest);
      Object.assign(e, { events: [], input: undefined, output: undefined, summaryOnly: true });
      this.summarized.set(oldest, e);
    }
    for (const [oldest, e] of this.summarized) {
      if (this.withHistory.size + this.summarized.size <= this.keepFinished) break;
      this.summarized.delete(oldest);
      // Only while the name is still this execution's (it may have been started again since).
      if (this.executions.get(oldest) === e) this.executions.delete(oldest);
    }
  }

  /** Stops an execution (StopExecution): it ends ABORTED. */
  abort(name: string): void {
    const execution = this.executions.get(name);
    if (execution?.status === 'RUNNING') execution.status = 'ABORTED';
    this.aborts.get(name)?.();
  }

  /**
   * Aborts every execution, refuses any later one (ABORTED at once), and waits for the Task calls already
   * running, up to STOP_TASKS_MS: a call still running then is left to fail against the stopped stack.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const name of this.executions.keys()) this.abort(name);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), STOP_TASKS_MS)));
    const settled = (async () => {
      await Promise.allSettled([...this.executions.values()].map((e) => e.done));
      while (this.inflight.size) await Promise.allSettled([...this.inflight]);
    })();
    if ((await Promise.race([settled, late])) === 'late') logger.warn('local Step Functions: task calls still running after the stop', { tasks: this.inflight.size });
    clearTimeout(timer);
  }
}
