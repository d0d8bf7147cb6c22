import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';

/**
 * Every process a build starts carries `PHOENIX_BUILD_ID` in its environment. A process that
 * left the build's process group (setsid, a daemonizing server) still carries it, so reaping
 * by that mark leaves nothing behind when a build ends, times out or is stopped.
 */
export const BUILD_MARK_VARIABLE = 'PHOENIX_BUILD_ID';

export async function findMarkedProcesses(buildId: string): Promise<number[]> {
  const needle = Buffer.from(`${BUILD_MARK_VARIABLE}=${buildId}\0`);
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
export async function reapBuildProcesses(buildId: string, processGroup?: number): Promise<number> {
  if (processGroup !== undefined) signal(-processGroup);
  let killed = 0;
  for (let round = 0; round < 10; round++) {
    const pids = await findMarkedProcesses(buildId);
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
