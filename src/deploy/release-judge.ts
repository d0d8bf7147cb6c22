import { datapoints, evaluateAlarm, type AlarmState } from '../monitor/alarm.js';
import type { WindowBucket } from '../router/rolling-window.js';
import type { TargetHealth } from '../router/traffic-router.js';
import { formatDuration } from '../shared/durations.js';
import type { ReleaseMonitor } from './deployment.js';

/** What the release judge looks at, fetched by the caller (step-executor.ts). */
export interface ReleaseObservation {
  /** The new release's target group traffic, as the router's 100 ms slices. */
  buckets: readonly WindowBucket[];
  /** The new release's targets as the router's health checks see them. */
  health: readonly TargetHealth[];
  /** Restarts of each new instance within the crash-loop window. */
  restarts: readonly { instanceId: string; count: number }[];
  nowMs: number;
}

export type ReleaseVerdict =
  | { ok: true; alarms: Record<string, AlarmState> }
  | {
      ok: false;
      /** What tripped: an alarm's name, `health` or `crash-loop`. */
      cause: string;
      reason: string;
      /** The evidence (the alarm's datapoints, the targets, the restarts) for the timeline. */
      data: Record<string, unknown>;
      alarms: Record<string, AlarmState>;
    };

/**
 * Judges a new release on its live traffic, as a pure function over what the router and
 * the runtime report: the crash-loop breaker first (a release that keeps dying), then
 * health (no target of the new release is healthy), then each alarm (CloudWatch semantics,
 * see monitor/alarm.ts) over the window. `previous` carries each alarm's last state, for
 * treat-missing-data: ignore. Passive health is the alarms' job: a release whose traffic
 * fails is judged failing even while /health answers 200.
 */
export function judgeRelease(
  monitor: ReleaseMonitor,
  observed: ReleaseObservation,
  previous: Readonly<Record<string, AlarmState>> = {},
): ReleaseVerdict {
  const alarms: Record<string, AlarmState> = {};
  const { restarts, windowMs } = monitor.crashLoop;
  const looping = observed.restarts.filter((instance) => instance.count >= restarts);
  if (looping.length > 0) {
    const which = looping.map((i) => `${i.instanceId} ${i.count}×`).join(', ');
    return {
      ok: false,
      cause: 'crash-loop',
      reason: `crash loop: ${which} restarted within ${formatDuration(windowMs)} (the breaker trips at ${restarts})`,
      data: { restarts: looping, windowMs, threshold: restarts },
      alarms,
    };
  }
  const healthy = observed.health.filter((target) => target.state === 'healthy');
  if (observed.health.length > 0 && healthy.length === 0) {
    const states = observed.health.map(
      (t) => `${t.id} ${t.state}${t.reason === undefined ? '' : ` (${t.reason})`}`,
    );
    return {
      ok: false,
      cause: 'health',
      reason: `no target of the new release is healthy: ${states.join('; ')}`,
      data: { targets: observed.health },
      alarms,
    };
  }
  for (const alarm of monitor.alarms) {
    const range = datapoints(observed.buckets, alarm, observed.nowMs);
    const evaluation = evaluateAlarm(alarm, range, previous[alarm.name]);
    alarms[alarm.name] = evaluation.state;
    if (evaluation.state !== 'ALARM') continue;
    return {
      ok: false,
      cause: alarm.name,
      reason: `alarm ${alarm.name}: ${evaluation.reason}`,
      data: { alarm: alarm.name, datapoints: evaluation.datapoints },
      alarms,
    };
  }
  return { ok: true, alarms };
}

/**
 * How often a release is judged: half its shortest alarm period (so that a period is seen
 * soon after it completes), between 50 ms and 1 s.
 */
export function judgeIntervalMs(monitor: ReleaseMonitor): number {
  const shortest = Math.min(...monitor.alarms.map((alarm) => alarm.periodMs), 2_000);
  return Math.max(50, Math.min(1_000, Math.floor(shortest / 2)));
}

/** How far back the window is read: the longest alarm's evaluation range, and a period more. */
export function judgeLookbackMs(monitor: ReleaseMonitor): number {
  return Math.max(
    1_000,
    ...monitor.alarms.map((alarm) => alarm.periodMs * (alarm.evaluationPeriods + 3)),
  );
}
