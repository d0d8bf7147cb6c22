import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HttpTrafficRouter } from '../../src/router/http-traffic-router.js';
import type { TargetGroupCounters, WeightedGroup } from '../../src/router/traffic-router.js';
import { LoadRun, failureCount } from './load.js';
import { LatencyHistogram } from './latency-histogram.js';
import type { ManagedProcess } from './managed-process.js';
import { configureRoute, startUpstream, type GroupLayout, type Ownership } from './router-fleet.js';
import { median } from './stats.js';

/** Steady load before the first flip and after the last. */
const STEADY_MS = 1_000;
const GROUPS = ['blue', 'green'] as const;
const INSTANCES_PER_GROUP = 2;

export interface Instance {
  group: string;
  id: string;
  port: number;
  process: ManagedProcess;
}

export interface ZeroDowntimeResult {
  flips: number;
  kills: number;
  seconds: number;
  successes: number;
  /** Failed requests by kind (error code or `HTTP status`): the target is none. */
  failures: Record<string, number>;
  failed: number;
  p50Ms: number;
  p99Ms: number;
  /** The longest stretch without a successful response. */
  longestGapMs: number;
  /** How long the admin API took to apply a new split (median). */
  flipMedianMs: number;
  /** What the router itself counted per group: its retries absorbed the kills. */
  counters: Record<string, Pick<TargetGroupCounters, 'requests' | 'retries' | 'upstreamErrors'>>;
}

/**
 * Two releases behind one listener, blue and green, two upstream processes each. Under
 * steady load, the split flips between them `flips` times through the admin API
 * (`applyWeights`, as a blue/green deployment shifts traffic), and `kills` times an
 * instance of the group taking the traffic is killed with SIGKILL, without a drain, and
 * started again on the same port: the router's retries must absorb it.
 */
export async function measureZeroDowntime(
  options: {
    admin: HttpTrafficRouter;
    listener: string;
    port: number;
    ports: readonly number[];
    connections: number;
    flips: number;
    kills: number;
    flipIntervalMs: number;
  } & Ownership,
): Promise<ZeroDowntimeResult> {
  const { admin, listener, signal, processes } = options;
  const ownership: Ownership = { signal, processes };
  const instances: Instance[] = [];
  const layout = await startInstances(options.ports, instances, ownership);
  await configureRoute(admin, {
    listener,
    port: options.port,
    groups: layout,
    split: splitFor('blue'),
  });
  const killAfter = spread(options.kills, options.flips);
  const flipMs: number[] = [];
  let kills = 0;
  const load = await LoadRun.start({
    url: `http://127.0.0.1:${options.port}/`,
    connections: options.connections,
    signal,
  });
  let report;
  try {
    await sleep(STEADY_MS, undefined, { signal });
    load.reset();
    for (let flip = 1; flip <= options.flips; flip++) {
      const live = GROUPS[flip % 2] ?? 'blue';
      const started = performance.now();
      await admin.applyWeights(listener, splitFor(live));
      flipMs.push(performance.now() - started);
      if (killAfter.has(flip)) {
        await killAndRestart(instances, live, kills, ownership);
        kills++;
      }
      await sleep(options.flipIntervalMs, undefined, { signal });
    }
    await sleep(STEADY_MS, undefined, { signal });
  } finally {
    report = await load.stop();
  }
  const histogram = new LatencyHistogram(report.latencyCounts);
  const counters: ZeroDowntimeResult['counters'] = {};
  for (const group of GROUPS) {
    const { requests, retries, upstreamErrors } = await admin.counters(group);
    counters[group] = { requests, retries, upstreamErrors };
  }
  return {
    flips: options.flips,
    kills,
    seconds: (report.stoppedAt - report.startedAt) / 1000,
    successes: report.successes,
    failures: report.failures,
    failed: failureCount(report),
    p50Ms: histogram.percentileMs(50),
    p99Ms: histogram.percentileMs(99),
    longestGapMs: Math.max(0, ...report.gaps.map((gap) => gap.to - gap.from)),
    flipMedianMs: flipMs.length === 0 ? 0 : median(flipMs),
    counters,
  };
}

async function startInstances(
  ports: readonly number[],
  instances: Instance[],
  ownership: Ownership,
): Promise<GroupLayout[]> {
  const layout: GroupLayout[] = [];
  for (const [groupIndex, group] of GROUPS.entries()) {
    const targets: { id: string; port: number }[] = [];
    for (let index = 0; index < INSTANCES_PER_GROUP; index++) {
      const port = ports[groupIndex * INSTANCES_PER_GROUP + index];
      if (port === undefined) throw new RangeError('not enough ports for the instances');
      const id = `${group}-${index + 1}`;
      const process = await startUpstream({ ...ownership, name: id, port });
      instances.push({ group, id, port, process });
      targets.push({ id, port });
    }
    layout.push({ name: group, targets });
  }
  return layout;
}

/** SIGKILL one instance of `group` (they take turns), then start it again on its port. */
async function killAndRestart(
  instances: Instance[],
  group: string,
  turn: number,
  ownership: Ownership,
): Promise<void> {
  const candidates = instances.filter((instance) => instance.group === group);
  const victim = candidates[turn % candidates.length];
  if (victim === undefined) return;
  await victim.process.kill('SIGKILL');
  victim.process = await startUpstream({ ...ownership, name: victim.id, port: victim.port });
}

function splitFor(live: string): WeightedGroup[] {
  return GROUPS.map((group) => ({ group, weight: group === live ? 100 : 0 }));
}

/**
 * `count` flip numbers out of 1..`flips`, evenly spread (the kills happen after them), every
 * other one moved on by one, so that the kills hit blue and green in turn.
 */
function spread(count: number, flips: number): Set<number> {
  const chosen = new Set<number>();
  for (let index = 0; index < count; index++) {
    const even = Math.floor(((index + 0.5) * flips) / count) + 1;
    chosen.add(Math.min(flips, even + (index % 2)));
  }
  return chosen;
}
