/**
 * A step's logs as EMR archives them under its cluster's LogUri, `<LogUri><clusterId>/steps/<stepId>/<stream>.gz`
 * (stdout, stderr, controller, syslog; uploaded every few minutes while the step runs, and at its end), and the
 * window of lines GET /jobs/{id}/logs answers with: the last `tail` lines, or the lines from a byte `offset` on
 * (to follow a running step: each answer's nextOffset is the next request's offset). Pure: the bytes come
 * decompressed, as chunks, through the StepLogStore port (adapters/s3/step-logs.ts), and are read once, in
 * bounded memory, whatever the log's size; reading stops as soon as the window is full.
 */
import { parseLogUri } from '../identifiers';

export const STEP_LOG_STREAMS = ['stdout', 'stderr', 'controller', 'syslog'] as const;
export type StepLogStream = (typeof STEP_LOG_STREAMS)[number];

/** The bounds of one answer (they keep it well under Lambda's 6 MB response and API Gateway's 29 s). */
export const STEP_LOG_LIMITS = {
  /** Lines of `tail` when neither tail nor offset is given. */
  defaultTail: 1000,
  /** The most lines one answer holds (tail's maximum too). */
  maxLines: 10_000,
  /** The most bytes of lines one answer holds, counted as JSON strings (escapes included). */
  maxBytes: 1024 * 1024,
  /** A longer line is cut to this many bytes (the rest of it is skipped, and counted in `cutLines`). */
  maxLineBytes: 64 * 1024,
  /** The most uncompressed bytes one request reads: beyond, the answer says `more` (a log of gigabytes). */
  maxScanBytes: 2 * 1024 * 1024 * 1024,
} as const;

export interface StepLogQuery {
  stream: StepLogStream;
  /** The last `tail` complete lines (1..maxLines). Exclusive with `offset`; the default without either. */
  tail?: number;
  /** The lines from this uncompressed byte offset on (a previous answer's nextOffset). */
  offset?: number;
}

/** Where a step's log is: its bucket and key, and the S3 URI EMR names it by (FailureDetails.LogFile). */
export interface StepLogLocation {
  bucket: string;
  key: string;
  uri: string;
}

export function stepLogLocation(logUri: string, clusterId: string, stepId: string, stream: StepLogStream): StepLogLocation {
  const { bucket, prefix } = parseLogUri(logUri);
  const key = `${prefix}${clusterId}/steps/${stepId}/${stream}.gz`;
  return { bucket, key, uri: `s3://${bucket}/${key}` };
}

/** A log object as the store opens it: when it was last written, and its bytes, decompressed, chunk by chunk. */
export interface OpenedStepLog {
  lastModified?: Date;
  /** Breaking out of the iteration stops the read (the download and the decompression). */
  chunks: AsyncIterable<Uint8Array>;
}

/** Where the step logs are kept (S3): undefined when the object does not exist (yet). */
export interface StepLogStore {
  /** The log at `bucket`/`key`, under the cluster's LogUri (the cluster tells whose account's bucket it is); undefined if absent. */
  open(location: Pick<StepLogLocation, 'bucket' | 'key'> & { clusterId: string }): Promise<OpenedStepLog | undefined>;
}

export interface StepLogWindow {
  /** Complete lines (the newline, and a carriage return before it, left out), decoded as UTF-8. */
  lines: string[];
  /** The uncompressed byte offset of the first line (of nextOffset when there is none). */
  offset: number;
  /** The byte offset just after the last line: the next request's offset, to read on from there. */
  nextOffset: number;
  /** The log's last line, not ended by a newline yet (a step still writing it), when the window reaches the end. Not counted in nextOffset. */
  partial?: string;
  /** True when the log holds lines after nextOffset that this answer left out (its line or byte bound): ask again from nextOffset. */
  more: boolean;
  /** Lines longer than maxLineBytes, cut to it. */
  cutLines: number;
  /** The uncompressed bytes read, when the read reached the end of the log: its size now. */
  size?: number;
}

const NEWLINE = 0x0a;
const decoder = new TextDecoder('utf-8');

/** A line's text from its bytes: at most maxLineBytes of them, without a carriage return before the newline. */
function text(bytes: Uint8Array): string {
  const end = bytes.length && bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length;
  return decoder.decode(bytes.subarray(0, Math.min(end, STEP_LOG_LIMITS.maxLineBytes)));
}

const jsonBytes = (line: string): number => Buffer.byteLength(JSON.stringify(line), 'utf8');

/** The window a query asks for, read from a log's decompressed chunks (stops reading once it is full). */
export async function readStepLogWindow(chunks: AsyncIterable<Uint8Array>, query: Pick<StepLogQuery, 'tail' | 'offset'>): Promise<StepLogWindow> {
  return query.offset !== undefined ? fromOffset(chunks, query.offset) : lastLines(chunks, query.tail ?? STEP_LOG_LIMITS.defaultTail);
}

/**
 * The last `tail` lines: only a rolling window of the log's last bytes is kept while it is read (twice the answer's
 * byte bound), then split into lines; a line that begins before that window is not shown (it would not fit anyway).
 */
