import type { HealthCheckConfig } from '../config/phoenix-config.js';
import type { Instance } from '../runtime/runtime.js';
import type { HealthCheckSpec, TargetSpec, WeightedGroup } from '../router/traffic-router.js';

/**
 * The local runtime's instances listen on loopback. Runtimes whose instances live elsewhere
 * (Kubernetes, ECS) will report an address per instance; until then this is the host.
 */
export const LOCAL_INSTANCE_HOST = '127.0.0.1';

/** One target group per release and environment: `<service>-<environment>-<release number>`. */
export function targetGroupName(
  service: string,
  environment: string,
  releaseNumber: number,
): string {
  return `${service}-${environment}-${releaseNumber}`;
}

/** phoenix.yml's health check as the router takes it. */
export function healthCheckSpec(config: HealthCheckConfig): HealthCheckSpec {
  return {
    path: config.path,
    intervalMs: config.intervalMs,
    timeoutMs: config.timeoutMs,
    healthyThreshold: config.healthyThreshold,
    unhealthyThreshold: config.unhealthyThreshold,
    matcher: config.matcher.ranges.map((range) => [range.from, range.to] as const),
    gracePeriodMs: config.gracePeriodMs,
  };
}

export function targetsOf(instances: readonly Instance[]): TargetSpec[] {
  return instances.map((instance) => ({
    id: instance.id,
    host: LOCAL_INSTANCE_HOST,
    port: instance.port,
  }));
}

/**
 * How long new instances get to become healthy: the grace period, then enough checks for a
 * target that failed its way to unhealthy to pass its way back (each check up to its own
 * timeout after its interval). A release that is not healthy by then will not be.
 */
export function healthWaitTimeoutMs(check: HealthCheckSpec): number {
  const checks = check.healthyThreshold + check.unhealthyThreshold;
  return check.gracePeriodMs + checks * (check.intervalMs + check.timeoutMs);
}

/**
 * Production's split with `weight`% on the new group. The previous group keeps its entry at
 * 0% while it is still up, so that moving back is one change of the same split.
 */
export function productionSplit(
  group: string,
  previousGroup: string | undefined,
  weight: number,
): WeightedGroup[] {
  if (previousGroup === undefined) return [{ group, weight: 100 }];
  return [
    { group, weight },
    { group: previousGroup, weight: 100 - weight },
  ];
}

/** Splits compared for what they route: groups at 0% and the order do not matter. */
export function sameRouting(a: readonly WeightedGroup[], b: readonly WeightedGroup[]): boolean {
  const key = (split: readonly WeightedGroup[]): string =>
    split
      .filter((entry) => entry.weight > 0)
      .map((entry) => `${entry.group}=${entry.weight}`)
      .sort()
      .join(',');
  return key(a) === key(b);
}
