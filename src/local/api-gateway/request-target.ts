/**
 * The request target (path and query) as the local API front reads it, parsed once: the SigV4 check covers
 * this parse and the proxy event is built from it, so what is routed is exactly what was signed.
 *
 * API Gateway's REST API routes on the path after one percent-decoding, while SigV4 (execute-api) signs the
 * encoded path, and the signers normalise it first (dot segments and empty segments dropped). A path for
 * which those can name different resources is refused, never rewritten: dot segments (`.`, `..`, also as
 * `%2e`), an encoded `/`, `\` or `%` (`%2F`, `%5C`, `%25`: a second decoding would route elsewhere), empty
 * segments (`//`; one trailing `/` is allowed), control characters, characters a path cannot carry
 * unencoded, invalid percent-escapes and escapes that are not UTF-8. What is left decodes to one path whose
 * segments hold no `/`, `%` or dot segment, so decoding it again changes nothing.
 *
 * The query: `&`-separated pairs split at the first `=`, each side percent-decoded once, `+` a plus (as SigV4
 * reads it; the SDKs send a space as `%20`), empty pairs skipped; repeated keys kept, in wire order.
 */
import { quote } from '../../util/validation';

export interface RequestTarget {
  /** The path as it came (percent-encoded): what the signature covers. */
  rawPath: string;
  /** The path, each segment percent-decoded once: what is routed. */
  path: string;
  /** Query parameters, decoded, in wire order (a repeated key appears more than once). */
  query: [string, string][];
}

export type TargetResult = { ok: true; target: RequestTarget } | { ok: false; reason: string };

// RFC 3986 pchar plus `/` (path) and `?` (query): what may appear without percent-encoding.
const PATH_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;
const QUERY_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*$/;
const BAD_ESCAPE = /%(?![0-9A-Fa-f]{2})/;
// C0 and C1 controls and DEL: never part of an identifier, and a terminal or a log would act on them.
// eslint-disable-next-line no-control-regex -- the point of the pattern
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;

/** A segment decoded once, or why it cannot be. */
function decodeSegment(segment: string): { ok: true; value: string } | { ok: false; reason: string } {
  if (BAD_ESCAPE.test(segment)) return { ok: false, reason: `has an invalid percent-escape in ${quote(segment)}` };
  let value: string;
  try {
    value = decodeURIComponent(segment);
  } catch {
    return { ok: false, reason: `has percent-escapes that are not UTF-8 in ${quote(segment)}` };
  }
  return { ok: true, value };
}

function describeChar(c: string): string {
  if (c === '\\') return 'a backslash';
  if (CONTROL.test(c)) return `a control character (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`;
  return `the character ${quote(c)}, which must be percent-encoded`;
}

function pathProblem(rawPath: string): { problem: string } | { path: string } {
  const bad = [...rawPath].find((c) => !PATH_CHARS.test(c));
  if (bad !== undefined) return { problem: `contains ${describeChar(bad)}` };
  const raw = rawPath.split('/').slice(1); // rawPath starts with '/'
  const decoded: string[] = [];
  for (const [i, segment] of raw.entries()) {
    if (segment === '' && i < raw.length - 1) return { problem: 'has an empty segment (//)' };
    const result = decodeSegment(segment);
    if (!result.ok) return { problem: result.reason };
    const { value } = result;
    if (value === '.' || value === '..') return { problem: `has a dot segment (${quote(segment)})` };
    if (value.includes('/')) return { problem: `has an encoded slash (%2F) in ${quote(segment)}` };
    if (value.includes('\\')) return { problem: `has an encoded backslash (%5C) in ${quote(segment)}` };
    if (value.includes('%')) return { problem: `has an encoded % (%25: double encoding) in ${quote(segment)}` };
    const control = CONTROL.exec(value);
    if (control) return { problem: `has ${describeChar(control[0])} in ${quote(segment)}` };
    decoded.push(value);
  }
  return { path: `/${decoded.join('/')}` };
}

function parseQuery(rawQuery: string): { problem: string } | { query: [string, string][] } {
  const bad = [...rawQuery].find((c) => !QUERY_CHARS.test(c));
  if (bad !== undefined) return { problem: `the query string contains ${describeChar(bad)}` };
  const query: [string, string][] = [];
  for (const pair of rawQuery.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const parts = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
    const [key, value] = parts.map(decodeSegment) as [ReturnType<typeof decodeSegment>, ReturnType<typeof decodeSegment>];
    if (!key.ok) return { problem: `the query string ${key.reason}` };
    if (!value.ok) return { problem: `the query string ${value.reason}` };
    const control = CONTROL.exec(key.value + value.value);
    if (control) return { problem: `the query parameter ${quote(key.value)} has ${describeChar(control[0])}` };
    query.push([key.value, value.value]);
  }
  return { query };
}

/** The request line's target (`req.url`), or why it is refused (a 400, before any signature is checked). */
export function parseRequestTarget(url: string): TargetResult {
  if (!url.startsWith('/')) return { ok: false, reason: `the path must start with "/" (got ${quote(url.slice(0, 100))})` };
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? '' : url.slice(q + 1);
  const path = pathProblem(rawPath);
  if ('problem' in path) return { ok: false, reason: `the path ${path.problem}` };
  const query = parseQuery(rawQuery);
  if ('problem' in query) return { ok: false, reason: query.problem };
  return { ok: true, target: { rawPath, path: path.path, query: query.query } };
}
