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
 *
 * A Task whose Resource is `arn:<partition>:states:::lambda:invoke.waitForTaskToken` (the callback pattern) is routed by
 * the `${...FunctionArn}` placeholder of its Parameters.FunctionName: its handler gets the evaluated Payload, in which
 * `$$.Task.Token` is a fresh token per attempt, and the Task waits for SendTaskSuccess / SendTaskFailure with it
 * (callbacks.ts), with Step Functions' TimeoutSeconds (AWS's default when none) and HeartbeatSeconds. The interpreter
 * knows neither the Task context nor heartbeats, so such a state runs rewritten (`callbackMachineState`): its timeouts
 * are the runner's, read from its Parameters' evaluation. An execution runs one state at a time (no callback Task inside
 * Parallel or Map, which is refused), so `$$.Task.Token` is simply the token of the execution's next callback attempt.
 */
import './polyfills';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { WorkflowStarter } from '../../jobs/ports';
import type { WorkflowInput } from '../../jobs/workflow-input';
import { logger } from '../../util/logger';
import {
  AWS_DEFAULT_TIMEOUT_SECONDS,
  CALLBACK_RESOURCE,
  CallbackTasks,
  MAX_TIMER_SECONDS,
  newTaskToken,
  shownFailure,
  statesTimeoutClass,
  UncaughtTaskError,
  type CallbackAttempt,
  type PendingTask,
} from './callbacks';

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
  /** Either may be absent: a SendTaskFailure without an error fails with neither, as in Step Functions. */
  error?: { error?: string; cause?: string };
  events: EventLog[];
  /** The attempts of its callback Tasks, for its history (emptied, as `events`, once `summaryOnly`). */
  callbackTasks: CallbackAttempt[];
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
  /**
   * Milliseconds every waiting callback Task's heartbeat timeout lasts instead of its HeartbeatSeconds (tests: 0 ends a
   * task that has one at once, as soon as its function has returned; one without HeartbeatSeconds has no heartbeat).
   */
  heartbeatOverrideMs?: number;
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
  Parameters?: Record<string, unknown>;
  TimeoutSeconds?: number;
  TimeoutSecondsPath?: string;
  HeartbeatSeconds?: number;
  HeartbeatSecondsPath?: string;
  Retry?: { ErrorEquals: string[] }[];
  Catch?: { ErrorEquals: string[] }[];
  States?: Record<string, StateLike>;
  Branches?: { States: Record<string, StateLike> }[];
  Iterator?: { States: Record<string, StateLike> };
  ItemProcessor?: { States: Record<string, StateLike> };
}

/**
 * A copy of a JSON definition. Not structuredClone: under jest its objects come from another realm, and the interpreter
 * only evaluates a nested Parameters object whose prototype is its own realm's Object.prototype.
 */
const cloneJson = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** Every state of a definition, nested ones included (and said to be: inside a Parallel or Map), by name. */
function allStates(states: Record<string, StateLike>, nested = false): [string, StateLike, boolean][] {
  return Object.entries(states).flatMap(([name, state]) => [
    [name, state, nested] as [string, StateLike, boolean],
    ...(state.Branches ?? []).flatMap((b) => allStates(b.States, true)),
    ...[state.Iterator, state.ItemProcessor].flatMap((p) => (p ? allStates(p.States, true) : [])),
  ]);
}

/** A callback Task (lambda:invoke.waitForTaskToken): its route and its timeouts as its definition gives them. */
interface CallbackState {
  name: string;
  handler: TaskHandler;
  /** The region of its function, where TaskScheduled says it was scheduled. */
  region: string;
  timeoutSeconds?: number;
  timeoutSecondsPath?: string;
  heartbeatSeconds?: number;
  heartbeatSecondsPath?: string;
}

/** What the interpreter evaluates for a callback Task (`callbackMachineState`): its Parameters, and its timeout paths resolved. */
interface CallbackEvaluation {
  Parameters: { FunctionName?: unknown; Payload?: unknown };
  TimeoutSeconds?: unknown;
  HeartbeatSeconds?: unknown;
}

/**
 * A callback Task as the interpreter runs it. Its Parameters are wrapped so that their evaluation also resolves
 * TimeoutSecondsPath and HeartbeatSecondsPath against the state's input (as Step Functions resolves them; the interpreter
 * would read TimeoutSecondsPath from the evaluated Parameters, and knows no heartbeat). Its own timeout becomes the
 * longest timer, a backstop the runner's always beats. And a Retry or Catch that matches States.Timeout also matches a
 * heartbeat timeout, whose error is named States.HeartbeatTimeout for ErrorEquals to tell it apart.
 */
