/**
 * The webhook signature, as Stripe signs its webhooks: `X-Emr-Gateway-Signature: t=<unix seconds>,v1=<hex>`, v1
 * the HMAC-SHA256, keyed with the notification's secret, of `<t>.<body>`. The timestamp is signed with the body, so
 * a receiver that refuses a `t` older than a few minutes cannot be fed a recorded delivery again; the delivery id
 * (X-Emr-Gateway-Delivery, also in the body) tells a retry of the same delivery from a new one.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Emr-Gateway-Signature';
export const DELIVERY_HEADER = 'X-Emr-Gateway-Delivery';
export const EVENT_HEADER = 'X-Emr-Gateway-Event';
/** What a receiver should accept by default: a signature at most this old (or ahead). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export function signatureOf(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
}

export const signatureHeader = (secret: string, timestamp: number, body: string): string => `t=${timestamp},v1=${signatureOf(secret, timestamp, body)}`;

/** A receiver's check (the README's recipe, in TypeScript): the header's timestamp within tolerance and one v1 that matches. */
export function verifySignature(secret: string, header: string | undefined, body: string, now = new Date(), toleranceSeconds = DEFAULT_TOLERANCE_SECONDS): { ok: true } | { ok: false; reason: string } {
  if (!header) return { ok: false, reason: 'no signature header' };
  const parts = header.split(',').map((p) => p.trim().split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  const signatures = parts.filter(([k]) => k === 'v1').map(([, v]) => v ?? '');
  if (!Number.isInteger(t) || !signatures.length) return { ok: false, reason: 'malformed signature header' };
  if (Math.abs(now.getTime() / 1000 - t) > toleranceSeconds) return { ok: false, reason: 'timestamp outside the tolerance' };
  const expected = Buffer.from(signatureOf(secret, t, body), 'hex');
  const match = signatures.some((s) => /^[0-9a-f]{64}$/.test(s) && timingSafeEqual(Buffer.from(s, 'hex'), expected));
  return match ? { ok: true } : { ok: false, reason: 'no signature matches' };
}
