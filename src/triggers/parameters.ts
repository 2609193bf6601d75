/**
 * Template parameters: their declarations (`parameters:` on a template: type, pattern, maxLength), the values
 * checked against them, and the places in a template where a substituted value is not data but code (a shell's
 * command string, an interpreter's code, a Hive query or variable, the script or program that runs).
 *
 * A value read from an event is chosen by whoever can publish a matching event. Substituted into a script it
 * runs as the trigger's principal, so there it must be declared as an integer or a date, or with a pattern that
 * admits only SAFE_CHARACTERS (checked when the configuration loads), and at fire time it must match its
 * declaration and contain only those characters (checked whatever the pattern says). Passed as its own argument
 * (`bash -c '... "$1"' name "${key}"`), it stays data and needs no declaration.
 */
import type { Path } from '../util/format';

export const PARAMETER_TYPES = ['string', 'integer', 'date'] as const;
export type ParameterType = (typeof PARAMETER_TYPES)[number];

export interface ParameterDeclaration {
  type: ParameterType;
  /** A JavaScript regular expression the whole value must match (as if written `^(?:pattern)$`). */
  pattern?: string;
  /** In Unicode code points. */
  maxLength?: number;
  description?: string;
}

/** The characters a value may have where it reaches a script: no blank, quote, `$`, `;`, `|`, `&`, redirection, glob, escape, comment or grouping. */
export const SAFE_CHARACTERS = 'A-Z a-z 0-9 . _ / = : @ + -';
const SAFE_VALUE = /^[A-Za-z0-9._/=:@+-]*$/;
const UNSAFE_CHAR = /[^A-Za-z0-9._/=:@+-]/u;

/** Parameters the gateway itself provides to a trigger's template, from the event: the EventBridge event id. */
export const BUILT_IN_EVENT_PARAMETERS: Readonly<Record<string, ParameterDeclaration>> = {
  eventId: { type: 'string', pattern: '[A-Za-z0-9._/=:@+-]{1,256}' },
};

/** `record[key]` if it is the record's own (a placeholder named `constructor` is no parameter). */
export const own = <T>(record: Readonly<Record<string, T>>, key: string): T | undefined => (Object.hasOwn(record, key) ? record[key] : undefined);

/** A parameter's value as resolved for one firing; `fromEvent` marks one the event chose. */
export interface ParamValue {
  value: string | number | boolean;
  fromEvent: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Values against their declarations.

const compiled = new Map<string, RegExp>();
/** The whole-value regular expression of a pattern, or the compile error's message. */
export function compilePattern(pattern: string): RegExp | string {
  const hit = compiled.get(pattern);
  if (hit) return hit;
  try {
    const re = new RegExp(`^(?:${pattern})$`, 'u');
    compiled.set(pattern, re);
    return re;
  } catch (error) {
    return (error as Error).message;
  }
}

/** `"text"`, JSON-quoted (so control characters show), cut at 100 characters. */
export function quoteValue(text: string): string {
  const chars = Array.from(text);
  return JSON.stringify(chars.length > 100 ? `${chars.slice(0, 100).join('')}...` : text);
}

const isCalendarDate = (text: string): boolean => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
};

/** The value as template text if it satisfies the declaration (none: any scalar, as text), or why not. */
export function checkValue(declaration: ParameterDeclaration | undefined, value: string | number | boolean): { text: string } | { problem: string } {
  const shown = typeof value === 'string' ? quoteValue(value) : `${typeof value} ${String(value)}`;
  let text: string;
  switch (declaration?.type) {
    case undefined:
      return { text: String(value) };
    case 'string':
      if (typeof value !== 'string') return { problem: `must be a string (got ${shown})` };
      text = value;
      break;
    case 'integer':
      if (typeof value === 'number' ? !Number.isSafeInteger(value) : typeof value !== 'string' || !/^-?\d{1,15}$/.test(value)) return { problem: `${shown} is not an integer` };
      text = String(value);
      break;
    case 'date':
      if (typeof value !== 'string' || !isCalendarDate(value)) return { problem: `${shown} is not a date (YYYY-MM-DD)` };
      text = value;
      break;
  }
  if (declaration.maxLength !== undefined && Array.from(text).length > declaration.maxLength) return { problem: `${shown} is longer than ${declaration.maxLength} characters` };
  if (declaration.pattern !== undefined) {
    const re = compilePattern(declaration.pattern);
    if (typeof re === 'string' || !re.test(text)) return { problem: `${shown} does not match ${declaration.pattern}` };
  }
  return { text };
}

// ---------------------------------------------------------------------------------------------------------------
// Script positions.

export interface ScriptPosition {
  /** Inside the template body, e.g. `['step', 'args', 2]`. */
  path: Path;
  /** For messages: "the command string of bash -c". */
  what: string;
  /** A SQL position: `--` starts a comment there, so it is refused too. */
  sql: boolean;
}

