/** `emr-gateway local` (what `npm start` runs): the whole gateway on this machine, until Ctrl-C. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { rolesFor } from '../../authz/roles';
import { loadConfigFile } from '../../config-file/load';
import type { CliEnvironment } from '../../config/env';
import { formatConfigFinding } from '../../config/validate';
import { configuredClusterArn } from '../../identifiers';
import { DEFAULT_ACTION_ON_FAILURE, STEP_TYPES } from '../../jobs/request';
import { parseFaults } from '../../local/aws-endpoint';
import { DataDirectoryInUseError } from '../../local/lock';
import { startLocalStack, type LocalStack } from '../../local/stack';
import type { Io } from '../output';
import { EXIT, UsageError } from '../usage';

/** A file of this package, from dist/cli.js or from src/cli/commands/ (run from source). */
function packageFile(path: string): string | undefined {
  return [resolve(__dirname, '..', path), resolve(__dirname, '../../..', path)].find((candidate) => existsSync(candidate));
}

/** The example configuration shipped with the package. */
function exampleConfig(): string {
  return packageFile('config/example.yaml') ?? 'config/example.yaml';
}

/** A word for a POSIX shell: as it is when plain, else single-quoted. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The alias the printed commands use: this package's own bin by its absolute path. Never `npx emr-gateway`:
 * outside the clone npx resolves that (unpublished) name on the npm registry and runs whatever is there,
 * with the user's AWS keys in its environment.
 */
function cliAlias(): string {
  const bin = packageFile('bin/emr-gateway.js') ?? resolve(process.argv[1] ?? 'bin/emr-gateway.js');
  return `alias emr-gateway=${shellWord(`node ${shellWord(bin)}`)}`;
}

/** How long a stop may take; past that the process exits anyway (the step helper still ends the steps). */
const STOP_DEADLINE_MS = 10_000;

