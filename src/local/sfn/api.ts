/**
 * The local Step Functions API (JSON 1.0, AWSStepFunctions.*) over the local runner: StartExecution,
 * DescribeExecution, StopExecution, ListExecutions, GetExecutionHistory, and enough of DescribeStateMachine
 * for tools. Names are unique per state machine, as in Step Functions. An execution the runner keeps only as a
 * summary (runner.ts: older finished ones) is described without its input and output (`inputDetails.included`
 * false), and its history is its start and its end.
 */
import { LocalServiceError } from '../errors';
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
      ...(e.error ? { error: e.error.error, cause: e.error.cause } : {}),
    };
  }

  stopExecution(input: { executionArn?: string }): { stopDate: number } {
    const e = this.find(input.executionArn);
    this.runner.abort(e.name);
    return { stopDate: Date.now() / 1000 };
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
   * retry or a catch), as Step Functions logs a Lambda Resource (the optimized integrations log Task* events).
   */
  private history(e: Execution): Record<string, unknown>[] {
    const events: Record<string, unknown>[] = [];
    const push = (timestamp: number, type: string, details: Record<string, unknown> = {}) => {
      events.push({ timestamp: timestamp / 1000, type, id: events.length + 1, previousEventId: events.length, ...details });
    };
    /** The Lambda function of the Task state `name`, if it is one. */
    const lambda = (name: string | undefined) => (name === undefined ? undefined : this.runner.taskResources.get(name));
    for (const event of e.events) {
      const state = 'state' in event ? (event as { state: { name: string; type: string; input?: unknown; output?: unknown } }).state : undefined;
      const resource = lambda(state?.type === 'Task' ? state.name : undefined);
      const at = event.timestamp;
      switch (event.type) {
        case 'ExecutionStarted':
          push(at, 'ExecutionStarted', { executionStartedEventDetails: { input: JSON.stringify(event.input), roleArn: this.machine.roleArn } });
          break;
        case 'ExecutionSucceeded':
          push(at, 'ExecutionSucceeded', { executionSucceededEventDetails: { output: JSON.stringify(event.output) } });
          break;
        case 'ExecutionFailed':
          push(at, 'ExecutionFailed', { executionFailedEventDetails: { error: event.Error, cause: String(event.Cause) } });
          break;
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
    }
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
      return [started, { ...end, type: 'ExecutionFailed', executionFailedEventDetails: { error: e.error?.error ?? 'Error', cause: e.error?.cause ?? '' } }];
    case 'ABORTED':
      return [started, { ...end, type: 'ExecutionAborted' }];
    default:
      return [started];
  }
}
