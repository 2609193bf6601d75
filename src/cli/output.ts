/** Output for people (aligned tables) and programs (JSON). The CLI's only writer to stdout/stderr. */
import { UsageError } from './usage';

export type OutputFormat = 'json' | 'table';

/** The value of `--output`, checked: every command that takes it accepts json or table only. */
export function outputFormat(value: string | undefined): OutputFormat {
  if (value === 'json' || value === 'table') return value;
  throw new UsageError(`--output must be json or table, not "${value}"`);
}

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Rewrites the current terminal line (live progress); '' clears it. */
  progress?(text: string): void;
}

/** C0 controls but tab and newline, DEL, C1 controls, and the bidirectional overrides and isolates. */
export const UNSAFE_FOR_TERMINALS_CLASS = '\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069';
const UNSAFE_FOR_TERMINALS = new RegExp(`[${UNSAFE_FOR_TERMINALS_CLASS}]`, 'g');

/**
 * Text as it may reach a terminal: what the server sends (job names, a step's stderr tail, audit details) could
 * otherwise retitle the window, move the cursor, hide or reorder text. Each such character is written as its
 * `\uXXXX` escape, which also keeps JSON output valid JSON with the same values.
 */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE_FOR_TERMINALS, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const line = (text: string): string => terminalSafe(text.endsWith('\n') ? text : `${text}\n`);

export const processIo: Io = {
  out: (text) => void process.stdout.write(line(text)),
  err: (text) => void process.stderr.write(line(text)),
  // The line rewrite is the CLI's own control sequence; the text after it is escaped like any other.
  progress: (text) => void process.stdout.write(`\r\x1b[2K${terminalSafe(text)}`),
};

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** Two columns, label and value, for one record. */
export function fields(pairs: readonly (readonly [string, string])[]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}