function port(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${flag} must be a port number (0-65535), not "${value}"`);
  return n;
}

export async function local(args: string[], io: Io, env: CliEnvironment): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      config: { type: 'string', default: env.local.config ?? exampleConfig() },
      port: { type: 'string', default: env.local.port ?? '3000' },
      'aws-port': { type: 'string', default: env.local.awsPort ?? '4566' },
      'data-dir': { type: 'string' },
      'in-memory': { type: 'boolean', default: false },
      faults: { type: 'string', default: env.local.faults ?? '' },
    },
  });
  const inMemory = values['in-memory'];
  if (inMemory && values['data-dir'] !== undefined) throw new UsageError('--in-memory keeps nothing on disk: it takes no --data-dir');
  // In memory, the other emulators' state goes to a fresh directory of its own, removed at the stop
  // (EMR_GATEWAY_DATA_DIR, a default, does not apply).
  const dataDir = inMemory ? mkdtempSync(join(tmpdir(), 'emr-gateway-in-memory-')) : (values['data-dir'] ?? env.local.dataDir ?? '.emr-gateway');
  const removeTemporary = () => {
    if (inMemory) rmSync(dataDir, { recursive: true, force: true });
  };
  let faults;
  try {
    faults = parseFaults(values.faults);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  // Loaded here first for its warnings (a lint error fails here, before anything starts or is created).
  for (const warning of loadConfigFile(values.config).findings) io.err(formatConfigFinding(warning));
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      configFile: values.config,
      port: port(values.port, '--port'),
      awsPort: port(values['aws-port'], '--aws-port'),
      dataDir,
      inMemory,
      faults,
      env: env.processEnv,
    });
  } catch (error) {
    removeTemporary();
    if (error instanceof DataDirectoryInUseError) {
      io.err(`emr-gateway local: ${error.message}`);
      return EXIT.failed;
    }
    const e = error as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') {
      io.err(`emr-gateway local: a port is in use (${e.message}). Is another local stack running? Choose others with --port and --aws-port.`);
      return EXIT.failed;
    }
    throw error;
  }
  io.out(banner(stack, values.config, inMemory ? undefined : dataDir, values.faults));
  // (A reader of the output that has gone, e.g. a `| tee` ended by the same Ctrl-C, is handled in main.ts's run.)
  return new Promise<number>((done) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      // Once is enough: `npm start` passes Ctrl-C on, so the same SIGINT comes twice (from the terminal and npm).
      if (stopping) return;
      stopping = true;
      io.err(`\n${signal}: stopping the local stack (running steps are ended and recorded INTERRUPTED)...`);
      const deadline = setTimeout(() => {
        io.err(`emr-gateway local: the stack did not stop within ${STOP_DEADLINE_MS / 1000} s; exiting now (the running steps end with it; the next start records them).`);
        process.exit(EXIT.failed);
      }, STOP_DEADLINE_MS);
      void stack.stop().then(() => {
        removeTemporary();
        clearTimeout(deadline);
        io.err('stopped.');
        // Nothing of the stack runs any more: should anything still hold the event loop, it does not hold the exit.
        setTimeout(() => process.exit(), 1000).unref();
        done(EXIT.ok);
      });
    };
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, stop);
  });
}

/** A few of the jobs followed again, not hundreds of ids after a crash under load (`emr-gateway list` has them all). */
function resumedLine(jobIds: readonly string[]): string {
  const shown = jobIds.slice(0, 3).join(', ');
  const more = jobIds.length > 3 ? `, and ${jobIds.length - 3} more` : '';
  return `Following ${jobIds.length} unfinished job${jobIds.length === 1 ? '' : 's'} again (${shown}${more})`;
}

/** `dataDir` undefined: the stack keeps its tables in memory. */
function banner(stack: LocalStack, configFile: string, dataDir: string | undefined, faults: string): string {
  const { config } = stack;
  const lines = [
    'emr-step-gateway: the local stack is up.',
    `  Gateway API (AWS SigV4, service execute-api):                                 ${stack.apiUrl}`,
    `  AWS endpoint (DynamoDB, EMR, Step Functions, STS, KMS, S3, SNS, EventBridge): ${stack.awsUrl}`,
    `  Configuration: ${configFile}    Data: ${dataDir === undefined ? 'in memory (gone at the stop)' : resolve(dataDir)}${faults ? `    Faults: ${faults}` : ''}`,
    ...(stack.resumed.length ? [`  ${resumedLine(stack.resumed)}`] : []),
    '',
  ];
  const cluster = config.clusters.find((c) => c.runtimeRoles) ?? config.clusters[0]!;
  for (const [i, credential] of config.local.credentials.entries()) {
    const usable = rolesFor(stack.gateway.loaded.engine, {
      callerArn: credential.principal,
      clusterArn: configuredClusterArn(config, cluster.id),
      catalogue: config.runtimeRoles,
      stepTypes: STEP_TYPES,
      actionOnFailure: DEFAULT_ACTION_ON_FAILURE,
    }).filter((r) => r.stepTypes.includes('command') || r.stepTypes.length);
    const who = credential.principal.split('/').slice(-2).join('/');
    lines.push(`${i === 0 ? 'In another terminal, as' : 'Or as'} ${who} (${usable.length ? `may use ${usable.length} runtime role(s) on ${cluster.id}` : 'allowed nothing: every submission is denied'}):`);
    if (i === 0) lines.push(`  ${cliAlias()}`);
    lines.push(`  export EMR_GATEWAY_ENDPOINT=${stack.apiUrl} AWS_REGION=${config.region}`);
    lines.push(`  export AWS_ACCESS_KEY_ID=${credential.accessKeyId} AWS_SECRET_ACCESS_KEY=${credential.secretAccessKey}`);
    if (i === 0) {
      const role = usable.find((r) => r.stepTypes.includes('command'))?.roleArn ?? usable[0]?.roleArn ?? config.runtimeRoles[0];
      lines.push(`  emr-gateway submit --cluster ${cluster.id} --role ${role} --name hello --wait -- bash -c 'echo hello from the local EMR'`);
      lines.push('  emr-gateway list; emr-gateway audit JOB_ID --verify; emr-gateway logs JOB_ID');
    }
    lines.push('');
  }
  lines.push('The alias runs this checkout\'s CLI from any directory (npx would fetch that name from the npm registry instead).');
  // Not among the lines to paste: it runs until Ctrl-C.
  lines.push('The web dashboard, with those exports: emr-gateway dashboard --open (it runs until Ctrl-C).');
  lines.push(`The AWS CLI works against the local endpoint, e.g.: aws --endpoint-url ${stack.awsUrl} emr list-steps --cluster-id ${cluster.id}`);
  lines.push(
    dataDir === undefined
      ? 'Stop with Ctrl-C: running steps are ended; the jobs and audit trails end with the stack (in memory).'
      : 'Stop with Ctrl-C: jobs and audit trails are kept; unfinished jobs are followed again on the next start.',
  );
  return lines.join('\n');
}
