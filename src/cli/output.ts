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

export const processIo: Io = {
  out: (text) => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => void process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  progress: (text) => void process.stdout.write(`\r\x1b[2K${text}`),
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
