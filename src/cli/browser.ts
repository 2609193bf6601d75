/** The desktop's browser, for `ui --open` and `dashboard --open`. */
import { spawn } from 'node:child_process';
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
