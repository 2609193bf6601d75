/** Starts the job's state machine execution in Step Functions, named after the job or as asked (so a second start is harmless). */
import { StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { WorkflowStarter } from '../../jobs/ports';
import type { WorkflowInput } from '../../jobs/workflow-input';
import { errorName, translateAwsError } from '../aws-errors';

export class SfnWorkflowStarter implements WorkflowStarter {
  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async start(input: WorkflowInput, name: string = input.jobId): Promise<void> {
    try {
      await this.sfn.send(new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input: JSON.stringify(input) }));
    } catch (error) {
      // Same name: the execution exists (running with this input, or already finished). Either way it was started.
      if (errorName(error) !== 'ExecutionAlreadyExists') throw translateAwsError('StartExecution', error);
    }
  }
}
