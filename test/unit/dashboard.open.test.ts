/**
 * `dashboard --open`: the browser is started on a launcher file only the user can read, never with the token in its
 * command line (a process's arguments are readable by every user of the machine, /proc/PID/cmdline, `ps`).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const spawned: { command: string; args: string[] }[] = [];
jest.mock('node:child_process', () => ({
  spawn: (command: string, args: string[]) => {
    spawned.push({ command, args });
    return { on: () => undefined, unref: () => undefined };
  },
}));

import { openSecretInBrowser } from '../../src/cli/browser';

const io = { out: () => undefined, err: () => undefined } as never;
const URL_WITH_TOKEN = 'http://127.0.0.1:7780/?token=s3cret-token_0123456789abcdefghij';

it('starts the browser on a file of the user alone that sends it on to the URL; the token is in no argument', () => {
  const done = openSecretInBrowser(io, URL_WITH_TOKEN).remove;
  try {
    expect(spawned).toHaveLength(1);
    const { args } = spawned[0]!;
    expect(args.join(' ')).not.toContain('s3cret-token');
    const target = args.at(-1)!;
    expect(target).toMatch(/^file:\/\//);
    const file = fileURLToPath(target);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(file.replace(/\/[^/]+$/, '')).mode & 0o777).toBe(0o700);
    expect(readFileSync(file, 'utf8')).toContain(`<meta http-equiv="refresh" content="0;url=${URL_WITH_TOKEN}">`);
    done();
    expect(existsSync(file)).toBe(false);
  } finally {
    done();
  }
});