const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'mksh', 'ash']);
/** Interpreters whose option takes the code itself, and those options. */
const CODE_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  python: ['-c', '-m'],
  perl: ['-e', '-E'],
  ruby: ['-e'],
  node: ['-e', '--eval', '-p', '--print'],
};
const SQL_CLIS = new Set(['hive', 'beeline', 'spark-sql']);
/** Shell options that take the next argument as their value. */
const SHELL_VALUE_OPTIONS = new Set(['-o', '+o', '-O', '+O', '--rcfile', '--init-file']);

/** `bash`, `/bin/bash`, `python3.11` → bash, bash, python; anything else (a URI, a relative path) → undefined. */
function programName(arg: string): string | undefined {
  if (!/^(\/[^/]+)*\/?[A-Za-z][\w.-]*$/.test(arg) || arg.startsWith('s3:')) return undefined;
  const base = arg.slice(arg.lastIndexOf('/') + 1);
  const name = base.replace(/\d+(\.\d+)*$/, '');
  return SHELLS.has(base) ? base : SHELLS.has(name) || Object.hasOwn(CODE_OPTIONS, name) || SQL_CLIS.has(base) ? name : undefined;
}

/** hive/beeline/spark-sql arguments: -e (a query), -f/-i (a script file), -d/--define/--hivevar/--hiveconf (substituted into the script). */
function sqlPositions(cli: string, args: readonly unknown[], at: (i: number) => Path, from: number, out: ScriptPosition[]): void {
  for (let i = from; i < args.length; i++) {
    const arg = args[i];
    if (typeof arg !== 'string') continue;
    const variable = /^(--define|--hivevar|--hiveconf)=/.exec(arg);
    if (variable) out.push({ path: at(i), what: `a variable ${cli} substitutes into its script (${variable[1]})`, sql: true });
    else if (arg === '-e') out.push({ path: at(++i), what: `the query of ${cli} -e`, sql: true });
    else if (arg === '-f' || arg === '-i') out.push({ path: at(++i), what: `the script ${cli} runs (${arg})`, sql: false });
    else if (['-d', '--define', '--hivevar', '--hiveconf'].includes(arg)) out.push({ path: at(++i), what: `a variable ${cli} substitutes into its script (${arg})`, sql: true });
  }
}

/**
 * The script positions of a command's argv: the program (args[0]); for the first argument that is a shell, an
 * interpreter or a SQL CLI, its options and the code or script they run. What follows the code ($0, $1, ... of
 * `bash -c`, sys.argv of `python -c`) is data.
 */
function commandPositions(args: readonly unknown[], at: (i: number) => Path): ScriptPosition[] {
  const out: ScriptPosition[] = [{ path: at(0), what: 'the program the step runs', sql: false }];
  const k = args.findIndex((a) => typeof a === 'string' && programName(a) !== undefined);
  if (k < 0) return out;
  const program = args[k] as string;
  const name = programName(program)!;
  const mark = (i: number, what: string) => {
    if (i < args.length && i > 0) out.push({ path: at(i), what, sql: false });
  };
  mark(k, `the interpreter the step runs`);
  if (SQL_CLIS.has(name)) {
    sqlPositions(name, args, at, k + 1, out);
    return out;
  }
  let i = k + 1;
  if (SHELLS.has(name)) {
    let command = false;
    for (; i < args.length; i++) {
      const arg = args[i];
      if (typeof arg !== 'string' || !/^[-+]/.test(arg)) break;
      mark(i, `an option of ${name}`);
      if (arg === '--' || arg === '-') {
        i++;
        break;
      }
      if (SHELL_VALUE_OPTIONS.has(arg)) mark(++i, `an option of ${name}`);
      else if (/^-[A-Za-z]*c[A-Za-z]*$/.test(arg)) command = true;
    }
    mark(i, command ? `the command string of ${name} -c` : `the script ${name} runs`);
    return out;
  }
  const codeOptions = Object.hasOwn(CODE_OPTIONS, name) ? CODE_OPTIONS[name]! : [];
  let code = false;
  for (; i < args.length; i++) {
    const arg = args[i];
    if (typeof arg !== 'string' || !arg.startsWith('-')) break;
    const option = codeOptions.find((o) => arg === o);
    const inline = codeOptions.find((o) => o.startsWith('--') && arg.startsWith(`${o}=`));
    if (option) {
      mark(i, `an option of ${program}`);
      mark(++i, `the code ${program} runs (${option})`);
    } else mark(i, inline ? `the code ${program} runs (${inline})` : `an option of ${program}`);
    code ||= option !== undefined || inline !== undefined;
  }
  // Without a code option the first operand is the script file; after one, operands are the program's argv.
  if (!code) mark(i, `the script ${program} runs`);
  return out;
}