function callbackMachineState(state: StateLike): void {
  const wrapper: Record<string, unknown> = { Parameters: state.Parameters ?? {} };
  if (state.TimeoutSecondsPath !== undefined) wrapper['TimeoutSeconds.$'] = state.TimeoutSecondsPath;
  if (state.HeartbeatSecondsPath !== undefined) wrapper['HeartbeatSeconds.$'] = state.HeartbeatSecondsPath;
  state.Parameters = wrapper;
  delete state.TimeoutSecondsPath;
  delete state.HeartbeatSeconds;
  delete state.HeartbeatSecondsPath;
  state.TimeoutSeconds = MAX_TIMER_SECONDS;
  for (const matcher of [...(state.Retry ?? []), ...(state.Catch ?? [])]) {
    if (matcher.ErrorEquals.includes('States.Timeout') && !matcher.ErrorEquals.includes('States.HeartbeatTimeout')) matcher.ErrorEquals.push('States.HeartbeatTimeout');
  }
}

/** A resolved TimeoutSecondsPath / HeartbeatSecondsPath: a positive integer, else the States.Runtime error the state fails with, as in Step Functions. */
function positiveSeconds(value: unknown, field: string, path: string): number | UncaughtTaskError {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1) return value;
  return new UncaughtTaskError('States.Runtime', `The value of ${field} '${path}' is ${JSON.stringify(value)}, not a positive integer`);
}

/** `$$.Task.Token` of one execution: made when the Parameters of a callback Task first read it, taken by that attempt. */
class TaskTokenContext {
  private next: string | undefined;
  readonly task: object = Object.defineProperty({}, 'Token', { enumerable: true, get: () => (this.next ??= newTaskToken()) });

  /** The attempt's token (a new one if its Parameters did not read it); the next attempt gets another. */
  take(): string {
    const token = this.next ?? newTaskToken();
    this.next = undefined;
    return token;
  }
}

