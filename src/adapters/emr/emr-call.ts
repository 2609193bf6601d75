/** One EMR call whose refusals are the caller's (a session's credentials, an app-UI link): EmrRejectedError, else the usual translation. */
import { EmrRejectedError } from '../../errors';
import { errorName, translateAwsError } from '../aws-errors';

/** EMR's (and IAM's) answers that no retry changes. */
const REFUSALS = new Set(['ValidationException', 'InvalidRequestException', 'AccessDeniedException']);

export async function emrCall<T>(operation: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    if (REFUSALS.has(errorName(error))) throw new EmrRejectedError(`${operation}: ${error instanceof Error ? error.message : String(error)}`, errorName(error), { cause: error });
    throw translateAwsError(operation, error);
  }
}
