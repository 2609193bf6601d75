/**
 * `dashboard [--port N] [--open]`: the web dashboard on loopback, its calls to the gateway signed with your AWS
 * credentials (the standard chain, as every command), until Ctrl-C. The URL it prints carries a token the page
 * must present: give it to nobody.
 */
import { parseArgs } from 'node:util';
import type { CliEnvironment } from '../../config/env';
import { startDashboard } from '../../dashboard/server';
import { version } from '../../../package.json';
import { openSecretInBrowser } from '../browser';
import { connect, connectionOptions, withApiErrors } from '../connection';
import { json, type Io } from '../output';
import { EXIT, UsageError } from '../usage';

/** The port when none is given; taken, the next few are tried (an explicit --port is taken or refused). */
export const DEFAULT_DASHBOARD_PORT = 7780;
const PORTS_TRIED = 10;

export async function dashboard(args: string[], io: Io, env: CliEnvironment): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: { ...connectionOptions, port: { type: 'string' }, open: { type: 'boolean', default: false } } });
  const given = values.port === undefined ? undefined : Number(values.port);
  if (given !== undefined && !(Number.isInteger(given) && given >= 0 && given <= 65535)) throw new UsageError(`--port must be a port number from 0 (any free one) to 65535, not "${values.port}"`);
  const { client, output } = connect(values, env);
  const endpoint = (values.endpoint ?? env.endpoint)!;
  return withApiErrors(io, async () => {
    // Credentials and the endpoint are tried once now: a dashboard that cannot sign, or signs for nothing, says so here.
    await client.roles();
    const server = await listen(given, (port) => startDashboard({ client, endpoint, port, version }));
    if (output === 'json') io.out(json({ url: server.url, port: server.port, endpoint }));
    else {
      io.out(`Dashboard: ${server.url}`);
      io.err(`  its calls go to ${endpoint}, signed with your AWS credentials; the token in the URL is the key: share it with nobody.`);
      io.err('  Ctrl-C stops it.');
    }
    // Not with the URL in the browser's command line, which every user of the machine can read: through a file of yours.
    const removeLauncher = values.open ? openSecretInBrowser(io, server.url).remove : () => undefined;
    return new Promise<number>((done) => {
      const stop = () => {
        removeLauncher();
        void server.close().then(() => done(EXIT.ok));
      };
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, stop);
    });
  });
}

async function listen<T>(given: number | undefined, start: (port: number) => Promise<T>): Promise<T> {
  if (given !== undefined) {
    try {
      return await start(given);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new UsageError(`port ${given} is taken: give another with --port, or --port 0 for any free one`);
      throw error;
    }
  }
  for (let port = DEFAULT_DASHBOARD_PORT; ; port++) {
    try {
      return await start(port);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port >= DEFAULT_DASHBOARD_PORT + PORTS_TRIED - 1) throw error;
    }
  }
}
