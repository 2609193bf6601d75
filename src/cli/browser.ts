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

/** The launcher of a secret URL: removed at once (a long-running command's end), or by a detached process later. */
export interface Launcher {
  remove: () => void;
  /** For a command that ends at once: the browser reads the file after it has gone, so a process of its own removes it. */
  removeLater: (ms: number) => void;
}

/**
 * The browser on a URL that is a secret (the dashboard's, with its token; a presigned Spark UI link), as Jupyter does
 * it: not given in the browser's command line (every user of the machine reads a process's arguments, `ps`,
 * /proc/PID/cmdline) but in a file only this user can read (0600, in a new 0700 directory) that sends the browser on.
 * `what` names the page on the launcher's link.
 */
export function openSecretInBrowser(io: Io, url: string, what = 'the dashboard'): Launcher {
  const launcher = writeLauncher(url, what);
  openInBrowser(io, pathToFileURL(launcher.file).href);
  return {
    remove: launcher.remove,
    removeLater: (ms) => {
      // Only the directory's name is in this command line, not the secret.
      const script = `setTimeout(() => require('node:fs').rmSync(${JSON.stringify(launcher.dir)}, { recursive: true, force: true }), ${Math.round(ms)})`;
      try {
        spawn(process.execPath, ['-e', script], { stdio: 'ignore', detached: true }).unref();
      } catch {
        io.err(`could not start the removal of ${launcher.dir}: remove it yourself`);
      }
    },
  };
}

/** The launcher file of openSecretInBrowser: a page that sends the browser on to `url`, readable by this user alone. */
export function writeLauncher(url: string, what = 'the dashboard'): { file: string; dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'emr-gateway-open-'));
  chmodSync(dir, 0o700);
  const file = join(dir, 'open.html');
  const href = escapeHtml(url);
  writeFileSync(
    file,
    `<!doctype html>\n<meta charset="utf-8">\n<meta name="referrer" content="no-referrer">\n<meta http-equiv="refresh" content="0;url=${href}">\n<title>EMR step gateway</title>\n<p><a href="${href}" rel="noreferrer">Open ${escapeHtml(what)}</a></p>\n`,
    { mode: 0o600 },
  );
  return { file, dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
