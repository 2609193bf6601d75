/**
 * The local Step Functions API (JSON 1.0, AWSStepFunctions.*) over the local runner: StartExecution,
 * DescribeExecution, StopExecution, ListExecutions, GetExecutionHistory, SendTaskSuccess, SendTaskFailure,
 * SendTaskHeartbeat, and enough of DescribeStateMachine for tools. Names are unique per state machine, as in Step
 * Functions. An execution the runner keeps only as a summary (runner.ts: older finished ones) is described without
 * its input and output (`inputDetails.included` false), and its history is its start and its end.
 */
import { LocalServiceError } from '../errors';
import { requiredMember, stringMember } from '../json-input';
import { CALLBACK_HISTORY_RESOURCE, shownFailure, type CallbackAttempt } from './callbacks';
import type { Execution, LocalWorkflowRunner } from './runner';

const NAME = /^[A-Za-z0-9_-]{1,80}$/;
const seconds = (date: Date | undefined): number | undefined => (date ? date.getTime() / 1000 : undefined);

export interface StateMachineInfo {
  /** The role the state machine runs as (an IAM role of the config's account). */
  roleArn: string;
  /** When it was created: the local one, when the stack started. */
  creationDate: Date;
}

export class LocalStepFunctions {
  constructor(
    readonly stateMachineArn: string,
    private readonly runner: LocalWorkflowRunner,
    private readonly machine: StateMachineInfo,
  ) {}

  private executionArn(name: string): string {
    return this.stateMachineArn.replace(':stateMachine:', ':execution:') + `:${name}`;
  }

