/** A webhook attempt: one POST, never a redirect followed (the signature was made for this URL), any 2xx delivered. */
import type { SendOutcome, WebhookRequest } from '../../notifications/ports';
import { describe } from './sns-publisher';

export async function postWebhook(request: WebhookRequest): Promise<SendOutcome> {
  try {
    const response = await fetch(request.url, { method: 'POST', headers: request.headers, body: request.body, redirect: 'manual', signal: AbortSignal.timeout(request.timeoutMs) });
    // The body is read (bounded by the timeout) so the connection is released; what it says is not kept.
    await response.arrayBuffer().catch(() => undefined);
    if (response.status >= 200 && response.status < 300) return { ok: true, status: response.status };
    return { ok: false, status: response.status, error: `HTTP ${response.status}` };
  } catch (error) {
    return { ok: false, error: describe(error) === 'timed out' ? `timed out after ${request.timeoutMs / 1000} s` : describe(error) };
  }
}
