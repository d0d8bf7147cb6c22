import type { HttpTrafficRouter } from '../../src/router/http-traffic-router.js';
import type { HealthCheckSpec, WeightedGroup } from '../../src/router/traffic-router.js';
import { benchScript, ManagedProcess, TSX_NODE_ARGS } from './managed-process.js';

/** What every process starter needs: the interrupt signal and the bench's process set. */
export interface Ownership {
  signal: AbortSignal;
  processes: Set<ManagedProcess>;
}

/**
 * The health check the bench's target groups use: frequent enough that a restarted instance
 * is back in rotation within about a second, as a deployment would configure it.
 */
export const BENCH_HEALTH_CHECK: HealthCheckSpec = {
  path: '/health',
  intervalMs: 250,
  timeoutMs: 1000,
  healthyThreshold: 2,
  unhealthyThreshold: 2,
  matcher: [[200, 299]],
  gracePeriodMs: 0,
};

/** One upstream instance (bench/lib/upstream-server.ts) in a process of its own. */
export async function startUpstream(
  options: { name: string; port: number } & Ownership,
): Promise<ManagedProcess> {
  return ManagedProcess.start({
    label: `upstream ${options.name}`,
    command: process.execPath,
    args: [...TSX_NODE_ARGS, benchScript('upstream-server.ts'), options.name, String(options.port)],
    ready: /listening on \d+/,
    signal: options.signal,
    processes: options.processes,
  });
}

export interface GroupLayout {
  name: string;
  /** Target id → port on 127.0.0.1. */
  targets: readonly { id: string; port: number }[];
}

/** Puts the target groups and the listener, then the split, through the admin API. */
export async function configureRoute(
  admin: HttpTrafficRouter,
  options: {
    listener: string;
    port: number;
    groups: readonly GroupLayout[];
    split: readonly WeightedGroup[];
  },
): Promise<void> {
  for (const group of options.groups) {
    await admin.putTargetGroup({
      name: group.name,
      targets: group.targets.map(({ id, port }) => ({ id, host: '127.0.0.1', port })),
      healthCheck: BENCH_HEALTH_CHECK,
    });
  }
  await admin.putListener({ name: options.listener, port: options.port, host: '127.0.0.1' });
  await admin.applyWeights(options.listener, options.split);
}
