import { z } from 'zod';
import { listenerNames } from '../../src/deploy/listener-registry.js';
import { DEFAULT_CRASH_LOOP } from '../../src/deploy/release-monitor.js';
import { APP_ENVIRONMENT, APP_SERVICE } from './deploy-app.js';
import type { DeploymentRecord } from './deployment-client.js';
import { failureCount } from './load.js';
import type { RollbackRun } from './self-healing-run.js';
import { median } from './stats.js';

/** Where the first bad answer of a run was seen: by a client, or only by the release itself. */
export type FirstBadSource = 'clients' | 'release' | 'none';

/** One run's figures; times in ms, `undefined` when the run had no such moment. */
export interface RunSample {
  number: number;
  deploymentId: string;
  status: string;
  reason: string | undefined;
  /** Whether it ended as the scenario expects (rolled back, or failed before production). */
  asExpected: boolean;
  /** Production answered the stable release afterwards. */
  stableAfter: boolean;
  requests: number;
  /** Non-2xx answers and socket errors the clients got. */
  failed: number;
  failures: Record<string, number>;
  /** Answers the clients got from the bad release (its body), failed or not. */
  badSeen: number;
  /** Answers the bad release gave, by its own count (retried ones included). */
  badServed: number;
  firstBadFrom: FirstBadSource;
  /** From the first bad answer to the judge's `release.failing`. */
  detectMs: number | undefined;
  /** ...to production's rollback in the router (the `weights.applied` after `rollback.started`). */
  routerBackMs: number | undefined;
  /** ...to the last bad answer a client got. */
  lastBadSeenMs: number | undefined;
  /** ...to the last answer the bad release gave (requests in flight when the router moved). */
  lastBadServedMs: number | undefined;
  /** `rollback.started` to the router's change: the atomic switch back. */
  rollbackRouterMs: number | undefined;
  /** `rollback.started` to the deployment's end: the switch, the drain and the stop. */
  rollbackMs: number | undefined;
  /** The first shift of production to the bad release until the router moved back. */
  exposedMs: number | undefined;
  /** The deployment's creation to `rollback.started` (its failure). */
  startToFailureMs: number | undefined;
  /** The first start that exited at once to `rollback.started` (crash mode). */
  firstCrashToFailureMs: number | undefined;
  /**
   * The restart that tripped the breaker (an instance's `restarts`-th, phoenix.yml
   * `crash-loop`, default 3) to `rollback.started`: how soon the health wait saw it.
   */
  breakerToFailureMs: number | undefined;
  /** Starts that exited at once, all instances together. */
  crashes: number;
  /** The highest datapoint of the alarm that failed the release (% for rates, ms for latency). */
  judgedValue: number | undefined;
  /** createdAt to finishedAt. */
  durationMs: number;
}

/** What the scenario ran: the bad release's body and the stable's, and the outcome it expects. */
export interface SampleContext {
  badVersion: string;
  stableVersion: string;
  expectedStatus: string;
}

export function sampleOf(run: RollbackRun, context: SampleContext): RunSample {
  const { deployment } = run.finished;
  const times = timelineTimes(deployment);
  const seen = badAnswersSeen(run, context.badVersion);
  const firstBad = seen.first ?? run.release.firstAnswerAt;
  const firstBadFrom: FirstBadSource =
    seen.first !== undefined ? 'clients' : firstBad !== undefined ? 'release' : 'none';
  const since = (at: number | undefined): number | undefined =>
    at === undefined || firstBad === undefined ? undefined : at - firstBad;
  const between = (from: number | undefined, to: number | undefined): number | undefined =>
    from === undefined || to === undefined ? undefined : to - from;
  const crashes = run.release.crashes;
  const firstCrash = crashes.length === 0 ? undefined : Math.min(...crashes.map((c) => c[0] ?? 0));
  const trips = crashes.flatMap((starts) => {
    const trip = starts[DEFAULT_CRASH_LOOP.restarts];
    return trip === undefined ? [] : [trip];
  });
  const breakerAt = trips.length === 0 ? undefined : Math.min(...trips);
  const failed = failureCount(run.report);
  return {
    number: run.number,
    deploymentId: deployment.id,
    status: deployment.status,
    reason: deployment.reason,
    asExpected: deployment.status === context.expectedStatus,
    stableAfter: run.served === `200 ${context.stableVersion}`,
    requests: run.report.successes + failed,
    failed,
    failures: run.report.failures,
    badSeen: seen.count,
    badServed: run.release.answers,
    firstBadFrom,
    detectMs: since(times.failingAt),
    routerBackMs: since(times.routerBackAt),
    lastBadSeenMs: since(seen.last),
    lastBadServedMs: since(run.release.lastAnswerAt),
    rollbackRouterMs: between(times.rollbackAt, times.routerBackAt),
    rollbackMs: between(times.rollbackAt, times.finishedAt),
    exposedMs: between(times.shiftAt, times.routerBackAt),
    startToFailureMs: between(times.createdAt, times.rollbackAt),
    firstCrashToFailureMs: between(firstCrash, times.rollbackAt),
    breakerToFailureMs: between(breakerAt, times.rollbackAt),
    crashes: crashes.reduce((sum, starts) => sum + starts.length, 0),
    judgedValue: times.judgedValue,
    durationMs: times.finishedAt - times.createdAt,
  };
}

