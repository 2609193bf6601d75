/**
 * What a process really listens on, from the kernel's tables (Linux /proc), not from what the code says it
 * opened: a listener nobody declared is exactly what these tests look for.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const LISTEN = '0A';

/** The inodes of the sockets a process holds open. */
function socketInodes(pid: number | 'self'): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed between readdir and readlink
    }
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m) inodes.add(m[1]!);
  }
  return inodes;
}

/** The TCP ports this process (or `pid`) listens on, IPv4 and IPv6, sorted. */
export function tcpListenPorts(pid: number | 'self' = 'self'): number[] {
  const inodes = socketInodes(pid);
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const [, local, , state, , , , , , inode] = cols;
      if (state === LISTEN && inode && inodes.has(inode) && local) ports.add(parseInt(local.split(':')[1]!, 16));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

/** The paths of the Unix sockets this process (or `pid`) listens on (the names they were bound to). */
export function unixListenPaths(pid: number | 'self' = 'self'): string[] {
  const inodes = socketInodes(pid);
  const paths: string[] = [];
  for (const line of readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
    // Num RefCount Protocol Flags Type St Inode Path; Flags 00010000 is __SO_ACCEPTCON (listening)
    const [, , , flags, , , inode, path] = line.trim().split(/\s+/);
    if (flags === '00010000' && inode && inodes.has(inode) && path?.startsWith('/')) paths.push(path);
  }
  return paths.sort();
}
