/**
 * What the local stack reads about processes from Linux's /proc: whether a pid is still the process it was
 * (its start time), and which processes of a process group carry a given environment variable. Elsewhere
 * (no /proc) every function answers "unknown" (undefined or an empty list), and callers say what they do then.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  /** R, S, D, Z (zombie), T, ... */
  state: string;
  ppid: number;
  pgrp: number;
  /** The start time, in clock ticks after boot: a reused pid has another one. */
  start: string;
}

/** Fields of /proc/PID/stat, or undefined if there is no such process (or no /proc). */
export function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime
  // priority nice num_threads itrealvalue starttime ...: comm may hold spaces and parentheses, so split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '?', ppid: Number(fields[1]), pgrp: Number(fields[2]), start: fields[19] ?? '' };
}

/** Whether /proc can be read here (Linux). */
export function hasProcfs(): boolean {
  return procStat(process.pid) !== undefined;
}

/**
 * The live (not zombie) processes of process group `pgrp` whose environment holds `name=value`: this user's
 * processes only (another user's environment cannot be read), so never an unrelated process that reuses a pid.
 */
export function groupMembersWithEnv(pgrp: number, name: string, value: string): number[] {
  let pids: number[];
  try {
    pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number);
  } catch {
    return [];
  }
  const wanted = `${name}=${value}`;
  return pids.filter((pid) => {
    const stat = procStat(pid);
    if (!stat || stat.pgrp !== pgrp || stat.state === 'Z') return false;
    try {
      return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(wanted);
    } catch {
      return false;
    }
  });
}
