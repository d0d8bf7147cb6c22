import { readFile, readlink } from 'node:fs/promises';
import { INSTANCE_MARK_VARIABLE } from '../../src/runtime/local/instance-reaper.js';
import { listPids, readProcessStat } from '../../src/runtime/local/proc.js';

export interface MarkedProcess {
  pid: number;
  instanceId: string;
}

/** The instance id a live process carries in its environment (PHOENIX_INSTANCE_ID), if any. */
export async function instanceMarkOf(pid: number): Promise<string | undefined> {
  let environ: Buffer;
  try {
    environ = await readFile(`/proc/${pid}/environ`);
  } catch {
    return undefined;
  }
  const prefix = `${INSTANCE_MARK_VARIABLE}=`;
  for (const entry of environ.toString().split('\0')) {
    if (entry.startsWith(prefix)) return entry.slice(prefix.length);
  }
  return undefined;
}

/**
 * Live processes of this bench's instances: marked with one of `instanceIds`, or marked and
 * running in a folder under `home` (the releases are unpacked there). Instances of other
 * Phoenix homes on the machine are never touched.
 */
export async function findInstanceProcesses(
  home: string,
  instanceIds: ReadonlySet<string>,
): Promise<MarkedProcess[]> {
  const found: MarkedProcess[] = [];
  for (const pid of await listPids()) {
    if (pid === process.pid) continue;
    const instanceId = await instanceMarkOf(pid);
    if (instanceId === undefined) continue;
    const stat = await readProcessStat(pid);
    if (stat === undefined || stat.state === 'Z') continue;
    if (instanceIds.has(instanceId) || (await cwdOf(pid))?.startsWith(`${home}/`) === true) {
      found.push({ pid, instanceId });
    }
  }
  return found;
}

/** SIGKILLs, each by its pid, whatever `findInstanceProcesses` finds; returns what it killed. */
export async function reapInstanceProcesses(
  home: string,
  instanceIds: ReadonlySet<string>,
): Promise<MarkedProcess[]> {
  const leftovers = await findInstanceProcesses(home, instanceIds);
  for (const { pid } of leftovers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Exited meanwhile.
    }
  }
  return leftovers;
}

async function cwdOf(pid: number): Promise<string | undefined> {
  try {
    return await readlink(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}