/** The answers the clients got whose body is the bad release's version. */
function badAnswersSeen(
  run: RollbackRun,
  badVersion: string,
): { count: number; first: number | undefined; last: number | undefined } {
  let count = 0;
  let first: number | undefined;
  let last: number | undefined;
  for (const [key, seen] of Object.entries(run.report.answers ?? {})) {
    if (key.slice(key.indexOf(' ') + 1) !== badVersion) continue;
    count += seen.count;
    first = first === undefined ? seen.first : Math.min(first, seen.first);
    last = last === undefined ? seen.last : Math.max(last, seen.last);
  }
  return { count, first, last };
}

interface TimelineTimes {
  createdAt: number;
  finishedAt: number;
  /** Production first sent part of its traffic to the new release. */
  shiftAt: number | undefined;
  failingAt: number | undefined;
  rollbackAt: number | undefined;
  /** The rollback's change of production's weights, acknowledged by the router. */
  routerBackAt: number | undefined;
  /** The highest datapoint in `release.failing`. */
  judgedValue: number | undefined;
}

const failingDataSchema = z.object({ datapoints: z.array(z.object({ value: z.number() })) });

/** The moments of a deployment's timeline the bench measures from (server clock, whole ms). */
export function timelineTimes(deployment: DeploymentRecord): TimelineTimes {
  const production = listenerNames(APP_SERVICE, APP_ENVIRONMENT).production;
  const createdAt = Date.parse(deployment.createdAt);
  const times: TimelineTimes = {
    createdAt,
    finishedAt: Date.parse(deployment.finishedAt ?? deployment.createdAt),
    shiftAt: undefined,
    failingAt: undefined,
    rollbackAt: undefined,
    routerBackAt: undefined,
    judgedValue: undefined,
  };
  for (const event of deployment.timeline) {
    const at = Date.parse(event.time);
    if (event.type === 'release.failing' && times.failingAt === undefined) {
      times.failingAt = at;
      const data = failingDataSchema.safeParse(event.data);
      if (data.success && data.data.datapoints.length > 0) {
        times.judgedValue = Math.max(...data.data.datapoints.map((point) => point.value));
      }
    }
    if (event.type === 'rollback.started') times.rollbackAt ??= at;
    if (event.type !== 'weights.applied' || event.data['listener'] !== production) continue;
    if (times.rollbackAt === undefined) times.shiftAt ??= at;
    else times.routerBackAt ??= at;
  }
  return times;
}

export interface Spread {
  median: number;
  max: number;
}

/** Median and max of the values measured (none: `null`, as the JSON line shows it). */
export function spreadOf(values: readonly (number | undefined)[]): Spread | null {
  const measured = values.filter((value): value is number => value !== undefined);
  if (measured.length === 0) return null;
  return { median: median(measured), max: Math.max(...measured) };
}

export interface ScenarioSummary {
  name: string;
  runs: number;
  asExpected: number;
  stableAfter: number;
  firstBadFrom: FirstBadSource[];
  detectMs: Spread | null;
  routerBackMs: Spread | null;
  lastBadSeenMs: Spread | null;
  lastBadServedMs: Spread | null;
  rollbackRouterMs: Spread | null;
  rollbackMs: Spread | null;
  exposedMs: Spread | null;
  startToFailureMs: Spread | null;
  firstCrashToFailureMs: Spread | null;
  breakerToFailureMs: Spread | null;
  judgedValue: Spread | null;
  durationMs: Spread | null;
  failedPerRun: Spread | null;
  failedTotal: number;
  requestsTotal: number;
  badSeenPerRun: Spread | null;
  badServedPerRun: Spread | null;
}

export function summarise(name: string, samples: readonly RunSample[]): ScenarioSummary {
  const of = (pick: (sample: RunSample) => number | undefined): Spread | null =>
    spreadOf(samples.map(pick));
  return {
    name,
    runs: samples.length,
    asExpected: samples.filter((sample) => sample.asExpected).length,
    stableAfter: samples.filter((sample) => sample.stableAfter).length,
    firstBadFrom: [...new Set(samples.map((sample) => sample.firstBadFrom))],
    detectMs: of((s) => s.detectMs),
    routerBackMs: of((s) => s.routerBackMs),
    lastBadSeenMs: of((s) => s.lastBadSeenMs),
    lastBadServedMs: of((s) => s.lastBadServedMs),
    rollbackRouterMs: of((s) => s.rollbackRouterMs),
    rollbackMs: of((s) => s.rollbackMs),
    exposedMs: of((s) => s.exposedMs),
    startToFailureMs: of((s) => s.startToFailureMs),
    firstCrashToFailureMs: of((s) => s.firstCrashToFailureMs),
    breakerToFailureMs: of((s) => s.breakerToFailureMs),
    judgedValue: of((s) => s.judgedValue),
    durationMs: of((s) => s.durationMs),
    failedPerRun: of((s) => s.failed),
    failedTotal: samples.reduce((sum, sample) => sum + sample.failed, 0),
    requestsTotal: samples.reduce((sum, sample) => sum + sample.requests, 0),
    badSeenPerRun: of((s) => s.badSeen),
    badServedPerRun: of((s) => s.badServed),
  };
}
