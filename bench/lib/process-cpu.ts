import { readdir, readFile } from 'node:fs/promises';

/**
 * Clock ticks per second of /proc's CPU times (USER_HZ): 100 on every Linux architecture
 * Node runs on; `getconf CLK_TCK` would say so.
 */
const TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system) used so far by the processes `pids` and their live children
 * (nginx's workers under its master), from /proc. Undefined off Linux. On a machine shared
 * with other work, CPU time per request is steadier than requests per second.
 */
export async function cpuSeconds(pids: readonly number[]): Promise<number | undefined> {
  if (process.platform !== 'linux') return undefined;
  const stats = await allStats();
  const wanted = new Set(pids);
  let ticks = 0;
  for (const stat of stats) {
    if (wanted.has(stat.pid) || wanted.has(stat.ppid)) ticks += stat.ticks;
  }
  return ticks / TICKS_PER_SECOND;
}

interface Stat {
  pid: number;
  ppid: number;
  ticks: number;
}

async function allStats(): Promise<Stat[]> {
  const entries = await readdir('/proc');
  const stats = await Promise.all(
    entries.filter((entry) => /^\d+$/.test(entry)).map((entry) => readStat(entry)),
  );
  return stats.flatMap((stat) => stat ?? []);
}

async function readStat(pid: string): Promise<Stat | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // it exited meanwhile
  }
  // The command name (field 2) is in parentheses and may hold spaces: split after it.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // Fields 4, 14 and 15 of proc(5), counted from the state (field 3) here.
  const ppid = Number(fields[1]);
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { pid: Number(pid), ppid, ticks };
}
