/**
 * Faults around DynamoDB for startGateway's `wrapDb`: a crash between the two writes of a job change (the
 * audit event written, the job update lost). The in-memory equivalent is `crashAfterEvent` in ./fakes.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** A retryable failure, as a process dying mid-request looks to the SDK (5xx). */
export const crash = (): Error => Object.assign(new Error('crash between the two writes'), { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } });
/** A failure no retry cures. */
export const permanent = (): Error => Object.assign(new Error('the update is refused for good'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } });

export type DbFault = ((client: DynamoDBClient) => DynamoDBClient) & { crashes: number };

/** Fails the first job update (UpdateItem) after an audit event of `type` was written (PutItem), with `error`; `crashes` counts it. */
export function crashAfterEvent(type: string, error: () => Error = crash): DbFault {
  const wrap = (client: DynamoDBClient): DynamoDBClient => {
    const send = client.send.bind(client);
    let armed = false;
    client.send = ((command: { constructor: { name: string }; input: { Item?: Record<string, { S?: string }> } }) => {
      if (command.constructor.name === 'PutItemCommand' && command.input.Item?.type?.S === type) armed = true;
      else if (command.constructor.name === 'UpdateItemCommand' && armed && fault.crashes === 0) {
        fault.crashes++;
        return Promise.reject(error());
      }
      return send(command as never);
    }) as typeof client.send;
    return client;
  };
  const fault: DbFault = Object.assign(wrap, { crashes: 0 });
  return fault;
}
