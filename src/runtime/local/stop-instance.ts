import type { Clock } from '../../shared/clock.js';
import { findInstanceProcesses, reapInstance } from './instance-reaper.js';
import { isSameProcessAlive } from './proc.js';

/** Processes that are not our children (adopted, grandchildren) are polled this often. */
const EXIT_POLL_INTERVAL_MS = 50;

export interface StopTarget {
  instanceId: string;
  /** The instance's process (its group's leader), when it is verified alive. */
  leader?: { pid: number; startTime: number };
  /** Settles when the leader exits, when it is our own child. */
  exited?: Promise<unknown>;
  graceMs: number;
  clock: Clock;
}

/**
 * SIGTERM to the process group; up to `graceMs` for the leader and then every process
 * carrying the instance's mark to exit (a shell leader may die at once while the app it
 * started still finishes its requests); then SIGKILL to the group (while its leader is still
 * the same process) and to every marked process. Resolves when none is left: the port is free.
 */
export async function stopInstanceProcesses(target: StopTarget): Promise<void> {
  const { leader, clock } = target;
  if (leader === undefined) {
    await reapInstance(target.instanceId);
    return;
  }
  const deadline = clock.now() + target.graceMs;
  signalGroup(leader.pid, 'SIGTERM');
  const leaderGone =
    target.exited === undefined
      ? await pollUntil(async () => !(await isLeaderAlive(leader)), deadline, clock)
      : await within(target.exited, deadline - clock.now(), clock);
  if (leaderGone) {
    await pollUntil(
      async () => (await findInstanceProcesses(target.instanceId)).length === 0,
      deadline,
      clock,
    );
  }
  // Signalling the group is safe only while its leader lives: only then is its id not reused.
  const stillLeader = !leaderGone && (await isLeaderAlive(leader));
  await reapInstance(target.instanceId, stillLeader ? leader.pid : undefined);
}

function isLeaderAlive(leader: { pid: number; startTime: number }): Promise<boolean> {
  return isSameProcessAlive(leader.pid, leader.startTime);
}

function signalGroup(processGroup: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-processGroup, signal);
  } catch {
    // Gone already.
  }
}

/** Whether `promise` settled within `ms` of the clock. */
function within(promise: Promise<unknown>, ms: number, clock: Clock): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = clock.setTimeout(() => resolve(false), Math.max(0, ms));
    void promise.then(() => {
      clock.clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Checks `done` until it holds (true) or the clock passes `deadline` (false). */
async function pollUntil(
  done: () => Promise<boolean>,
  deadline: number,
  clock: Clock,
): Promise<boolean> {
  while (!(await done())) {
    const left = deadline - clock.now();
    if (left <= 0) return false;
    await new Promise<void>((resolve) =>
      clock.setTimeout(resolve, Math.min(EXIT_POLL_INTERVAL_MS, left)),
    );
  }
  return true;
}
