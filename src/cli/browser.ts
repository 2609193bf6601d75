/** The desktop's browser, for `ui --open` and `dashboard --open`. */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Io } from './output';

/** The desktop's browser (xdg-open, open, start), without a shell: the URL is one argument. */
export function openInBrowser(io: Io, url: string): void {
  const [command, ...args] = process.platform === 'darwin' ? ['open'] : process.platform === 'win32' ? ['cmd', '/c', 'start', '""'] : ['xdg-open'];
  try {
    const child = spawn(command, [...args, url], { stdio: 'ignore', detached: true });
    child.on('error', () => io.err(`could not start ${command} to open the link: open it yourself`));
    child.unref();
  } catch {
    io.err(`could not start ${command} to open the link: open it yourself`);
  }
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The browser on a URL that is a secret (the dashboard's, with its token), as Jupyter does it: not given in the
 * browser's command line (every user of the machine reads a process's arguments, `ps`, /proc/PID/cmdline) but in a
 * file only this user can read (0600, in a new 0700 directory) that sends the browser on. The returned function
 * removes the file (at the dashboard's end).
 */
export function openSecretInBrowser(io: Io, url: string): () => void {
  const launcher = writeLauncher(url);
  openInBrowser(io, pathToFileURL(launcher.file).href);
  return launcher.remove;
}

/** The launcher file of openSecretInBrowser: a page that sends the browser on to `url`, readable by this user alone. */
export function writeLauncher(url: string): { file: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'emr-gateway-open-'));
  chmodSync(dir, 0o700);
  const file = join(dir, 'open.html');
  const href = escapeHtml(url);
  writeFileSync(
    file,
    `<!doctype html>\n<meta charset="utf-8">\n<meta name="referrer" content="no-referrer">\n<meta http-equiv="refresh" content="0;url=${href}">\n<title>EMR step gateway</title>\n<p><a href="${href}" rel="noreferrer">Open the dashboard</a></p>\n`,
    { mode: 0o600 },
  );
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
