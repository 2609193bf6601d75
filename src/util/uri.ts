/** URI helpers shared by the API router and the local API front. */

/** decodeURIComponent, or the text unchanged when it is not valid percent-encoding (as API Gateway passes it). */
export function decodeOrKeep(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
