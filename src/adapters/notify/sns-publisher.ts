/** SNS Publish through the SDK's client, as NotificationSender's `sns`: a failure is an outcome, never a throw. */
import { PublishCommand, type PublishCommandInput, type SNSClient } from '@aws-sdk/client-sns';
import type { SendOutcome, SnsRequest } from '../../notifications/ports';
import { errorName } from '../aws-errors';

/** The Publish of a notification: string message attributes (for subscription filter policies), FIFO's ids. */
export function publishInput(request: SnsRequest): PublishCommandInput {
  return {
    TopicArn: request.topicArn,
    Message: request.message,
    Subject: request.subject,
    MessageAttributes: Object.fromEntries(Object.entries(request.attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }])),
    ...(request.fifo ? { MessageGroupId: request.fifo.groupId, MessageDeduplicationId: request.fifo.deduplicationId } : {}),
  };
}

export async function publish(sns: SNSClient, request: SnsRequest): Promise<SendOutcome> {
  try {
    const out = await sns.send(new PublishCommand(publishInput(request)), { abortSignal: AbortSignal.timeout(request.timeoutMs) });
    if (out.MessageId) return { ok: true, messageId: out.MessageId };
    return { ok: false, error: 'SNS Publish: answered no MessageId' };
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    return { ok: false, ...(status !== undefined ? { status } : {}), error: `SNS Publish: ${describe(error)}` };
  }
}

export function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string; name?: string } } | undefined)?.cause;
  const name = errorName(error);
  if (name === 'TimeoutError' || name === 'AbortError' || cause?.name === 'TimeoutError') return 'timed out';
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  return `${name}: ${error instanceof Error ? error.message : String(error)}`;
}
