import type { HealthCheckSpec } from './traffic-router.js';

/**
 * Judging a target's health from check results, as an ALB target group does, as a pure
 * function. The scheduling (when to check next) lives in health-checker.ts.
 *
 * - A new target is `initial` and gets no traffic; it must pass one check to be `healthy`.
 * - `unhealthyThreshold` consecutive failures take a healthy target out of rotation;
 *   `healthyThreshold` consecutive successes bring an unhealthy one back.
 * - During the grace period after registration failures do not count (a slow start is
 *   not a failure): the target stays `initial` until it passes or the period ends.
 * - Live traffic that finds the port refused is proof enough: the target is unhealthy at
 *   once, without waiting for the threshold, and the active checks bring it back.
 */
export type HealthStatus = 'initial' | 'healthy' | 'unhealthy';

export interface TargetHealthRecord {
  status: HealthStatus;
  /** When the status last changed (epoch ms). */
  since: number;
  /** When the target joined its group; the grace period counts from here. */
  registeredAt: number;
  /** Consecutive passed checks. */
  successes: number;
  /** Consecutive failed checks (outside the grace period). */
  failures: number;
  /** Why the last check failed; absent after a pass. */
  reason?: string;
}

export type CheckResult =
  /** The active check got an answer; the matcher decides whether it passes. */
  | { kind: 'response'; status: number; at: number }
  /** The active check got no answer: refused, reset, timed out. */
  | { kind: 'failure'; reason: string; at: number }
  /** Live traffic found the port refused (the passive signal). */
  | { kind: 'refused'; at: number };

export function initialHealth(registeredAt: number): TargetHealthRecord {
  return { status: 'initial', since: registeredAt, registeredAt, successes: 0, failures: 0 };
}

export function nextHealth(
  state: TargetHealthRecord,
  result: CheckResult,
  spec: HealthCheckSpec,
): TargetHealthRecord {
  const reason = failureReason(result, spec);
  if (reason === undefined) return passed(state, result.at, spec);
  const inGrace = state.status === 'initial' && result.at < state.registeredAt + spec.gracePeriodMs;
  if (inGrace) return { ...state, successes: 0, reason: `${reason} (in the grace period)` };
  const failures = state.failures + 1;
  const down =
    result.kind === 'refused' ||
    (state.status !== 'unhealthy' && failures >= spec.unhealthyThreshold);
  return withStatus(
    { ...state, successes: 0, failures, reason },
    down ? 'unhealthy' : state.status,
    result.at,
  );
}

function passed(state: TargetHealthRecord, at: number, spec: HealthCheckSpec): TargetHealthRecord {
  const successes = state.successes + 1;
  const up =
    state.status === 'initial' ||
    (state.status === 'unhealthy' && successes >= spec.healthyThreshold);
  const { status, since, registeredAt } = state;
  const next = { status, since, registeredAt, successes, failures: 0 };
  return withStatus(next, up ? 'healthy' : status, at);
}

function withStatus(
  state: TargetHealthRecord,
  status: HealthStatus,
  at: number,
): TargetHealthRecord {
  return status === state.status ? state : { ...state, status, since: at };
}

/** Undefined when the result passes. */
function failureReason(result: CheckResult, spec: HealthCheckSpec): string | undefined {
  if (result.kind === 'refused') return 'connection refused (seen by live traffic)';
  if (result.kind === 'failure') return result.reason;
  if (statusMatches(result.status, spec.matcher)) return undefined;
  return `health check answered ${result.status}, expected ${describeMatcher(spec.matcher)}`;
}

export function statusMatches(
  status: number,
  matcher: readonly (readonly [number, number])[],
): boolean {
  return matcher.some(([low, high]) => status >= low && status <= high);
}

export function describeMatcher(matcher: readonly (readonly [number, number])[]): string {
  return matcher.map(([low, high]) => (low === high ? `${low}` : `${low}-${high}`)).join(', ');
}
