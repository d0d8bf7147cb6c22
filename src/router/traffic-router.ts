import type { ServerErrorRetry } from './retry-policy.js';
import type { WindowBucket } from './rolling-window.js';

/**
 * The control plane's view of the data plane: idempotent, desired-state calls. The built-in
 * router (`phoenix router`, its own process) implements it over its admin API; HAProxy's
 * runtime API or a cloud load balancer can implement it later.
 *
 * Contract: every call states the whole desired state of what it names ("listener prod sends
 * 90% to blue, 10% to green") and may be repeated safely. `applyWeights` is atomic: there is
 * never a moment with no target. A listener routes only to healthy targets of its groups.
 */
export interface TrafficRouter {
  putListener(listener: ListenerSpec): Promise<void>;
  /**
   * Takes the listener away: it stops accepting connections at once and its port is free
   * for another listener; requests already in flight on it finish, cut off after
   * DEFAULT_CLOSE_GRACE_MS (proxy.ts) if they are still running then; resolves when it is
   * closed. The removal is persisted, so a restarted router does not open the port again.
   * Its split goes with it, so groups that only it routed to can be removed next. Removing
   * a listener the router does not have succeeds, as removing a missing group does.
   */
  removeListener(name: string): Promise<void>;
  putTargetGroup(group: TargetGroupSpec): Promise<void>;
  /**
   * `serverErrorRetry` (while a canary is judged): a GET or HEAD that got a 5xx from the
   * `from` group is sent once to the `to` group; the 5xx still counts against `from`.
   */
  applyWeights(
    listener: string,
    split: readonly WeightedGroup[],
    options?: { serverErrorRetry?: ServerErrorRetry },
  ): Promise<void>;
  /** The split the router is actually applying (after a restart, say). */
  verifyWeights(listener: string): Promise<WeightedGroup[]>;
  /** Stop sending new requests to the targets; resolves when in-flight ones are done or the timeout passes. */
  drain(
    group: string,
    targetIds: readonly string[] | 'all',
    timeoutMs: number,
  ): Promise<DrainResult>;
  removeTargetGroup(group: string): Promise<void>;
  health(group: string): Promise<TargetHealth[]>;
  counters(group: string): Promise<TargetGroupCounters>;
  /** The group's traffic in WINDOW_BUCKET_MS slices since `sinceMs` (epoch ms), oldest first. */
  window(group: string, sinceMs?: number): Promise<WindowBucket[]>;
}

export interface ListenerSpec {
  name: string;
  port: number;
  host?: string;
}

export interface TargetSpec {
  id: string;
  host: string;
  port: number;
}

export interface HealthCheckSpec {
  path: string;
  intervalMs: number;
  timeoutMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  /** Status codes that count as healthy, e.g. [[200, 299]]. */
  matcher: readonly (readonly [number, number])[];
  gracePeriodMs: number;
}

export interface TargetGroupSpec {
  name: string;
  targets: readonly TargetSpec[];
  healthCheck: HealthCheckSpec;
}

export interface WeightedGroup {
  group: string;
  /** Share of requests, 0..100; the weights of a listener add up to 100. */
  weight: number;
}

export interface DrainResult {
  drained: number;
  /** Requests still in flight when the timeout passed (cut off). */
  abandoned: number;
}

export type HealthState = 'initial' | 'healthy' | 'unhealthy' | 'draining';

export interface TargetHealth {
  id: string;
  state: HealthState;
  reason?: string;
  since: string;
}

export interface TargetGroupCounters {
  requests: number;
  status2xx: number;
  status3xx: number;
  status4xx: number;
  status5xx: number;
  upstreamErrors: number;
  retries: number;
  /** Cumulative latency histogram: upper bound in ms → count. */
  latencyMs: { le: number; count: number }[];
}
