/**
 * Reads a request body up to a limit, for the local servers. It stops reading at the first chunk past the
 * limit; what an oversized body means is the caller's to say (API Gateway answers 413 itself, the AWS port
 * throws and lets its error path close the connection), so the helper only reports it.
 */
import type { IncomingMessage } from 'node:http';

export type BodyResult = { ok: true; body: Buffer } | { ok: false; tooLarge: true };

export async function readBody(request: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) return { ok: false, tooLarge: true };
    chunks.push(chunk as Buffer);
  }
  return { ok: true, body: Buffer.concat(chunks) };
}
