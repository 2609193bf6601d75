/**
 * EMR mocked with aws-sdk-client-mock (every EMRClient instance), with a small model of steps: each
 * DescribeStep moves a step one place along its script of states (the last one sticks); CancelSteps sends
 * a PENDING or RUNNING step to CANCEL_PENDING, then CANCELLED; failures can be scripted per operation.
 */
import {
  AddJobFlowStepsCommand,
  CancelStepsCommand,
  DescribeStepCommand,
  EMRClient,
  EMRServiceException,
  ListStepsCommand,
  type AddJobFlowStepsCommandInput,
  type StepState,
} from '@aws-sdk/client-emr';
import { mockClient } from 'aws-sdk-client-mock';

export interface FakeStep {
  id: string;
  name: string;
  input: AddJobFlowStepsCommandInput;
  script: StepState[];
  position: number;
  created: Date;
  failure?: { Reason?: string; Message?: string; LogFile?: string };
  cancelledWith?: string;
}

export type Operation = 'AddJobFlowSteps' | 'DescribeStep' | 'CancelSteps' | 'ListSteps';

export function awsError(name: string, message: string, status = 400): EMRServiceException {
  return new EMRServiceException({ name, message, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });
}

export class FakeEmr {
  readonly mock = mockClient(EMRClient);
  readonly steps: FakeStep[] = [];
  /** The script the next added step follows. */
  nextScript: StepState[] = ['PENDING', 'RUNNING', 'COMPLETED'];
  nextFailure: FakeStep['failure'];
  /** The scripts (and failures) of the next steps, one each, before nextScript (a job's attempts, retried). */
  readonly queue: { script: StepState[]; failure?: FakeStep['failure'] }[] = [];
  /** When set, steps run for this long in simulated time (PENDING at first, RUNNING, then COMPLETED) instead of following a script. */
  timed?: { now: () => Date; runSeconds: number };
  /** Runs while AddJobFlowSteps is in flight, after EMR has added the step (races). */
  duringAdd?: () => Promise<void>;
  /** Runs once, while the next DescribeStep's answer is on its way (races): the answer is the state before it ran. */
  duringDescribe?: () => Promise<void>;
  /** Asked before every call that has no scripted failure: an error to throw (e.g. random throttling), or none. */
  chaos?: (operation: Operation) => Error | undefined;
  private readonly failures = new Map<Operation, Error[]>();
  private counter = 0;

  constructor() {
    this.mock.on(AddJobFlowStepsCommand).callsFake(async (input: AddJobFlowStepsCommandInput) => {
      this.maybeFail('AddJobFlowSteps');
      const id = `s-${String(++this.counter).padStart(12, '0')}`;
      const created = this.timed?.now() ?? new Date();
      const queued = this.queue.shift();
      const [script, failure] = queued ? [queued.script, queued.failure] : [this.nextScript, this.nextFailure];
      this.steps.push({ id, name: input.Steps?.[0]?.Name ?? '', input, script: [...script], position: -1, created, failure });
      await this.duringAdd?.();
      return { StepIds: [id] };
    });
    this.mock.on(DescribeStepCommand).callsFake(async ({ StepId }: { StepId: string }) => {
      this.maybeFail('DescribeStep');
      const step = this.step(StepId);
      step.position = Math.min(step.position + 1, step.script.length - 1);
      const state = this.timed ? this.timedState(step) : step.script[step.position]!;
      const during = this.duringDescribe;
      this.duringDescribe = undefined;
      await during?.();
      return {
        Step: {
          Id: step.id,
          Name: step.name,
          ExecutionRoleArn: step.input.ExecutionRoleArn,
          Status: { State: state, ...(state === 'FAILED' && step.failure ? { FailureDetails: step.failure } : {}) },
        },
      };
    });
    this.mock.on(CancelStepsCommand).callsFake(({ StepIds, StepCancellationOption }: { StepIds: string[]; StepCancellationOption?: string }) => {
      this.maybeFail('CancelSteps');
      return {
        CancelStepsInfoList: StepIds.map((id) => {
          const step = this.step(id);
          const state = step.script[Math.max(step.position, 0)];
          if (state !== 'PENDING' && state !== 'RUNNING') return { StepId: id, Status: 'FAILED', Reason: `step is ${state}` };
          step.cancelledWith = StepCancellationOption;
          step.script = [...step.script.slice(0, step.position + 1), 'CANCEL_PENDING', 'CANCELLED'];
          return { StepId: id, Status: 'SUBMITTED' };
        }),
      };
    });
    this.mock.on(ListStepsCommand).callsFake(() => {
      this.maybeFail('ListSteps');
      return { Steps: [...this.steps].reverse().map((s) => ({ Id: s.id, Name: s.name, Status: { State: s.script[Math.max(s.position, 0)], Timeline: { CreationDateTime: s.created } } })) };
    });
  }

  /** The next calls of `operation` throw these errors, one each. */
  failNext(operation: Operation, ...errors: Error[]): void {
    this.failures.set(operation, [...(this.failures.get(operation) ?? []), ...errors]);
  }

  calls(operation: Operation): number {
    return this.mock.calls().filter((call) => (call.args[0] as { constructor: { name: string } }).constructor.name === `${operation}Command`).length;
  }

  restore(): void {
    this.mock.restore();
  }

  private timedState(step: FakeStep): StepState {
    const elapsed = (this.timed!.now().getTime() - step.created.getTime()) / 1000;
    if (step.position === 0) return 'PENDING';
    return elapsed >= this.timed!.runSeconds ? 'COMPLETED' : 'RUNNING';
  }

  private step(id: string): FakeStep {
    const step = this.steps.find((s) => s.id === id);
    if (!step) throw awsError('InvalidRequestException', `Step id '${id}' is not valid.`);
    return step;
  }

  private maybeFail(operation: Operation): void {
    const error = this.failures.get(operation)?.shift() ?? this.chaos?.(operation);
    if (error) throw error;
  }
}
