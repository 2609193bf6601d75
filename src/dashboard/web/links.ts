/** Links of the gateway's that the page opens: only http(s) addresses (never javascript:, data:, file: ...). */
export function externalUrl(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}
