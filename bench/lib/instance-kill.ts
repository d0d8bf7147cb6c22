import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HttpTrafficRouter } from '../../src/router/http-traffic-router.js';
import type { InstanceRecord } from '../../src/runtime/local/instance-record.js';
import { StateFile } from '../../src/runtime/local/state-file.js';
import { probe } from './http-probe.js';
import { instanceMarkOf } from './instance-sweep.js';
import { wallClock } from './managed-process.js';

/** How often the state file, the instance's port and the router are looked at after a kill. */
const RECOVERY_POLL_MS = 20;
const PROBE_TIMEOUT_MS = 500;

export interface KillSample {
  instanceId: string;
  /** The instance's index in its release (0, 1...). */
  index: number;
  pid: number;
  /** /proc/<pid>/comm of the process killed: `node` when bash exec'd the start command. */
  command: string;
  /** Bench clock (epoch ms) just before SIGKILL. */
  killedAt: number;
  /** First seen in the runtime's state file with a new pid. */
  restartedAt: number;
  newPid: number;
  /** The new process answered /health on the instance's port, asked directly. */
  servingAt: number;
  /** The router first reported the target as not healthy (never, if it did not notice). */
  routerUnhealthyAt: number | undefined;
  /** The router reported the target healthy again (after the restart). */
  routerHealthyAt: number;
}

/**
 * SIGKILLs one running instance of `releaseId` (by turn: index 0, then 1...), found in the
 * runtime's state file and checked by its PHOENIX_INSTANCE_ID mark in /proc, with no drain and
 * no warning. Then waits until the runtime has restarted it, the new process answers on its
 * port, and the router counts it healthy again.
 */
export async function killServingInstance(options: {
  home: string;
  router: HttpTrafficRouter;
  service: string;
  environment: string;
  releaseId: string;
  group: string;
  turn: number;
  timeoutMs: number;
  signal: AbortSignal;
}): Promise<KillSample> {
  const stateFile = new StateFile(join(options.home, 'runtime', 'instances.json'));
  const running = (await stateFile.load())
    .filter(
      (record) =>
        record.service === options.service &&
        record.environment === options.environment &&
        record.releaseId === options.releaseId &&
        record.status === 'running' &&
        record.pid !== undefined,
    )
    .sort((a, b) => a.index - b.index);
  const victim = running[options.turn % Math.max(1, running.length)];
  const pid = victim?.pid;
  if (victim === undefined || pid === undefined) {
    throw new Error(`no running instance of ${options.releaseId} in the runtime's state file`);
  }
  const mark = await instanceMarkOf(pid);
  if (mark !== victim.id) {
    throw new Error(`pid ${pid} carries instance mark ${mark ?? 'none'}, not ${victim.id}`);
  }
  const command = (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
  const killedAt = wallClock();
  process.kill(pid, 'SIGKILL');
  const recovery = await waitForRecovery({ ...options, stateFile, victim, pid, killedAt });
  return { instanceId: victim.id, index: victim.index, pid, command, killedAt, ...recovery };
}

async function waitForRecovery(options: {
  stateFile: StateFile;
  router: HttpTrafficRouter;
  group: string;
  victim: InstanceRecord;
  pid: number;
  killedAt: number;
  timeoutMs: number;
  signal: AbortSignal;
}): Promise<Omit<KillSample, 'instanceId' | 'index' | 'pid' | 'command' | 'killedAt'>> {
  const { victim, router, group } = options;
  let restarted: { at: number; pid: number } | undefined;
  let servingAt: number | undefined;
  let routerUnhealthyAt: number | undefined;
  for (;;) {
    const now = wallClock();
    if (now - options.killedAt > options.timeoutMs) {
      throw new Error(
        `instance ${victim.id} was not back within ${options.timeoutMs} ms of its SIGKILL (restarted: ${restarted !== undefined}, serving: ${servingAt !== undefined})`,
      );
    }
    if (restarted === undefined) {
      const record = (await options.stateFile.load()).find((r) => r.id === victim.id);
      if (record?.status === 'running' && record.pid !== undefined && record.pid !== options.pid) {
        restarted = { at: wallClock(), pid: record.pid };
      }
    }
    if (restarted !== undefined && servingAt === undefined && (await answers(victim.port))) {
      servingAt = wallClock();
    }
    const target = (await router.health(group)).find((t) => t.id === victim.id);
    const state = target?.state ?? 'missing';
    if (state !== 'healthy') routerUnhealthyAt ??= wallClock();
    if (restarted !== undefined && servingAt !== undefined && state === 'healthy') {
      return {
        restartedAt: restarted.at,
        newPid: restarted.pid,
        servingAt,
        routerUnhealthyAt,
        routerHealthyAt: wallClock(),
      };
    }
    await sleep(RECOVERY_POLL_MS, undefined, { signal: options.signal });
  }
}

/** Whether the instance answers GET /health with a 2xx, asked directly on its port. */
async function answers(port: number): Promise<boolean> {
  const answer = await probe(`http://127.0.0.1:${port}/health`, PROBE_TIMEOUT_MS);
  return answer !== undefined && answer.status >= 200 && answer.status < 300;
}
