/**
 * The callback pattern of the local Step Functions (`arn:aws:states:::lambda:invoke.waitForTaskToken`): task tokens,
 * the tasks waiting on them, and what SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat do to them, with Step
 * Functions' errors. The runner (runner.ts) makes one wait per attempt of a callback Task; each attempt is also
 * recorded (`CallbackAttempt`) for the execution's history (api.ts).
 *
 * What AWS does, and where that is from:
 * - A token is registered before the function is invoked, and the first of callback, function failure, timeout
 *   or heartbeat timeout ends the attempt; later callbacks answer TaskTimedOut ("Task Timed Out: 'Provided task
 *   does not exist anymore'", as AWS answers it); a token no runner could have made answers InvalidToken.
 * - Timeouts fail the task with States.Timeout and no cause (a Catch sees `"Cause": ""`), also a heartbeat timeout:
 *   its history shows States.Timeout (LocalStack's snapshot tests recorded against AWS: test_heartbeats, test_callback),
 *   while a Retry/Catch may match it with States.HeartbeatTimeout (Step Functions' error handling docs).
 * - SendTaskFailure without an error fails the task with neither error nor cause: a Catch sees `{"Error": null,
 *   "Cause": null}`, the history's TaskFailed has neither (LocalStack's snapshot test
 *   test_sqs_failure_in_wait_for_task_tok_no_error_field, recorded against AWS).
 */
// The probe below runs the interpreter, which needs it on Node 20.
import './polyfills';
import { randomBytes } from 'node:crypto';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { logger } from '../../util/logger';
import { LocalServiceError } from '../errors';

/** `arn:<partition>:states:::lambda:invoke.waitForTaskToken`: the one callback integration the local runner routes. */
export const CALLBACK_RESOURCE = /^arn:[a-z][a-z0-9-]*:states:::lambda:invoke\.waitForTaskToken$/;

/** The history's resourceType and resource of a lambda:invoke.waitForTaskToken Task. */
export const CALLBACK_HISTORY_RESOURCE = { resourceType: 'lambda', resource: 'invoke.waitForTaskToken' } as const;

/**
 * Node's longest timer (2^31 - 1 ms, about 24.8 days): a longer one fires at once. A callback Task waits at most this
 * long, whatever its TimeoutSeconds (AWS's default is 99999999 s); the stack forgets its executions at a restart anyway.
 */
export const MAX_TIMER_SECONDS = Math.floor(0x7fffffff / 1000);
/** Step Functions' TimeoutSeconds when a Task gives none. */
export const AWS_DEFAULT_TIMEOUT_SECONDS = 99_999_999;

/** The limits of the operations' members (botocore's model: SensitiveError, SensitiveCause; TaskToken as the SDK's). */
const MAX_TOKEN = 2048;
const MAX_ERROR = 256;
const MAX_CAUSE = 32_768;
/** The largest output a state may have: 256 KiB of UTF-8. */
const MAX_OUTPUT_BYTES = 262_144;

/** A local task token: the version marker, then 32 random bytes, base64url (48 characters). */
const TOKEN_PREFIX = 'LSFN1';
const TOKEN = /^LSFN1[A-Za-z0-9_-]{43}$/;

export function newTaskToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** Whether `token` is one a local runner could have made (this one, or one before a restart). */
export function isLocalTaskToken(token: string): boolean {
  return TOKEN.test(token);
}

/** How an attempt of a callback Task ended. */
export type CallbackOutcome =
  | { type: 'succeeded'; at: number; output: string }
  | { type: 'failed'; at: number; error?: string; cause?: string }
  | { type: 'timedOut'; at: number; heartbeat: boolean }
  | { type: 'aborted'; at: number };

/** One attempt of a callback Task, as its execution's history shows it. */
export interface CallbackAttempt {
  state: string;
  token: string;
  /** How many of the execution's events preceded the attempt (the last, its StateEntered or StateRetried); -1 until logged. */
  afterEvent: number;
  scheduledAt: number;
  /** The evaluated Parameters (FunctionName, Payload). */
  parameters: unknown;
  region: string;
  timeoutSeconds?: number;
  heartbeatSeconds?: number;
  /** The function's invocation returned: what lambda:invoke answers. */
  submitted?: { at: number; output: unknown };
  outcome?: CallbackOutcome;
}

/** A task waiting for its callback, as `pendingTasks()` shows it. */
export interface PendingTask {
  token: string;
  execution: string;
  state: string;
  since: Date;
}