  private find(executionArn: unknown): Execution {
    const prefix = this.stateMachineArn.replace(':stateMachine:', ':execution:') + ':';
    const name = typeof executionArn === 'string' && executionArn.startsWith(prefix) ? executionArn.slice(prefix.length) : undefined;
    const execution = name ? this.runner.executions.get(name) : undefined;
    if (!execution) throw new LocalServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(executionArn)}'`);
    return execution;
  }

  private checkMachine(arn: unknown): void {
    if (arn !== this.stateMachineArn) throw new LocalServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${String(arn)}'`);
  }

  startExecution(input: { stateMachineArn?: string; name?: string; input?: string }): { executionArn: string; startDate: number } {
    this.checkMachine(input.stateMachineArn);
    const name = input.name ?? crypto.randomUUID();
    if (!NAME.test(name)) throw new LocalServiceError('InvalidName', `Invalid Name: '${name}'`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(input.input ?? '{}');
    } catch {
      throw new LocalServiceError('InvalidExecutionInput', 'Invalid State Machine Execution Input: the input is not JSON');
    }
    const existing = this.runner.executions.get(name);
    if (existing) {
      // As Step Functions: the same name and input while running answers the same execution; anything else is a clash.
      if (existing.status === 'RUNNING' && JSON.stringify(existing.input) === JSON.stringify(parsed)) {
        return { executionArn: this.executionArn(name), startDate: seconds(existing.startedAt)! };
      }
      throw new LocalServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${this.executionArn(name)}'`);
    }
    const execution = this.runner.run(name, parsed);
    return { executionArn: this.executionArn(name), startDate: seconds(execution.startedAt)! };
  }

  /** An execution's ExecutionListItem (ListExecutions), which DescribeExecution extends. */
  private summary(e: Execution): Record<string, unknown> {
    return {
      executionArn: this.executionArn(e.name),
      stateMachineArn: this.stateMachineArn,
      name: e.name,
      status: e.status,
      startDate: seconds(e.startedAt),
      ...(e.stoppedAt ? { stopDate: seconds(e.stoppedAt) } : {}),
    };
  }

  describeExecution(input: { executionArn?: string }): Record<string, unknown> {
    const e = this.find(input.executionArn);
    const included = !e.summaryOnly;
    return {
      ...this.summary(e),
      ...(included ? { input: JSON.stringify(e.input) } : {}),
      inputDetails: { included },
      ...(e.output !== undefined ? { output: JSON.stringify(e.output) } : {}),
      ...(e.status === 'SUCCEEDED' ? { outputDetails: { included } } : {}),
      ...(e.error?.error !== undefined ? { error: e.error.error } : {}),
      ...(e.error?.cause !== undefined ? { cause: e.error.cause } : {}),
    };
  }

  stopExecution(input: { executionArn?: string }): { stopDate: number } {
    const e = this.find(input.executionArn);
    this.runner.abort(e.name);
    return { stopDate: Date.now() / 1000 };
  }

  /** SendTaskSuccess: answers {} as Step Functions does; its errors are the runner's (InvalidToken, TaskTimedOut, InvalidOutput). */
  sendTaskSuccess(input: Record<string, unknown>): Record<string, never> {
    const taskToken = requiredMember(stringMember(input.taskToken, 'taskToken'), 'taskToken');
    const output = requiredMember(stringMember(input.output, 'output'), 'output');
    this.runner.sendTaskSuccess(taskToken, output);
    return {};
  }

  sendTaskFailure(input: Record<string, unknown>): Record<string, never> {
    const taskToken = requiredMember(stringMember(input.taskToken, 'taskToken'), 'taskToken');
    this.runner.sendTaskFailure(taskToken, stringMember(input.error, 'error'), stringMember(input.cause, 'cause'));
    return {};
  }

  sendTaskHeartbeat(input: Record<string, unknown>): Record<string, never> {
    this.runner.sendTaskHeartbeat(requiredMember(stringMember(input.taskToken, 'taskToken'), 'taskToken'));
    return {};
  }

  listExecutions(input: { stateMachineArn?: string; statusFilter?: string; maxResults?: number; nextToken?: string }): Record<string, unknown> {
    this.checkMachine(input.stateMachineArn);
    const all = [...this.runner.executions.values()]
      .filter((e) => !input.statusFilter || e.status === input.statusFilter)
      .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime());
    const start = Number(input.nextToken ?? 0) || 0;
    const size = Math.min(Math.max(input.maxResults || 100, 1), 1000);
    const page = all.slice(start, start + size);
    return {
      executions: page.map((e) => this.summary(e)),
      ...(start + size < all.length ? { nextToken: String(start + size) } : {}),
    };
  }

  getExecutionHistory(input: { executionArn?: string; reverseOrder?: boolean; maxResults?: number; nextToken?: string }): Record<string, unknown> {
    const e = this.find(input.executionArn);
    const events = e.summaryOnly ? summaryHistory(e, this.machine.roleArn) : this.history(e);
    const ordered = input.reverseOrder ? events.reverse() : events;
    const start = Number(input.nextToken ?? 0) || 0;
    const size = Math.min(Math.max(input.maxResults || 100, 1), 1000);
    return { events: ordered.slice(start, start + size), ...(start + size < ordered.length ? { nextToken: String(start + size) } : {}) };
  }

  /**
   * An execution's events as Step Functions writes them. A Task whose Resource is a Lambda function's ARN (the
   * workflow's, as deployed) is a Lambda invocation: between its TaskStateEntered and TaskStateExited come
   * LambdaFunctionScheduled, LambdaFunctionStarted and LambdaFunctionSucceeded (or LambdaFunctionFailed, before a
   * retry or a catch), as Step Functions logs a Lambda Resource. A callback Task (lambda:invoke.waitForTaskToken) is an
   * optimized integration: each attempt logs TaskScheduled, TaskStarted, TaskSubmitted (once its function has returned)
   * and then TaskSucceeded, TaskFailed or TaskTimedOut (callbackEvents); heartbeats log nothing.
   */
  private history(e: Execution): Record<string, unknown>[] {
    const events: Record<string, unknown>[] = [];
    const push = (timestamp: number, type: string, details: Record<string, unknown> = {}) => {
      events.push({ timestamp: timestamp / 1000, type, id: events.length + 1, previousEventId: events.length, ...details });
    };
    /** The Lambda function of the Task state `name`, if it is one. */
    const lambda = (name: string | undefined) => (name === undefined ? undefined : this.runner.taskResources.get(name));
    const callbacks = callbackEvents(push);
    // Each callback attempt follows the event that began it (its StateEntered or StateRetried).
    const attempts = e.callbackTasks.filter((a) => a.afterEvent > 0);
    let next = 0;
    let open: CallbackAttempt | undefined;
    e.events.forEach((event, index) => {
      const state = 'state' in event ? (event as { state: { name: string; type: string; input?: unknown; output?: unknown } }).state : undefined;
      const resource = lambda(state?.type === 'Task' ? state.name : undefined);
      const at = event.timestamp;
      if (open && state?.name === open.state && (event.type === 'StateExited' || event.type === 'StateFailed')) {
        callbacks.ended(open, event);
        open = undefined;
      }
      switch (event.type) {
        case 'ExecutionStarted':
          push(at, 'ExecutionStarted', { executionStartedEventDetails: { input: JSON.stringify(event.input), roleArn: this.machine.roleArn } });
          break;
        case 'ExecutionSucceeded':
          push(at, 'ExecutionSucceeded', { executionSucceededEventDetails: { output: JSON.stringify(event.output) } });
          break;
        case 'ExecutionFailed': {
          // Error and Cause are null for a SendTaskFailure that gave none; a timeout has no cause.
          const failed = event as { Error: string | null; Cause?: unknown };
          const cause = failed.Cause === null || failed.Cause === undefined ? null : typeof failed.Cause === 'string' ? failed.Cause : JSON.stringify(failed.Cause);
          push(at, 'ExecutionFailed', { executionFailedEventDetails: shownFailure(failed.Error, cause) });
          break;
        }
        case 'ExecutionAborted':
          push(at, 'ExecutionAborted');
          break;
        case 'ExecutionTimeout':
          push(at, 'ExecutionTimedOut');
          break;
        case 'StateEntered':
          push(at, `${state!.type}StateEntered`, { stateEnteredEventDetails: { name: state!.name, input: JSON.stringify(state!.input) } });
          if (resource) {
            push(at, 'LambdaFunctionScheduled', { lambdaFunctionScheduledEventDetails: { resource, input: JSON.stringify(state!.input) } });
            push(at, 'LambdaFunctionStarted');
          }
          break;
        case 'StateExited':
          if (resource) push(at, 'LambdaFunctionSucceeded', { lambdaFunctionSucceededEventDetails: { output: JSON.stringify(state!.output) } });
          push(at, `${state!.type}StateExited`, { stateExitedEventDetails: { name: state!.name, output: JSON.stringify(state!.output) } });
          break;
        case 'StateFailed':
        case 'StateRetried':
        case 'StateCaught': {
          const error = event as { Error?: string; Cause?: string };
          // The failure of the function (a retry schedules it again); any other state's failure ends the execution.
          if (resource) {
            push(at, 'LambdaFunctionFailed', { lambdaFunctionFailedEventDetails: { error: error.Error ?? 'States.TaskFailed', cause: error.Cause ?? '' } });
            if (event.type === 'StateRetried') {
              push(at, 'LambdaFunctionScheduled', { lambdaFunctionScheduledEventDetails: { resource, input: JSON.stringify(state!.input) } });
              push(at, 'LambdaFunctionStarted');
            }
          }
          break;
        }
        default:
          break;
      }
      while (attempts[next]?.afterEvent === index + 1) {
        open = attempts[next++]!;
        callbacks.began(open);
      }
    });
    return events;
  }

  describeStateMachine(input: { stateMachineArn?: string }): Record<string, unknown> {
    this.checkMachine(input.stateMachineArn);
    return {
      stateMachineArn: this.stateMachineArn,
      name: this.stateMachineArn.split(':').pop(),
      status: 'ACTIVE',
      // As deployed: the Tasks' placeholders substituted with the functions' ARNs.
      definition: JSON.stringify(this.runner.definition),
      roleArn: this.machine.roleArn,
      type: 'STANDARD',
      creationDate: seconds(this.machine.creationDate),
    };
  }
}

