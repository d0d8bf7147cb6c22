import { readdir, readFile } from 'node:fs/promises';

/**
 * Facts about processes from Linux's /proc. Every reader returns `undefined` (or nothing) for
 * a process that is gone or not readable, since processes can vanish between two reads.
 */

/** USER_HZ: the unit of /proc/<pid>/stat times; 100 on every Linux ABI Node runs on. */
export const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcessStat {
  pid: number;
  /** R, S, D, Z (zombie), T... */
  state: string;
  processGroup: number;
  /** User plus system CPU time, in clock ticks. */
  cpuTicks: number;
  /** Field 22: clock ticks after boot when the process started; with the pid, an identity. */
  startTime: number;
}

export async function readProcessStat(pid: number): Promise<ProcessStat | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return parseProcessStat(text);
}

/** Parses /proc/<pid>/stat; the command name (field 2) may contain spaces and parentheses. */
export function parseProcessStat(text: string): ProcessStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open === -1 || close === -1) return undefined;
  const pid = Number(text.slice(0, open).trim());
  // Fields from 3 (state) on; field n sits at index n - 3.
  const fields = text
    .slice(close + 2)
    .trim()
    .split(' ');
  const state = fields[0];
  const processGroup = Number(fields[2]);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const startTime = Number(fields[19]);
  if (state === undefined || [pid, processGroup, utime, stime, startTime].some(Number.isNaN)) {
    return undefined;
  }
  return { pid, state, processGroup, cpuTicks: utime + stime, startTime };
}

/** The process `pid` runs (not a zombie) and is the one that started at `startTime`. */
export async function isSameProcessAlive(pid: number, startTime: number): Promise<boolean> {
  const stat = await readProcessStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.startTime === startTime;
}

/** Resident set size in bytes (VmRSS of /proc/<pid>/status). */
export async function readRssBytes(pid: number): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(text);
  // Kernel threads and zombies have no VmRSS line.
  return match?.[1] === undefined ? 0 : Number(match[1]) * 1024;
}

export async function listPids(): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  return entries.filter((entry) => /^\d+$/.test(entry)).map(Number);
}

/** Live (non-zombie) members of a process group. */
export async function processGroupMembers(processGroup: number): Promise<ProcessStat[]> {
  const members: ProcessStat[] = [];
  for (const pid of await listPids()) {
    const stat = await readProcessStat(pid);
    if (stat !== undefined && stat.processGroup === processGroup && stat.state !== 'Z') {
      members.push(stat);
    }
  }
  return members;
}

export interface ProcessStats {
  cpuSeconds: number;
  rssBytes: number;
  processes: number;
}

/** CPU time and memory summed over a process group (an instance and its children). */
export async function processGroupStats(processGroup: number): Promise<ProcessStats> {
  let cpuTicks = 0;
  let rssBytes = 0;
  let processes = 0;
  for (const member of await processGroupMembers(processGroup)) {
    const rss = await readRssBytes(member.pid);
    if (rss === undefined) continue;
    cpuTicks += member.cpuTicks;
    rssBytes += rss;
    processes++;
  }
  return { cpuSeconds: cpuTicks / CLOCK_TICKS_PER_SECOND, rssBytes, processes };
}
