/**
 * `ui JOB_ID --open`: the presigned Spark UI link is a credential while it lasts, so the browser is started on a
 * launcher file only the user can read, never with the link in its command line (`ps`, /proc/PID/cmdline).
 */
import { readFileSync, rmSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const spawned: { command: string; args: string[] }[] = [];
jest.mock('node:child_process', () => ({
  spawn: (command: string, args: string[]) => {
    spawned.push({ command, args });
    return { on: () => undefined, unref: () => undefined };
  },
}));

const LINK = 'https://p-1a2b3c.emrappui-prod.us-east-1.amazonaws.com/shs/?authToken=presigned-s3cret_0123456789';
// The API at its port: the client answers with the link, as GET /jobs/{id}/ui does.
jest.mock('../../src/cli/connection', () => ({
  ...jest.requireActual<object>('../../src/cli/connection'),
  connect: () => ({ client: { appUi: () => Promise.resolve({ url: LINK, kind: 'persistent' }) } }),
}));

import { ui } from '../../src/cli/commands/step-logs';

it('opens the link through a file of the user alone; the link is in no argument of the browser', async () => {
  const out: string[] = [];
  const io = { out: (line: string) => out.push(line), err: () => undefined } as never;
  expect(await ui(['job-01m91h0dr15795xqmvq0234w51', '--open'], io, {} as never)).toBe(0);
  expect(out).toEqual([LINK]); // printed for the user, on their own terminal
  // The browser, and the launcher's later removal: neither command line holds the link.
  expect(spawned).toHaveLength(2);
  for (const { args } of spawned) expect(args.join(' ')).not.toContain('presigned-s3cret');
  const browser = spawned.find(({ args }) => args.at(-1)?.startsWith('file://'))!;
  const file = fileURLToPath(browser.args.at(-1)!);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  const page = readFileSync(file, 'utf8');
  expect(page).toContain(`content="0;url=${LINK}"`);
  expect(page).toContain('Open the Spark UI');
  const removal = spawned.find(({ command }) => command === process.execPath)!;
  expect(removal.args.join(' ')).toContain(file.replace(/\/open\.html$/, ''));
  rmSync(file.replace(/\/open\.html$/, ''), { recursive: true, force: true }); // the removal was not started here
});