export class LocalWorkflowRunner implements WorkflowStarter {
  private readonly machine: StateMachine;
  private readonly handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  /** The callback Tasks, by state name, and the tasks waiting for their callbacks. */
  private readonly callbackStates = new Map<string, CallbackState>();
  private readonly callbacks = new CallbackTasks();
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
    const definition = cloneJson(options.definition) as { States: Record<string, StateLike> };
    const unrouted: string[] = [];
    const nestedCallbacks: string[] = [];
    const resources = new Map<string, string>();
    const functionArn = options.functionArn ?? ((placeholder: string) => `arn:aws:lambda:us-east-1:000000000000:function:${placeholder}`);
    for (const [name, state, nested] of allStates(definition.States)) {
      if (state.Type === 'Wait' && options.waitOverrideMs !== undefined) this.waits[name] = options.waitOverrideMs;
      if (options.retryOverrideMs !== undefined) this.retries[name] = options.retryOverrideMs;
      if (state.Type !== 'Task') continue;
      if (CALLBACK_RESOURCE.test(state.Resource ?? '')) {
        const functionName = state.Parameters?.FunctionName;
        const placeholder = PLACEHOLDER.exec(typeof functionName === 'string' ? functionName : '')?.[1];
        const handler = placeholder ? options.routes[placeholder] : undefined;
        if (!handler) unrouted.push(`${name} (${state.Resource} with FunctionName ${JSON.stringify(functionName ?? null)})`);
        else if (nested) nestedCallbacks.push(name);
        else {
          const arn = functionArn(placeholder!);
          state.Parameters = { ...state.Parameters, FunctionName: arn };
          this.callbackStates.set(name, {
            name,
            handler,
            region: arn.split(':')[3] || 'us-east-1',
            timeoutSeconds: state.TimeoutSeconds,
            timeoutSecondsPath: state.TimeoutSecondsPath,
            heartbeatSeconds: state.HeartbeatSeconds,
            heartbeatSecondsPath: state.HeartbeatSecondsPath,
          });
        }
        continue;
      }
      // Any other Resource but a placeholder (another arn:...:states::: integration, a real ARN) would reach real AWS.
      const placeholder = PLACEHOLDER.exec(state.Resource ?? '')?.[1];
      const handler = placeholder ? options.routes[placeholder] : undefined;
      if (!handler) {
        unrouted.push(`${name} (${state.Resource ?? 'no Resource'})`);
        continue;
      }
      this.handlers[name] = (input) => this.invoke(handler, input);
      state.Resource = functionArn(placeholder!);
      resources.set(name, state.Resource);
    }
    if (unrouted.length) throw new Error(`Task states without a local route: ${unrouted.join(', ')}`);
    if (nestedCallbacks.length) throw new Error(`waitForTaskToken Task states inside a Parallel or Map state, which the local Step Functions cannot run: ${nestedCallbacks.join(', ')}`);
    this.definition = definition;
    this.taskResources = resources;
    // The interpreter's copy: callback Tasks rewritten, and no Task timeout past Node's longest timer (a longer one fires at once).
    const machineDefinition = cloneJson(definition);
    for (const [name, state] of allStates(machineDefinition.States)) {
      if (this.callbackStates.has(name)) callbackMachineState(state);
      else if (state.Type === 'Task' && (state.TimeoutSeconds ?? 0) > MAX_TIMER_SECONDS) state.TimeoutSeconds = MAX_TIMER_SECONDS;
    }
    this.machine = new StateMachine(machineDefinition as unknown as StateMachineDefinition);
    // Learnt once, before any callback Task can time out (callbacks.ts).
    if (this.callbackStates.size) void statesTimeoutClass();
  }

  /** A handler call, tracked until it settles (stopping waits for it); none once stopped. */
  private invoke(handler: TaskHandler, input: unknown): Promise<unknown> {
    if (this.stopped) return Promise.reject(new Error('the local Step Functions has stopped'));
    const call = handler(input);
    this.inflight.add(call);
    // The caller gets `call` itself and handles its failure (Retry, Catch); this copy only tracks it.
    void call.finally(() => this.inflight.delete(call)).catch(() => undefined);
    return call;
  }

  /**
   * One attempt of a callback Task of `execution`: the interpreter has evaluated its Parameters (reading `$$.Task.Token`
   * from `tokens`); the attempt takes that token, and waits (callbacks.ts) with the timeouts its definition gives.
   */
  private callback(state: CallbackState, execution: Execution, tokens: TaskTokenContext, evaluated: unknown): Promise<unknown> {
    const token = tokens.take();
    // A stopped execution runs no more attempts (a Retry after its abort, say).
    if (this.stopped || execution.status !== 'RUNNING') return Promise.reject(new UncaughtTaskError('States.Runtime', 'the execution has been stopped'));
    const { Parameters: parameters, TimeoutSeconds: timeoutValue, HeartbeatSeconds: heartbeatValue } = evaluated as CallbackEvaluation;
    const timeoutSeconds = state.timeoutSeconds ?? (state.timeoutSecondsPath === undefined ? undefined : positiveSeconds(timeoutValue, 'TimeoutSecondsPath', state.timeoutSecondsPath));
    const heartbeatSeconds = state.heartbeatSeconds ?? (state.heartbeatSecondsPath === undefined ? undefined : positiveSeconds(heartbeatValue, 'HeartbeatSecondsPath', state.heartbeatSecondsPath));
    if (timeoutSeconds instanceof Error) return Promise.reject(timeoutSeconds);
    if (heartbeatSeconds instanceof Error) return Promise.reject(heartbeatSeconds);
    const attempt: CallbackAttempt = {
      state: state.name,
      token,
      afterEvent: -1,
      scheduledAt: Date.now(),
      parameters,
      region: state.region,
      ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
      ...(heartbeatSeconds !== undefined ? { heartbeatSeconds } : {}),
    };
    execution.callbackTasks.push(attempt);
    const longest = (MAX_TIMER_SECONDS - 1) * 1000;
    const heartbeatMs = heartbeatSeconds === undefined ? undefined : (this.options.heartbeatOverrideMs ?? heartbeatSeconds * 1000);
    return this.callbacks.wait({
      execution: execution.name,
      attempt,
      timeoutMs: Math.min((timeoutSeconds ?? AWS_DEFAULT_TIMEOUT_SECONDS) * 1000, longest),
      ...(heartbeatMs !== undefined ? { heartbeatMs: Math.min(Math.max(0, heartbeatMs), longest) } : {}),
      // As lambda:invoke passes it: the Payload is the function's event.
      invoke: () => this.invoke(state.handler, parameters.Payload ?? {}),
    });
  }

  /** SendTaskSuccess: the waiting task of `token` succeeds with `output` (JSON). Throws LocalServiceError as Step Functions answers. */
  sendTaskSuccess(token: string, output: string): void {
    this.callbacks.succeed(token, output);
  }

  /** SendTaskFailure: the waiting task of `token` fails with `error` and `cause` (either may be absent). */
  sendTaskFailure(token: string, error?: string, cause?: string): void {
    this.callbacks.fail(token, error, cause);
  }

  /** SendTaskHeartbeat: the waiting task of `token` restarts its heartbeat clock. */
  sendTaskHeartbeat(token: string): void {
    this.callbacks.heartbeat(token);
  }

  /** The tasks waiting for a callback now (a copy). */
  pendingTasks(): PendingTask[] {
    return this.callbacks.list();
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
      const aborted: Execution = { name, status: 'ABORTED', startedAt: now, stoppedAt: now, input, events: [], callbackTasks: [], transitions: 0, done: undefined as never };
      aborted.done = Promise.resolve(aborted);
      this.executions.set(name, aborted);
      this.finished(aborted);
      return aborted;
    }
    const execution: Execution = { name, status: 'RUNNING', startedAt: new Date(), input, events: [], callbackTasks: [], transitions: 0, done: undefined as never };
    // Each execution's callback Tasks wait on their own tokens: their handlers and `$$.Task` are the execution's.
    const handlers = { ...this.handlers };
    const tokens = new TaskTokenContext();
    for (const state of this.callbackStates.values()) handlers[state.name] = (evaluated) => this.callback(state, execution, tokens, evaluated);
    const run = this.machine.run(input as Parameters<StateMachine['run']>[0], {
      overrides: { taskResourceLocalHandlers: handlers as never, waitTimeOverrides: this.waits, retryIntervalOverrides: this.retries },
      ...(this.callbackStates.size ? { context: { Task: tokens.task } } : {}),
    });
    this.aborts.set(name, run.abort);
    const logs = (async () => {
      for await (const event of run.eventLogs) {
        execution.events.push(event);
        if (event.type !== 'StateEntered' && event.type !== 'StateRetried') continue;
        execution.transitions++;
        // The attempt this event began, if it is a callback Task's: made when the event was sent (the interpreter calls
        // the Task synchronously after it), so already there, and in order (only a States.Runtime failure, which ends
        // the execution, leaves an attempt without one).
        const { name } = (event as { state: { name: string } }).state;
        if (!this.callbackStates.has(name)) continue;
        const attempt = execution.callbackTasks.find((a) => a.afterEvent < 0 && a.state === name);
        if (attempt) attempt.afterEvent = execution.events.length;
      }
    })();
    execution.done = run.result.then(
      (output) => Object.assign(execution, { status: 'SUCCEEDED', output }),
      (error: unknown) => {
        if (execution.status === 'ABORTED') return execution;
        // The library wraps the state machine's error (e.g. the Fail state's) in an ExecutionError.
        type Failure = { name?: string | null; message?: string | null };
        const e = error as Failure & { cause?: Failure };
        const inner = e.name === 'ExecutionError' && e.cause ? e.cause : e;
        // null: a SendTaskFailure that gave none (callbacks.ts).
        const failure = shownFailure(inner.name === undefined ? 'Error' : inner.name, inner.message === undefined ? String(error) : inner.message);
        return Object.assign(execution, { status: 'FAILED', error: failure });
      },
    ).then(async (result) => {
      // However it ended (an execution timeout, say), no task of it waits any more.
      this.callbacks.dropExecution(name);
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
      Object.assign(e, { events: [], callbackTasks: [], input: undefined, output: undefined, summaryOnly: true });
      this.summarized.set(oldest, e);
    }
    for (const [oldest, e] of this.summarized) {
      if (this.withHistory.size + this.summarized.size <= this.keepFinished) break;
      this.summarized.delete(oldest);
      // Only while the name is still this execution's (it may have been started again since).
      if (this.executions.get(oldest) === e) this.executions.delete(oldest);
    }
  }

  /** Stops an execution (StopExecution): it ends ABORTED, and its task tokens are dead (a later callback is TaskTimedOut). */
  abort(name: string): void {
    const execution = this.executions.get(name);
    if (execution?.status === 'RUNNING') execution.status = 'ABORTED';
    this.aborts.get(name)?.();
    this.callbacks.dropExecution(name);
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
