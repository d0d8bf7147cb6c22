import type { CpuShares } from './cpu-accounting.js';
import { deploymentDurationMs, stepSpans, type FinishedDeployment } from './deployment-client.js';
import {
  attributeFailures,
  attributeRetries,
  problemsOf,
  runWindows,
  stallsOf,
  type Attributed,
  type Stall,
  type TimeWindow,
} from './failure-windows.js';
import type { KillSample } from './instance-kill.js';
import { LatencyHistogram } from './latency-histogram.js';
import type { LoadPeriod } from './load-period.js';
import type { LoadReport } from './load-protocol.js';
import type { LogRecord } from './logged-process.js';

/** A stretch with no 2xx on any of the connections this long is listed as a stall. */
export const STALL_MS = 100;

export interface ZeroDowntimeSettings {
  deployments: number;
  kills: number;
  connections: number;
  baselineSeconds: number;
  bakeMs: number;
  instances: number;
  productionPort: number;
  failureBucketMs: number;
  /** After an instance is back, the window of its kill stays open this long. */
  killTailMs: number;
}

export interface DeploymentSample extends FinishedDeployment {
  number: number;
  /** What GET / on the production listener answered right after it finished. */
  served: string;
  expected: string;
}

export interface KillRecord extends KillSample {
  number: number;
  afterDeployment: number;
  releaseNumber: number;
}

export interface ZeroDowntimeResults {
  /** Load alone, before the deployments and after them (not when the run broke off). */
  before: LoadPeriod;
  run: LoadPeriod;
  after: LoadPeriod | undefined;
  deployments: DeploymentSample[];
  kills: KillRecord[];
  routerLog: LogRecord[];
  serverLog: LogRecord[];
  /** Why the run stopped early, when it did: the figures cover what ran until then. */
  error: string | undefined;
}

/** What the load generator saw in one period. */
export interface Traffic {
  label: string;
  requests: number;
  non2xx: number;
  socketErrors: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Stretches of STALL_MS or more with no 2xx on any connection, and the longest one. */
  stalls: number;
  longestGapMs: number;
  cpu: CpuShares;
}

export interface Analysis {
  periods: Traffic[];
  total: { requests: number; non2xx: number; socketErrors: number };
  /** Failed requests by kind, over every period. */
  failures: Record<string, number>;
  /** The run's failed requests by where they happened; the baselines' as `baseline …`. */
  attributed: Attributed[];
  retries: Attributed[];
  stalls: Stall[];
  durationsMs: number[];
  /** Each step kind's durations over the deployments that ran it, in plan order. */
  phases: Map<string, number[]>;
  succeeded: number;
  wrongVersion: DeploymentSample[];
  routerProblems: { record: LogRecord; label: string }[];
  serverProblems: { record: LogRecord; label: string }[];
}

/** Every figure of the report, from the raw results; no printing. */
export function analyse(results: ZeroDowntimeResults, settings: ZeroDowntimeSettings): Analysis {
  const windows = windowsOf(results, settings);
  const named: [string, LoadPeriod | undefined][] = [
    [`baseline before (${settings.baselineSeconds} s, no deployment)`, results.before],
    ['deployments and kills', results.run],
    [`baseline after (${settings.baselineSeconds} s, no deployment)`, results.after],
  ];
  const periods = named.flatMap(([label, period]) =>
    period === undefined ? [] : [trafficOf(label, period)],
  );
  const { gaps } = results.run.report;
  return {
    periods,
    total: {
      requests: sum(periods.map((period) => period.requests)),
      non2xx: sum(periods.map((period) => period.non2xx)),
      socketErrors: sum(periods.map((period) => period.socketErrors)),
    },
    failures: addCounts(named.map(([, period]) => period?.report.failures ?? {})),
    attributed: [
      ...baselineFailures('baseline before', results.before.report),
      ...attributeFailures(results.run.report.failureBuckets, settings.failureBucketMs, windows),
      ...baselineFailures('baseline after', results.after?.report),
    ],
    retries: attributeRetries(results.routerLog, windows),
    stalls: stallsOf(gaps, STALL_MS, windows),
    durationsMs: results.deployments.map(({ deployment }) => deploymentDurationMs(deployment)),
    phases: phaseDurations(results.deployments),
    succeeded: results.deployments.filter(({ deployment }) => deployment.status === 'succeeded')
      .length,
    wrongVersion: results.deployments.filter((sample) => sample.served !== sample.expected),
    routerProblems: problemsOf(results.routerLog, windows),
    serverProblems: problemsOf(results.serverLog, windows),
  };
}

function windowsOf(results: ZeroDowntimeResults, settings: ZeroDowntimeSettings): TimeWindow[] {
  return runWindows(
    results.deployments.map((sample) => ({
      number: sample.number,
      releaseNumber: sample.deployment.releaseNumber,
      spans: stepSpans(sample.deployment),
    })),
    results.kills.map((kill) => ({
      number: kill.number,
      from: kill.killedAt - settings.failureBucketMs,
      to: Math.max(kill.servingAt, kill.routerHealthyAt) + settings.killTailMs,
    })),
  );
}

function trafficOf(label: string, period: LoadPeriod): Traffic {
  const { report } = period;
  const histogram = new LatencyHistogram(report.latencyCounts);
  let non2xx = 0;
  let socketErrors = 0;
  for (const [kind, count] of Object.entries(report.failures)) {
    if (kind.startsWith('HTTP ')) non2xx += count;
    else socketErrors += count;
  }
  return {
    label,
    requests: report.successes + non2xx + socketErrors,
    non2xx,
    socketErrors,
    seconds: (report.stoppedAt - report.startedAt) / 1000,
    p50Ms: histogram.percentileMs(50),
    p99Ms: histogram.percentileMs(99),
    maxMs: histogram.percentileMs(100),
    stalls: report.gaps.filter((gap) => gap.to - gap.from >= STALL_MS).length,
    longestGapMs: Math.max(0, ...report.gaps.map((gap) => gap.to - gap.from)),
    cpu: period.cpu,
  };
}

function baselineFailures(label: string, report: LoadReport | undefined): Attributed[] {
  return Object.entries(report?.failures ?? {}).map(([kind, count]) => ({
    label,
    phase: 'baseline',
    kind,
    count,
  }));
}

const PLAN_ORDER = [
  'start',
  'await-healthy',
  'route-test',
  'shift',
  'bake',
  'drain-previous',
  'stop-previous',
  'rollback',
];

function phaseDurations(deployments: readonly DeploymentSample[]): Map<string, number[]> {
  const byPhase = new Map<string, number[]>();
  for (const { deployment } of deployments) {
    for (const span of stepSpans(deployment)) {
      byPhase.set(span.kind, [...(byPhase.get(span.kind) ?? []), span.to - span.from]);
    }
  }
  const rank = (kind: string): number => {
    const index = PLAN_ORDER.indexOf(kind);
    return index === -1 ? PLAN_ORDER.length : index;
  };
  return new Map([...byPhase].sort(([a], [b]) => rank(a) - rank(b)));
}

function addCounts(records: readonly Record<string, number>[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const record of records) {
    for (const [kind, count] of Object.entries(record)) total[kind] = (total[kind] ?? 0) + count;
  }
  return total;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
