import type { Clock } from '../shared/clock.js';
import { formatDuration } from '../shared/durations.js';
import type { TargetHealth, TrafficRouter } from '../router/traffic-router.js';
import { waitFor } from './clock-wait.js';

/**
 * Longest time between two looks at a group's health while waiting for it; also how late
 * the crash-loop breaker can be seen then (a loopback call to the router: cheap).
 */
export const MAX_HEALTH_POLL_MS = 250;

export interface HealthWait {
  router: TrafficRouter;
  group: string;
  /** The targets that must be healthy (the new release's instances). */
  targetIds: readonly string[];
  timeoutMs: number;
  pollMs: number;
  clock: Clock;
  signal?: AbortSignal;
  /** Checked between looks: a reason to stop waiting (an instance the runtime gave up on). */
  problem?: () => string | undefined;
}

export type HealthWaitResult =
  | { healthy: true; targets: TargetHealth[] }
  | { healthy: false; reason: string; targets: TargetHealth[] };

/**
 * Polls the router, which checks each target itself, until every named target is healthy.
 * Resolves `healthy: false` (with the router's reasons) at the deadline or on a problem;
 * rejects when the router cannot be asked or the signal aborts.
 */
export async function waitUntilHealthy(wait: HealthWait): Promise<HealthWaitResult> {
  const started = wait.clock.now();
  const wanted = new Set(wait.targetIds);
  for (;;) {
    const targets = (await wait.router.health(wait.group)).filter((t) => wanted.has(t.id));
    const healthy = targets.filter((target) => target.state === 'healthy').length;
    if (healthy >= wanted.size) return { healthy: true, targets };
    const problem = wait.problem?.();
    if (problem !== undefined) return { healthy: false, reason: problem, targets };
    const elapsed = wait.clock.now() - started;
    if (elapsed >= wait.timeoutMs) {
      const reason = `${healthy} of ${wanted.size} targets healthy after ${formatDuration(elapsed)}${describeUnhealthy(targets)}`;
      return { healthy: false, reason, targets };
    }
    await waitFor(wait.clock, Math.min(wait.pollMs, wait.timeoutMs - elapsed), wait.signal);
  }
}

function describeUnhealthy(targets: readonly TargetHealth[]): string {
  const problems = targets
    .filter((target) => target.state !== 'healthy')
    .map(
      (target) =>
        `${target.id} ${target.state}${target.reason === undefined ? '' : ` (${target.reason})`}`,
    );
  return problems.length === 0 ? '' : `: ${problems.join('; ')}`;
}