/** Where a template body's strings are code, by step type. */
export function scriptPositions(body: unknown): ScriptPosition[] {
  const step = (body as { step?: unknown } | null)?.step;
  if (!step || typeof step !== 'object') return [];
  const { type, args, jar, mainClass } = step as Record<string, unknown>;
  const list = Array.isArray(args) ? (args as unknown[]) : [];
  const at = (i: number): Path => ['step', 'args', i];
  switch (type) {
    case 'command':
      return list.length ? commandPositions(list, at) : [];
    case 'hive': {
      const out: ScriptPosition[] = [{ path: ['step', 'script'], what: "the hive step's script", sql: false }];
      sqlPositions('hive', list, at, 0, out);
      return out;
    }
    case 'jar':
      return [
        ...(jar === undefined ? [] : [{ path: ['step', 'jar'], what: 'the JAR the step runs', sql: false }]),
        ...(mainClass === undefined ? [] : [{ path: ['step', 'mainClass'], what: 'the main class the step runs', sql: false }]),
      ];
    default:
      return [];
  }
}

/** Why a value cannot go where `position` is (unsafe characters; `--` in SQL), or undefined. */
export function unsafeValueProblem(text: string, position: ScriptPosition): string | undefined {
  const bad = UNSAFE_CHAR.exec(text)?.[0];
  if (bad !== undefined) return `${JSON.stringify(bad)} is outside ${SAFE_CHARACTERS}`;
  if (position.sql && text.includes('--')) return '"--" starts a SQL comment';
  return SAFE_VALUE.test(text) ? undefined : 'it has characters outside the safe set';
}

// ---------------------------------------------------------------------------------------------------------------
// Declarations fit for a script position.

/** Unsafe characters in the order they are probed (the shell's and SQL's first), then the rest of ASCII and a few beyond. */
const UNSAFE_PROBES: readonly string[] = (() => {
  const first = [' ', "'", '"', '$', '`', ';', '|', '&', '<', '>', '\n', '\\', '*', '?', '~', '(', ')', '{', '}', '[', ']', '!', '#', '\t', '\r', '%', ',', '^'];
  const ascii = Array.from({ length: 128 }, (_, c) => String.fromCharCode(c)).filter((c) => UNSAFE_CHAR.test(c) && !first.includes(c));
  return [...first, ...ascii, '\u00a0', '\u00e9', '\u2028', '\uff1b', '\u{1f600}'];
})();
/** Values a typical pattern admits: the text a probe puts an unsafe character into. */
const SAMPLES = [
  'a', 'z', 'A', 'Z', '0', '9', 'abc', 'ABC', 'Abc', 'a1', '123', '-1', '1.5', 'a_b', 'a-b', 'a.b', 'a/b', 'a=b', 'a:b', 'a@b', 'a+b',
  'x.csv', 'orders_2026', 'raw/2026/11/28/orders.csv', 's3://bucket/key', '2026-11-28', '2026-11-28T02:00:00Z', 'ev-1',
  '0123456789abcdef', '123e4567-e89b-12d3-a456-426614174000', 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
];

/** A string the pattern admits that has an unsafe character (or, for SQL, `--`), found by probing; or undefined. */
export function admittedUnsafe(re: RegExp, sql: boolean): string | undefined {
  const probes = sql ? [...UNSAFE_PROBES, '--'] : UNSAFE_PROBES;
  const accepted = SAMPLES.filter((s) => re.test(s));
  for (const u of probes) {
    const candidates = [u, u + u, `a${u}`, `${u}a`, `0${u}`, `${u}0`, `a${u}a`];
    for (const s of accepted) {
      for (let j = 0; j <= s.length; j++) candidates.push(s.slice(0, j) + u + s.slice(j), s.slice(0, j) + u + s.slice(j + 1));
    }
    const hit = candidates.find((c) => re.test(c));
    if (hit !== undefined) return hit;
  }
  // Short strings over the pattern's own unsafe characters (e.g. `\(.*\)` admits "()").
  const alphabet = [...new Set([...Array.from(re.source).filter((c) => UNSAFE_CHAR.test(c)), ' ', 'a', '0'])];
  let level = [''];
  for (let length = 1; length <= 3; length++) {
    level = level.flatMap((prefix) => alphabet.map((c) => prefix + c));
    const hit = level.find((c) => (UNSAFE_CHAR.test(c) || (sql && c.includes('--'))) && re.test(c));
    if (hit !== undefined) return hit;
  }
  return undefined;
}

/** Why a declaration does not make a value safe at a script position, or undefined if it does. */
export function declarationProblem(declaration: ParameterDeclaration | undefined, position: ScriptPosition): string | undefined {
  if (!declaration) return 'it has no declared type or pattern';
  if (declaration.type === 'integer' || declaration.type === 'date') return undefined;
  if (declaration.pattern === undefined) return 'its declaration (type string) has no pattern';
  const re = compilePattern(declaration.pattern);
  if (typeof re === 'string') return undefined; // reported where the pattern is declared
  const example = admittedUnsafe(re, position.sql);
  if (example === undefined) return undefined;
  const bad = UNSAFE_CHAR.exec(example)?.[0] ?? '--';
  return `its pattern admits ${JSON.stringify(bad)} (e.g. ${quoteValue(example)})`;
}

/** `${name}` placeholders: their names, in the order written. */
export const PLACEHOLDER = /\$\{([A-Za-z_][\w.-]*)\}/g;
export const placeholdersIn = (text: string): string[] => Array.from(text.matchAll(PLACEHOLDER), (m) => m[1]!);