/** What lambda:invoke answers for a successful synchronous invocation (TaskSubmitted's output). */
export function invokeResult(payload: unknown): Record<string, unknown> {
  return {
    ExecutedVersion: '$LATEST',
    Payload: payload ?? null,
    SdkHttpMetadata: { HttpHeaders: { 'Content-Type': 'application/json' }, HttpStatusCode: 200 },
    SdkResponseMetadata: { RequestId: crypto.randomUUID() },
    StatusCode: 200,
  };
}

/**
 * An error the interpreter neither retries nor catches (it reads `isRetryable` / `isCatchable`): a States.Runtime
 * failure, or the end of an attempt whose execution has been stopped (a Retry must not run it again).
 */
export class UncaughtTaskError extends Error {
  readonly isRetryable = false;
  readonly isCatchable = false;

  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** SendTaskFailure's error and cause as the task's: null where not given, as Step Functions has them. */
class CallbackFailure extends Error {
  constructor(error: string | undefined, cause: string | undefined) {
    super();
    // The interpreter reports `name` and `message` as the error's Error and Cause: null, not a default, when absent.
    this.name = (error ?? null) as unknown as string;
    this.message = (cause ?? null) as unknown as string;
  }
}

type ErrorClass = new () => Error;
let timeoutClass: Promise<ErrorClass> | undefined;

/**
 * The interpreter's own States.Timeout class. It tells a timeout from a task failure by `instanceof` it (States.TaskFailed
 * must not match a timeout), and does not export it: it is taken from a timeout the interpreter raises once, in a
 * one-state machine of its own (1 ms). Where that ever fails (another version), a plain error stands in, and says so.
 */
export function statesTimeoutClass(): Promise<ErrorClass> {
  timeoutClass ??= (async () => {
    const fallback = class extends Error {};
    const definition = { StartAt: 'Probe', States: { Probe: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:probe', TimeoutSeconds: 0.001, End: true } } };
    try {
      const probe = new StateMachine(definition as StateMachineDefinition, { validationOptions: { noValidate: true } });
      await probe.run({}, { overrides: { taskResourceLocalHandlers: { Probe: () => new Promise<never>(() => undefined) } } }).result;
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause;
      if (cause instanceof Error && cause.name === 'States.Timeout') return cause.constructor as ErrorClass;
    }
    logger.warn('local Step Functions: the interpreter raised no States.Timeout to learn its class; a States.TaskFailed Retry or Catch would match callback timeouts');
    return fallback;
  })();
  return timeoutClass;
}

/** The error a timed-out attempt fails with: States.Timeout, or States.HeartbeatTimeout (which ErrorEquals matches), no cause. */
async function timeoutError(heartbeat: boolean): Promise<Error> {
  const error = new (await statesTimeoutClass())();
  error.name = heartbeat ? 'States.HeartbeatTimeout' : 'States.Timeout';
  error.message = '';
  return error;
}

/**
 * A failure's error and cause as a Step Functions history and DescribeExecution show them: a heartbeat timeout is a
 * States.Timeout there, a timeout has no cause, and a SendTaskFailure without error or cause (null here) has none.
 */
export function shownFailure(error: string | null, cause: string | null): { error?: string; cause?: string } {
  const name = error === 'States.HeartbeatTimeout' ? 'States.Timeout' : error;
  // The interpreter's own timeout (a Lambda Task's) has the message 'States.Timeout'; the runner's has none.
  const noCause = cause === null || (name === 'States.Timeout' && (cause === '' || cause === 'States.Timeout'));
  return { ...(name !== null ? { error: name } : {}), ...(noCause ? {} : { cause }) };
}

const validation = (member: string, constraint: string) => new LocalServiceError('ValidationException', `1 validation error detected: Value at '${member}' failed to satisfy constraint: Member must have length ${constraint}`);

function checkLength(value: string | undefined, member: string, max: number, min = 0): void {
  if (value === undefined) return;
  if (value.length < min) throw validation(member, `greater than or equal to ${min}`);
  if (value.length > max) throw validation(member, `less than or equal to ${max}`);
}

interface Waiting extends PendingTask {
  attempt: CallbackAttempt;
  resolve: (output: unknown) => void;
  reject: (error: unknown) => void;
  timeout?: NodeJS.Timeout;
  heartbeat?: NodeJS.Timeout;
  /** Milliseconds of silence after which the task is lost; undefined: no heartbeat. */
  heartbeatMs?: number;
  /** Whether the function has returned: the heartbeat clock runs from then. */
  submitted: boolean;
}

export interface WaitSpec {
  execution: string;
  attempt: CallbackAttempt;
  timeoutMs: number;
  heartbeatMs?: number;
  /** Called once the token is registered; resolves with the function's result. */
  invoke: () => Promise<unknown>;
}

/** The callback tasks of one runner, by token. */
export class CallbackTasks {
  private readonly waiting = new Map<string, Waiting>();

  /**
   * Registers the attempt's token, then invokes the function (which may itself call back before it returns), and
   * returns what the Task state awaits: the callback's output, or the failure of the callback, the function or a
   * timeout, whichever comes first.
   */
  wait(spec: WaitSpec): Promise<unknown> {
    const { attempt } = spec;
    let resolve!: (output: unknown) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const task: Waiting = { token: attempt.token, execution: spec.execution, state: attempt.state, since: new Date(attempt.scheduledAt), attempt, resolve, reject, heartbeatMs: spec.heartbeatMs, submitted: false };
    this.waiting.set(task.token, task);
    task.timeout = setTimeout(() => this.timeOut(task, false), spec.timeoutMs);
    void (async () => {
      let result: unknown;
      try {
        result = await spec.invoke();
      } catch (error) {
        // A callback that came first has already ended the attempt: the function's failure is then nobody's business.
        const { name, message } = error as { name?: unknown; message?: unknown };
        const failed = { type: 'failed', at: Date.now(), error: typeof name === 'string' ? name : 'Error', cause: typeof message === 'string' ? message : String(error) } as const;
        if (this.isWaiting(task)) this.end(task, failed, () => reject(error));
        return;
      }
      if (!this.isWaiting(task)) return;
      attempt.submitted = { at: Date.now(), output: invokeResult(result) };
      task.submitted = true;
      this.beat(task);
    })();
    return promise;
  }

  private isWaiting(task: Waiting): boolean {
    return this.waiting.get(task.token) === task;
  }

  /** (Re)starts the heartbeat clock of a submitted task. */
  private beat(task: Waiting): void {
    if (task.heartbeatMs === undefined || !task.submitted) return;
    clearTimeout(task.heartbeat);
    task.heartbeat = setTimeout(() => this.timeOut(task, true), task.heartbeatMs);
  }

  private timeOut(task: Waiting, heartbeat: boolean): void {
    if (!this.isWaiting(task)) return;
    // The token is dead at once; the error follows as soon as the interpreter's class is known (at the first timeout, 1 ms).
    this.end(task, { type: 'timedOut', at: Date.now(), heartbeat }, () => void timeoutError(heartbeat).then(task.reject));
  }

  /** Ends an attempt: its token dies, its timers stop, its outcome is recorded, then `settle` settles what the Task awaits. */
  private end(task: Waiting, outcome: CallbackOutcome, settle: () => void): void {
    this.waiting.delete(task.token);
    clearTimeout(task.timeout);
    clearTimeout(task.heartbeat);
    task.attempt.outcome = outcome;
    settle();
  }

  /** The waiting task of `token`, or AWS's error for a token that is not one. */
  private find(token: string): Waiting {
    checkLength(token, 'taskToken', MAX_TOKEN, 1);
    const task = this.waiting.get(token);
    if (task) return task;
    if (!isLocalTaskToken(token)) throw new LocalServiceError('InvalidToken', "Invalid Token: 'Invalid token'");
    throw new LocalServiceError('TaskTimedOut', "Task Timed Out: 'Provided task does not exist anymore'");
  }

  succeed(token: string, output: string): void {
    const task = this.find(token);
    if (Buffer.byteLength(output, 'utf8') > MAX_OUTPUT_BYTES) throw new LocalServiceError('InvalidOutput', `Invalid Output: 'the output is larger than ${MAX_OUTPUT_BYTES} bytes'`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(output);
    } catch {
      throw new LocalServiceError('InvalidOutput', "Invalid Output: 'the output is not JSON'");
    }
    this.end(task, { type: 'succeeded', at: Date.now(), output }, () => task.resolve(parsed));
  }

  fail(token: string, error?: string, cause?: string): void {
    checkLength(error, 'error', MAX_ERROR);
    checkLength(cause, 'cause', MAX_CAUSE);
    const task = this.find(token);
    this.end(task, { type: 'failed', at: Date.now(), ...(error !== undefined ? { error } : {}), ...(cause !== undefined ? { cause } : {}) }, () => task.reject(new CallbackFailure(error, cause)));
  }

  heartbeat(token: string): void {
    this.beat(this.find(token));
  }

  /** Drops the tokens of a stopped execution: their tasks end, neither retried nor caught. */
  dropExecution(execution: string): void {
    for (const task of [...this.waiting.values()]) {
      if (task.execution !== execution) continue;
      this.end(task, { type: 'aborted', at: Date.now() }, () => task.reject(new UncaughtTaskError('States.Runtime', 'the execution has been stopped')));
    }
  }

  list(): PendingTask[] {
    return [...this.waiting.values()].map(({ token, execution, state, since }) => ({ token, execution, state, since }));
  }
}
