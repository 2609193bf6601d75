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

export class LocalStepFunctions {
  constructor(
    readonly stateMachineArn: string,
    private readonly runner: LocalWorkflowRunner,
    private readonly definition: unknown,
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
    const events = e.summaryOnly ? summaryHistory(e) : e.events.map((event, i) => {
      const base = { id: i + 1, previousEventId: i, timestamp: event.timestamp / 1000 };
      const state = 'state' in event ? (event as { state: { name: string; type: string; input?: unknown; output?: unknown } }).state : undefined;
      switch (event.type) {
        case 'ExecutionStarted':
          return { ...base, type: 'ExecutionStarted', executionStartedEventDetails: { input: JSON.stringify(event.input), roleArn: 'arn:aws:iam::000000000000:role/local' } };
        case 'ExecutionSucceeded':
          return { ...base, type: 'ExecutionSucceeded', executionSucceededEventDetails: { output: JSON.stringify(event.output) } };
        case 'ExecutionFailed':
          return { ...base, type: 'ExecutionFailed', executionFailedEventDetails: { error: event.Error, cause: String(event.Cause) } };
        case 'ExecutionAborted':
        case 'ExecutionTimeout':
          return { ...base, type: event.type === 'ExecutionAborted' ? 'ExecutionAborted' : 'ExecutionTimedOut' };
        case 'StateEntered':
          return { ...base, type: `${state!.type}StateEntered`, stateEnteredEventDetails: { name: state!.name, input: JSON.stringify(state!.input) } };
        case 'StateExited':
          return { ...base, type: `${state!.type}StateExited`, stateExitedEventDetails: { name: state!.name, output: JSON.stringify(state!.output) } };
        case 'StateFailed':
        case 'StateRetried':
        case 'StateCaught': {
          const error = event as { Error?: string; Cause?: string };
          return { ...base, type: 'TaskFailed', taskFailedEventDetails: { resourceType: 'lambda', resource: state?.name ?? '', error: error.Error ?? event.type, cause: error.Cause ?? '' } };
        }
        default:
          return { ...base, type: 'PassStateEntered', stateEnteredEventDetails: { name: event.type } };
      }
    });
    const ordered = input.reverseOrder ? events.reverse() : events;
    const start = Number(input.nextToken ?? 0) || 0;
    const size = Math.min(Math.max(input.maxResults || 100, 1), 1000);
    return { events: ordered.slice(start, start + size), ...(start + size < ordered.length ? { nextToken: String(start + size) } : {}) };
  }

  describeStateMachine(input: { stateMachineArn?: string }): Record<string, unknown> {
    this.checkMachine(input.stateMachineArn);
    return {
      stateMachineArn: this.stateMachineArn,
      name: this.stateMachineArn.split(':').pop(),
      status: 'ACTIVE',
      definition: JSON.stringify(this.definition),
      roleArn: 'arn:aws:iam::000000000000:role/local',
      type: 'STANDARD',
      creationDate: 0,
    };
  }
}

/** The history of an execution kept only as a summary: its start and its end, without input or output. */
function summaryHistory(e: Execution): Record<string, unknown>[] {
  const started = { id: 1, previousEventId: 0, timestamp: seconds(e.startedAt), type: 'ExecutionStarted', executionStartedEventDetails: { roleArn: 'arn:aws:iam::000000000000:role/local' } };
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
