/** The `emr-gateway` command line: dispatches to a command, maps errors to exit codes (DESIGN.md). */
import { cliEnvironment, type CliEnvironment } from '../config/env';
import { ConfigError, ValidationError } from '../errors';
import { audit } from './commands/audit';
import { cancel, list, status } from './commands/jobs';
import { local } from './commands/local';
import { logs, trigger } from './commands/local-tools';
import { policyCheck, policyLint } from './commands/policy';
import { roles } from './commands/roles';
import { submit, wait } from './commands/submit';
import { processIo, type Io } from './output';
import { EXIT, USAGE, UsageError } from './usage';

/** A command: its arguments (after its name), the output, and the environment main read once for all. */
type Command = (args: string[], io: Io, env: CliEnvironment) => number | Promise<number>;

const COMMANDS: Record<string, Command> = {
  'policy check': policyCheck,
  'policy lint': policyLint,
  roles,
  submit,
  status,
  wait,
  cancel,
  list,
  audit,
  logs,
  trigger,
  local,
};

export async function main(argv: string[], io: Io = processIo, env: CliEnvironment = cliEnvironment()): Promise<number> {
  const [first, second] = argv;
  if (!first || first === '--help' || first === '-h' || first === 'help') {
    io.out(USAGE);
    return first ? EXIT.ok : EXIT.usage;
  }
  const twoWord = `${first} ${second ?? ''}`;
  const name = twoWord in COMMANDS ? twoWord : first in COMMANDS ? first : undefined;
  if (!name) {
    io.err(`emr-gateway: unknown command "${first === 'policy' ? twoWord.trim() : first}"\n\n${USAGE}`);
    return EXIT.usage;
  }
  const args = argv.slice(name.split(' ').length);
  if (args.includes('--help') || args.includes('-h')) {
    io.out(USAGE);
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
      io.err(`emr-gateway ${name}: ${(error as Error).message}\nRun 'emr-gateway ${name} --help' for usage.`);
      return EXIT.usage;
    }
    throw error;
  }
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof TypeError && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

/** Entry point of the bin: runs and exits with the command's code; an unexpected error exits 70 without a stack. */
export function run(): void {
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
