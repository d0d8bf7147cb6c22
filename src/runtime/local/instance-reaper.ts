import { readFile } from 'node:fs/promises';
import { listPids, readProcessStat } from './proc.js';

/**
 * Every process of an instance carries `PHOENIX_INSTANCE_ID=<id>` in its environment. One that
 * left the instance's process group (setsid, a daemonizing server) still carries it, so
 * reaping by the mark leaves nothing behind, even for an instance recorded by a control plane
 * that has since restarted. An unrelated process that reused a recorded pid carries no mark.
 */
export const INSTANCE_MARK_VARIABLE = 'PHOENIX_INSTANCE_ID';

/** Live processes whose initial environment holds `name=value`. */
export async function findProcessesWithVariable(name: string, value: string): Promise<number[]> {
  const needle = Buffer.from(`${name}=${value}\0`);
  const found: number[] = [];
  for (const pid of await listPids()) {
    if (pid === process.pid) continue;
    try {
      const environ = await readFile(`/proc/${pid}/environ`);
      // A zombie's environ reads empty, so zombies never match.
      if (environ.includes(needle)) found.push(pid);
    } catch {
      // Gone already, or not ours to read.
    }
  }
  return found;
}

export function findInstanceProcesses(instanceId: string): Promise<number[]> {
  return findProcessesWithVariable(INSTANCE_MARK_VARIABLE, instanceId);
}

/** Sends `signal` to a process group, then to every marked process; returns how many got it. */
export async function signalInstance(
  instanceId: string,
  processGroup: number | undefined,
  signal: NodeJS.Signals,
): Promise<number> {
  let signalled = 0;
  if (processGroup !== undefined && send(-processGroup, signal)) signalled++;
  for (const pid of await findInstanceProcesses(instanceId)) {
    if (send(pid, signal)) signalled++;
  }
  return signalled;
}

/**
 * SIGKILLs the process group (only when `processGroup` is known to be the instance's, never a
 * reused pid), then every marked straggler, until none is left.
 */
export async function reapInstance(instanceId: string, processGroup?: number): Promise<number> {
  if (processGroup !== undefined) send(-processGroup, 'SIGKILL');
  let killed = 0;
  for (let round = 0; round < 10; round++) {
    const alive = [];
    for (const pid of await findInstanceProcesses(instanceId)) {
      const stat = await readProcessStat(pid);
      if (stat !== undefined && stat.state !== 'Z') alive.push(pid);
    }
    if (alive.length === 0) break;
    for (const pid of alive) {
      if (send(pid, 'SIGKILL')) killed++;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return killed;
}

function send(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}
