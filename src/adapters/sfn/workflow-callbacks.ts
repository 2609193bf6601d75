/**
 * The executions' waits for a step's end, completed through Step Functions' callback API: SendTaskSuccess with
 * the task's result, SendTaskHeartbeat while the step runs. A token Step Functions no longer waits on (it was
 * completed already, its task timed out, its execution ended) is `gone`: TaskTimedOut, TaskDoesNotExist, and
 * InvalidToken (a token from another state machine's account or a record that is not one) alike, since none of
 * them can be cured by sending again. Throttling and service errors stay retryable (TransientError).
 */
import { SendTaskHeartbeatCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { WorkflowCallbacks } from '../../jobs/ports';
import type { TaskResult } from '../../jobs/workflow-input';
import { errorName, translateAwsError } from '../aws-errors';

/** The errors that say Step Functions no longer waits on a token. */
export const TASK_GONE_ERRORS: ReadonlySet<string> = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

export class SfnWorkflowCallbacks implements WorkflowCallbacks {
  constructor(private readonly sfn: SFNClient) {}

  complete(token: string, result: TaskResult): Promise<'sent' | 'gone'> {
    return this.send('StepFunctions SendTaskSuccess', () => this.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(result) })));
  }

  heartbeat(token: string): Promise<'sent' | 'gone'> {
    return this.send('StepFunctions SendTaskHeartbeat', () => this.sfn.send(new SendTaskHeartbeatCommand({ taskToken: token })));
  }

  private async send(operation: string, call: () => Promise<unknown>): Promise<'sent' | 'gone'> {
    try {
      await call();
      return 'sent';
    } catch (error) {
      if (TASK_GONE_ERRORS.has(errorName(error))) return 'gone';
      throw translateAwsError(operation, error);
    }
  }
}
