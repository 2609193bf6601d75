/** SNS Publish (Query protocol, API version 2010-03-31), as NotificationSender's `sns`. */
import type { SendOutcome, SnsRequest } from '../../notifications/ports';
import type { SignedRequests } from './signed-request';

const tag = (xml: string, name: string): string | undefined => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];

/** The form body of a Publish: string message attributes as `MessageAttributes.entry.N.Name/Value.DataType/Value.StringValue`. */
export function publishForm(request: SnsRequest): URLSearchParams {
  const form = new URLSearchParams({ Action: 'Publish', Version: '2010-03-31', TopicArn: request.topicArn, Message: request.message, Subject: request.subject });
  Object.entries(request.attributes).forEach(([name, value], i) => {
    form.set(`MessageAttributes.entry.${i + 1}.Name`, name);
    form.set(`MessageAttributes.entry.${i + 1}.Value.DataType`, 'String');
    form.set(`MessageAttributes.entry.${i + 1}.Value.StringValue`, value);
  });
  if (request.fifo) {
    form.set('MessageGroupId', request.fifo.groupId);
    form.set('MessageDeduplicationId', request.fifo.deduplicationId);
  }
  return form;
}

export async function publish(requests: SignedRequests, request: SnsRequest): Promise<SendOutcome> {
  try {
    const response = await requests.post('sns', { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, publishForm(request).toString(), request.timeoutMs);
    const messageId = tag(response.body, 'MessageId');
    if (response.status === 200 && messageId) return { ok: true, messageId };
    return { ok: false, status: response.status, error: `SNS Publish: ${tag(response.body, 'Code') ?? `HTTP ${response.status}`}: ${tag(response.body, 'Message') ?? ''}`.trim() };
  } catch (error) {
    return { ok: false, error: `SNS Publish: ${describe(error)}` };
  }
}

export function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string; name?: string } } | undefined)?.cause;
  if ((error as { name?: unknown } | undefined)?.name === 'TimeoutError' || cause?.name === 'TimeoutError') return 'timed out';
  return cause?.code ? `${cause.code}${cause.message ? ` (${cause.message})` : ''}` : error instanceof Error ? error.message : String(error);
}
