import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';

/**
 * Processes Phoenix starts for a piece of work (a build, a deployment's hooks) carry a mark
 * in their environment, `NAME=value`. A process that left its process group (setsid, a
 * daemonizing script) still carries it, and so does one whose parent died with the control
 * plane, so reaping by the mark leaves nothing behind, even after a crash.
 */
export interface ProcessMark {
  variable: string;
  value: string;
}

/** Pids of the live processes (zombies aside) carrying `mark`, other than this one. */
export async function findMarkedProcesses(mark: ProcessMark): Promise<number[]> {
  const needle = Buffer.from(`${mark.variable}=${mark.value}\0`);
  const found: number[] = [];
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const environ = await readFile(`/proc/${entry}/environ`);
      if (environ.includes(needle)) found.push(pid);
    } catch {
      // Gone already, or not ours to read.
    }
  }
  return found;
}

/** Kills the process group, then every marked straggler; repeats until none is left. */
export async function reapMarkedProcesses(
  mark: ProcessMark,
  processGroup?: number,
): Promise<number> {
  if (processGroup !== undefined) signal(-processGroup);
  let killed = 0;
  for (let round = 0; round < 10; round++) {
    const pids = await findMarkedProcesses(mark);
    const alive = pids.filter((pid) => !isZombie(pid));
    if (alive.length === 0) break;
    for (const pid of alive) {
      if (signal(pid)) killed++;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return killed;
}

function signal(pid: number): boolean {
  try {
    process.kill(pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

function isZombie(pid: number): boolean {
  try {
    // /proc reads do not touch the disk, so a synchronous read is fine here.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}
