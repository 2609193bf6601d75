/** The `emr-gateway` command line: dispatches to a command, maps errors to exit codes (DESIGN.md). */
import { cliEnvironment, type CliEnvironment } from '../config/env';
import { ConfigError, ValidationError } from '../errors';
import { audit } from './commands/audit';
import { dashboard } from './commands/dashboard';
import { doctor } from './commands/doctor';
import { cancel, list, status } from './commands/jobs';
import { local } from './commands/local';
import { trigger } from './commands/local-tools';
import { logs, ui } from './commands/step-logs';
import { policyCheck, policyLint } from './commands/policy';
import { roles } from './commands/roles';
import { session } from './commands/session';
import { rerun, submit, wait } from './commands/submit';
import { usage } from './commands/usage';
import { queue } from './commands/queue';
import { version } from '../../package.json';
import { processIo, type Io } from './output';
import { documentedFlags, EXIT, HELP, nearest, USAGE, UsageError } from './usage';

/** A command: its arguments (after its name), the output, and the environment main read once for all. */
type Command = (args: string[], io: Io, env: CliEnvironment) => number | Promise<number>;

const COMMANDS: Record<string, Command> = {
  'policy check': policyCheck,
  'policy lint': policyLint,
  roles,
  doctor,
  submit,
  rerun,
  usage,
  queue,
  status,
  wait,
  cancel,
  list,
  audit,
  session,
  logs,
  ui,
  trigger,
  dashboard,
  local,
};

/** Commands of two words: the group and its subcommands. */
const GROUPS: Record<string, readonly string[]> = { policy: ['check', 'lint'] };
const isHelp = (arg: string | undefined): boolean => arg === '--help' || arg === '-h' || arg === 'help';

type Resolved = { name: string; args: string[] } | { help: string } | { error: string };

/** Which command argv names (one word, or a group and its subcommand), its arguments, or what is wrong. */
function resolve(argv: readonly string[]): Resolved {
  const [first = '', second] = argv;
  const subcommands = GROUPS[first];
  if (subcommands) {
    if (second !== undefined && subcommands.includes(second)) return { name: `${first} ${second}`, args: argv.slice(2) };
    if (isHelp(second)) return { help: first };
    if (second === undefined || second.startsWith('-')) return { error: `emr-gateway ${first}: give a subcommand: ${subcommands.join(' or ')}\nRun 'emr-gateway ${first} --help' for usage.` };
    return { error: unknownCommand(`${first} ${second}`) };
  }
  if (first in COMMANDS) return { name: first, args: argv.slice(1) };
  return { error: unknownCommand(first) };
}

function unknownCommand(typed: string): string {
  const names = [...Object.keys(COMMANDS), ...Object.keys(GROUPS), 'help', 'version'];
  const meant = nearest(typed, names);
  return `emr-gateway: unknown command "${typed}"${meant ? ` (did you mean "${meant}"?)` : ''}\nRun 'emr-gateway --help' for the commands.`;
}

export async function main(argv: string[], io: Io = processIo, env: CliEnvironment = cliEnvironment()): Promise<number> {
  const [first, second] = argv;
  if (!first || first === '--help' || first === '-h' || (first === 'help' && second === undefined)) {
    io.out(USAGE);
    return first ? EXIT.ok : EXIT.usage;
  }
  if (first === '--version' || first === 'version') {
    io.out(`emr-gateway ${version}`);
    return EXIT.ok;
  }
  // `help COMMAND` is `COMMAND --help` (and `help policy` the group's).
  const resolved = first === 'help' ? (second && second in GROUPS && argv.length === 2 ? { help: second } : resolve(argv.slice(1))) : resolve(argv);
  if ('error' in resolved) {
    io.err(resolved.error);
    return EXIT.usage;
  }
  if ('help' in resolved) {
    io.out(HELP[resolved.help] ?? USAGE);
    return EXIT.ok;
  }
  const { name, args } = resolved;
  // A --help after `--` is the step's (submit -- spark-submit --help), not a request for this help.
  const separator = args.indexOf('--');
  const own = separator === -1 ? args : args.slice(0, separator);
  if (first === 'help' || own.includes('--help') || own.includes('-h')) {
    io.out(HELP[name] ?? USAGE);
    return EXIT.ok;
  }
  try {
    return await COMMANDS[name]!(args, io, env);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(`emr-gateway: the configuration is not valid:\n${error.message}`);
      return EXIT.usage;
    }
    if (error instanceof UsageError || error instanceof ValidationError || isParseArgsError(error)) {
      io.err(`emr-gateway ${name}: ${usageMessage(name, error as Error)}\nRun 'emr-gateway ${name} --help' for usage.`);
      return EXIT.usage;
    }
    throw error;
  }
}

/** A usage error as said to a person: an unknown flag with the documented flag nearest to it. */
function usageMessage(name: string, error: Error): string {
  const unknown = (error as { code?: unknown }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /^Unknown option '([^']+)'/.exec(error.message)?.[1] : undefined;
  if (unknown === undefined) return error.message;
  const meant = nearest(unknown, documentedFlags(name));
  return `unknown flag ${unknown}${meant ? ` (did you mean ${meant}?)` : ''}`;
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof TypeError && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

/** Entry point of the bin: runs and exits with the command's code; an unexpected error exits 70 without a stack. */
export function run(): void {
  // The reader of the output may go first (`emr-gateway list | head -1`, or Ctrl-C ending a `| tee` in the same
  // process group): the rest of the output has nowhere to go, and the command ends as it would have. Unhandled,
  // that EPIPE would end the process with a stack trace (and `local` in the middle of its stop).
  for (const stream of [process.stdout, process.stderr]) stream.on('error', (error: NodeJS.ErrnoException) => void error);
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      processIo.err(`emr-gateway: internal error: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 70;
    },
  );
}
