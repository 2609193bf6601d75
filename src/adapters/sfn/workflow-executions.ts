/** The state machine's executions, by name, as Step Functions' DescribeExecution reports them (the reconciler's port). */
import { DescribeExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { ExecutionStatus, WorkflowExecutions } from '../../jobs/ports';
import { errorName, translateAwsError } from '../aws-errors';

export class SfnWorkflowExecutions implements WorkflowExecutions {
  private readonly prefix: string;

  constructor(
    private readonly sfn: SFNClient,
    stateMachineArn: string,
  ) {
    // arn:PARTITION:states:REGION:ACCOUNT:stateMachine:NAME → arn:...:execution:NAME:EXECUTION
    this.prefix = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:`;
  }

  async describe(name: string): Promise<ExecutionStatus | undefined> {
    try {
      const out = await this.sfn.send(new DescribeExecutionCommand({ executionArn: `${this.prefix}${name}` }));
      return { status: out.status ?? 'RUNNING', ...(out.error ? { error: out.error } : {}), ...(out.cause ? { cause: out.cause } : {}) };
    } catch (error) {
      // Never started, or no longer kept (Step Functions keeps a closed execution for 90 days).
      if (errorName(error) === 'ExecutionDoesNotExist') return undefined;
      throw translateAwsError('StepFunctions DescribeExecution', error);
    }
  }
}