async function lastLines(chunks: AsyncIterable<Uint8Array>, tail: number): Promise<StepLogWindow> {
  const keep = 2 * STEP_LOG_LIMITS.maxBytes;
  const held: Uint8Array[] = [];
  let heldBytes = 0;
  let heldFrom = 0;
  let read = 0;
  let capped = false;
  for await (const chunk of chunks) {
    const room = STEP_LOG_LIMITS.maxScanBytes - read;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    held.push(part);
    heldBytes += part.length;
    read += part.length;
    while (held.length > 1 && heldBytes - held[0]!.length >= keep) {
      heldBytes -= held[0]!.length;
      heldFrom += held.shift()!.length;
    }
    if (read >= STEP_LOG_LIMITS.maxScanBytes) {
      capped = true;
      break;
    }
  }
  const bytes = Buffer.concat(held);
  // Complete lines only: the held bytes may begin inside one (unless they begin the log) and end inside another.
  let start = 0;
  if (heldFrom > 0) {
    const first = bytes.indexOf(NEWLINE);
    start = first < 0 ? bytes.length : first + 1;
  }
  const lastNewline = bytes.lastIndexOf(NEWLINE);
  const end = lastNewline < start ? start : lastNewline + 1;
  const found: { at: number; line: string }[] = [];
  let cutLines = 0;
  for (let at = start; at < end; ) {
    const newline = bytes.indexOf(NEWLINE, at);
    if (newline - at > STEP_LOG_LIMITS.maxLineBytes) cutLines++;
    found.push({ at, line: text(bytes.subarray(at, newline)) });
    at = newline + 1;
  }
  // From the end back: as many lines as asked for, as fit in the byte bound.
  const lines: string[] = [];
  let used = 0;
  let first = heldFrom + end;
  for (let i = found.length - 1; i >= 0 && lines.length < tail; i--) {
    const { at, line } = found[i]!;
    used += jsonBytes(line);
    if (used > STEP_LOG_LIMITS.maxBytes) break;
    lines.push(line);
    first = heldFrom + at;
  }
  lines.reverse();
  const rest = bytes.subarray(end);
  return {
    lines,
    offset: first,
    nextOffset: heldFrom + end,
    ...(rest.length && !capped ? { partial: text(rest) } : {}),
    more: capped,
    cutLines,
    ...(capped ? {} : { size: read }),
  };
}

/** The lines from `offset` on, up to the line and byte bounds; the read stops as soon as they are reached. */
async function fromOffset(chunks: AsyncIterable<Uint8Array>, offset: number): Promise<StepLogWindow> {
  if (offset > STEP_LOG_LIMITS.maxScanBytes) throw new OffsetOutOfReachError(offset);
  const lines: string[] = [];
  let used = 0;
  let cutLines = 0;
  /** Bytes of the line being read (at most maxLineBytes kept), and where it began. */
  let current: Uint8Array[] = [];
  let currentBytes = 0;
  let lineStart = offset;
  let position = 0;
  let full = false;
  for await (const chunk of chunks) {
    let at = 0;
    if (position < offset) {
      at = Math.min(chunk.length, offset - position);
      position += at;
      if (at === chunk.length) continue;
    }
    while (at < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, at);
      const stop = newline < 0 ? chunk.length : newline;
      const room = STEP_LOG_LIMITS.maxLineBytes + 1 - currentBytes;
      if (room > 0) current.push(chunk.subarray(at, Math.min(stop, at + room)));
      currentBytes += stop - at;
      position += stop - at;
      if (newline < 0) break;
      position += 1;
      const line = text(Buffer.concat(current));
      const size = jsonBytes(line);
      if (lines.length >= STEP_LOG_LIMITS.maxLines || used + size > STEP_LOG_LIMITS.maxBytes) {
        full = true;
        break;
      }
      if (currentBytes > STEP_LOG_LIMITS.maxLineBytes) cutLines++;
      lines.push(line);
      used += size;
      lineStart = position;
      current = [];
      currentBytes = 0;
      at = newline + 1;
    }
    // Every byte decompressed counts, those skipped to reach the offset too.
    if (full || position >= STEP_LOG_LIMITS.maxScanBytes) {
      full = true;
      break;
    }
  }
  if (!full && position < offset) throw new OffsetBeyondEndError(offset, position);
  return {
    lines,
    offset,
    nextOffset: lineStart,
    ...(!full && currentBytes ? { partial: text(Buffer.concat(current)) } : {}),
    more: full,
    cutLines,
    ...(full ? {} : { size: position }),
  };
}

/** An offset past the end of the log (not one a previous answer gave: logs only grow). */
export class OffsetBeyondEndError extends Error {
  override readonly name: string = 'OffsetBeyondEndError';
  constructor(
    readonly offset: number,
    readonly size: number,
    message = `offset ${offset} is beyond the end of the log (${size} bytes)`,
  ) {
    super(message);
  }
}

/**
 * An offset past what one answer may read: reaching it means decompressing the log up to it, which counts against
 * maxScanBytes as the lines read do. Refused before anything is read (a tail reads the end of any log).
 */
export class OffsetOutOfReachError extends OffsetBeyondEndError {
  override readonly name = 'OffsetOutOfReachError';
  constructor(offset: number) {
    super(offset, NaN, `offset ${offset} is beyond the ${STEP_LOG_LIMITS.maxScanBytes} bytes one answer may read of a log: ask for its tail instead`);
  }
}