/** The history of an execution kept only as a summary: its start and its end, without input or output. */
function summaryHistory(e: Execution, roleArn: string): Record<string, unknown>[] {
  const started = { id: 1, previousEventId: 0, timestamp: seconds(e.startedAt), type: 'ExecutionStarted', executionStartedEventDetails: { roleArn } };
  const end = { id: 2, previousEventId: 1, timestamp: seconds(e.stoppedAt) };
  switch (e.status) {
    case 'SUCCEEDED':
      return [started, { ...end, type: 'ExecutionSucceeded', executionSucceededEventDetails: {} }];
    case 'FAILED':
      return [started, { ...end, type: 'ExecutionFailed', executionFailedEventDetails: { ...e.error } }];
    case 'ABORTED':
      return [started, { ...end, type: 'ExecutionAborted' }];
    default:
      return [started];
  }
}

type Push = (timestamp: number, type: string, details?: Record<string, unknown>) => void;

/**
 * The events of one attempt of a callback Task: how it began (TaskScheduled with its evaluated Parameters and its
 * timeouts, TaskStarted, and TaskSubmitted with the invocation's result if its function has returned), then how it
 * ended, just before the state's own StateExited or StateFailed.
 */
function callbackEvents(push: Push) {
  const of = CALLBACK_HISTORY_RESOURCE;
  return {
    began(attempt: CallbackAttempt): void {
      push(attempt.scheduledAt, 'TaskScheduled', {
        taskScheduledEventDetails: {
          ...of,
          region: attempt.region,
          parameters: JSON.stringify(attempt.parameters),
          ...(attempt.timeoutSeconds !== undefined ? { timeoutInSeconds: attempt.timeoutSeconds } : {}),
          ...(attempt.heartbeatSeconds !== undefined ? { heartbeatInSeconds: attempt.heartbeatSeconds } : {}),
        },
      });
      push(attempt.scheduledAt, 'TaskStarted', { taskStartedEventDetails: { ...of } });
      if (attempt.submitted) push(attempt.submitted.at, 'TaskSubmitted', { taskSubmittedEventDetails: { ...of, output: JSON.stringify(attempt.submitted.output), outputDetails: { truncated: false } } });
    },
    /** `event` is the state's StateExited or StateFailed that follows the attempt. */
    ended(attempt: CallbackAttempt, event: { timestamp: number; Error?: unknown }): void {
      const outcome = attempt.outcome;
      switch (outcome?.type) {
        case 'succeeded':
          return push(outcome.at, 'TaskSucceeded', { taskSucceededEventDetails: { ...of, output: outcome.output, outputDetails: { truncated: false } } });
        case 'failed':
          return push(outcome.at, 'TaskFailed', { taskFailedEventDetails: { ...of, ...shownFailure(outcome.error ?? null, outcome.cause ?? null) } });
        case 'timedOut':
          return push(outcome.at, 'TaskTimedOut', { taskTimedOutEventDetails: { ...of, error: 'States.Timeout' } });
        case 'aborted':
          return;
        default:
          // Only the interpreter's backstop timeout ends an attempt without the runner knowing (callbackMachineState).
          if (event.Error === 'States.Timeout') push(event.timestamp, 'TaskTimedOut', { taskTimedOutEventDetails: { ...of, error: 'States.Timeout' } });
      }
    },
  };
}
