import { readFile } from 'node:fs/promises';
import { CLOCK_TICKS_PER_SECOND, listPids } from '../../src/runtime/local/proc.js';
import { wallClock } from './managed-process.js';

/** Where the machine's CPU time went, in clock ticks, at one moment. */
export interface CpuSample {
  at: number;
  router: number;
  /** The server, its live children (the instances) and its reaped ones (instances that exited). */
  server: number;
  loadGenerator: number;
  bench: number;
  /** Every CPU's busy time, from /proc/stat: everything that ran on the machine. */
  machineBusy: number;
  machineIdle: number;
}

/**
 * Cores busy (CPU seconds per wall second) between two samples, by who used them. Both
 * samples must be taken while the same load generator runs.
 */
export interface CpuShares {
  router: number;
  server: number;
  loadGenerator: number;
  bench: number;
  /** Busy time that none of the above used: other work on a shared machine. */
  other: number;
  idle: number;
}

interface ProcStat {
  ppid: number;
  /** utime + stime. */
  own: number;
  /** cutime + cstime: children that exited and were waited for. */
  reaped: number;
}

/**
 * Samples CPU time from /proc. The instances are the server's children (detached into their
 * own sessions, but still its children), so their time is counted while they run and, once
 * they exit and the server reaps them, in the server's children's time: an instance that
 * starts and stops between two samples is counted too. The load generator is found as the
 * bench's child running load-generator.ts.
 */
export async function sampleCpu(pids: { router: number; server: number }): Promise<CpuSample> {
  const stats = new Map<number, ProcStat>();
  for (const pid of await listPids()) {
    const stat = await readStat(pid);
    if (stat !== undefined) stats.set(pid, stat);
  }
  const own = (pid: number): number => stats.get(pid)?.own ?? 0;
  let server = own(pids.server) + (stats.get(pids.server)?.reaped ?? 0);
  let loadGenerator = 0;
  for (const [pid, stat] of stats) {
    if (stat.ppid === pids.server) server += stat.own;
    if (stat.ppid === process.pid && (await isLoadGenerator(pid))) loadGenerator += stat.own;
  }
  const machine = await machineTicks();
  return {
    at: wallClock(),
    router: own(pids.router),
    server,
    loadGenerator,
    bench: own(process.pid),
    machineBusy: machine.busy,
    machineIdle: machine.idle,
  };
}

export function cpuBetween(from: CpuSample, to: CpuSample): CpuShares {
  const seconds = (to.at - from.at) / 1000;
  const cores = (ticks: number): number => Math.max(0, ticks) / CLOCK_TICKS_PER_SECOND / seconds;
  const router = to.router - from.router;
  const server = to.server - from.server;
  const bench = to.bench - from.bench;
  const busy = to.machineBusy - from.machineBusy;
  const loadGenerator = to.loadGenerator - from.loadGenerator;
  return {
    router: cores(router),
    server: cores(server),
    loadGenerator: cores(loadGenerator),
    bench: cores(bench),
    other: cores(busy - router - server - bench - loadGenerator),
    idle: cores(to.machineIdle - from.machineIdle),
  };
}

async function readStat(pid: number): Promise<ProcStat | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: split after it.
  const close = text.lastIndexOf(')');
  // Fields from 3 (state) on: field n sits at index n - 3.
  const fields = text.slice(close + 2).split(' ');
  const field = (n: number): number => Number(fields[n - 3]);
  return { ppid: field(4), own: field(14) + field(15), reaped: field(16) + field(17) };
}

async function isLoadGenerator(pid: number): Promise<boolean> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).includes('load-generator.ts');
  } catch {
    return false;
  }
}

/** The `cpu` line of /proc/stat: busy (user, nice, system, irq, softirq, steal) and idle ticks. */
async function machineTicks(): Promise<{ busy: number; idle: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const busy = [user, nice, system, irq, softirq, steal].reduce<number>(
    (sum, value) => sum + (value ?? 0),
    0,
  );
  return { busy, idle: (idle ?? 0) + (iowait ?? 0) };
}
