import { setTimeout as sleep } from 'node:timers/promises';
import { LoadRun } from './load.js';
import type { LoadReport } from './load-protocol.js';
import { wallClock } from './managed-process.js';
import type { Ownership } from './router-fleet.js';
import { startRouterProcess, type RouterLauncher, type RouterProcess } from './router-launcher.js';

/** Steady load before the first kill, between kills and after the last restart. */
const STEADY_MS = 2_000;
/**
 * Responses already in the client's socket buffers are read for a moment after the kill:
 * the outage is the stretch without a 2xx that begins within this of the kill.
 */
const KILL_SLACK_MS = 50;
/** Failures are placed in time to within this. */
const FAILURE_BUCKET_MS = 10;

export interface RestartSample {
  /** SIGKILL sent → the new process spawned (the old one reaped first). */
  killToSpawnMs: number;
  /** Spawned → its ready line read by the bench: listeners and admin API open. */
  spawnToReadyMs: number;
  /** Spawned → the new process's own clock starts (Node boots); null for the CLI. */
  spawnToProcessStartMs: number | null;
  /** Process start → the router's modules loaded; null for the CLI. */
  processStartToImportedMs: number | null;
  /** Modules loaded → routes restored, listeners and admin API open; null for the CLI. */
  importedToReadyMs: number | null;
  /** SIGKILL sent → the load generator's first 2xx through the new process. */
  killToFirstSuccessMs: number;
  /** The load generator's last 2xx before the kill → its first after: what clients saw. */
  gapMs: number;
  /** Failed requests from the kill until traffic flowed again, by kind. */
  failures: Record<string, number>;
}

export interface RestartResult {
  samples: RestartSample[];
  /** Failed requests outside any restart's outage (steady state): should be none. */
  otherFailures: Record<string, number>;
  successes: number;
  router: RouterProcess;
}

/**
 * Steady load through the router; `restarts` times, SIGKILL the router and start it again
 * on the same state directory, as a supervisor would. The load generator retries refused
 * connections at once, so its first success after a kill marks the moment traffic flows.
 */
export async function measureRestarts(
  options: {
    router: RouterProcess;
    launcher: RouterLauncher;
    home: string;
    token: string;
    url: string;
    connections: number;
    restarts: number;
  } & Ownership,
): Promise<RestartResult> {
  const { signal } = options;
  let router = options.router;
  const load = await LoadRun.start({
    url: options.url,
    connections: options.connections,
    failureBucketMs: FAILURE_BUCKET_MS,
    signal,
  });
  const kills: { killedAt: number; next: RouterProcess }[] = [];
  let report: LoadReport;
  try {
    await sleep(STEADY_MS, undefined, { signal });
    load.reset();
    await sleep(STEADY_MS, undefined, { signal });
    for (let restart = 0; restart < options.restarts; restart++) {
      const killedAt = wallClock();
      await router.process.kill('SIGKILL');
      router = await startRouterProcess({
        launcher: options.launcher,
        home: options.home,
        token: options.token,
        signal,
        processes: options.processes,
      });
      kills.push({ killedAt, next: router });
      await sleep(STEADY_MS, undefined, { signal });
    }
  } finally {
    report = await load.stop();
  }
  const samples = kills.map((kill) => sampleOf(kill, report));
  return {
    samples,
    otherFailures: failuresOutside(report, samples),
    successes: report.successes,
    router,
  };
}

function sampleOf(
  kill: { killedAt: number; next: RouterProcess },
  report: LoadReport,
): RestartSample {
  const { killedAt, next } = kill;
  const { spawnedAt, readyAt } = next.process;
  const phases = next.phases;
  const outage = report.gaps
    .filter((gap) => gap.to > killedAt && gap.from < killedAt + KILL_SLACK_MS)
    .reduce<{ from: number; to: number } | undefined>(
      (longest, gap) =>
        longest === undefined || gap.to - gap.from > longest.to - longest.from ? gap : longest,
      undefined,
    );
  if (outage === undefined) throw new Error('the load generator saw no outage after a kill');
  return {
    killToSpawnMs: spawnedAt - killedAt,
    spawnToReadyMs: readyAt - spawnedAt,
    spawnToProcessStartMs: phases === undefined ? null : phases.processStartAt - spawnedAt,
    processStartToImportedMs:
      phases === undefined ? null : phases.importedAt - phases.processStartAt,
    importedToReadyMs: phases === undefined ? null : phases.readyAt - phases.importedAt,
    killToFirstSuccessMs: outage.to - killedAt,
    gapMs: outage.to - outage.from,
    failures: failuresBetween(report, Math.min(outage.from, killedAt), outage.to),
  };
}

function failuresBetween(report: LoadReport, from: number, to: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const bucket of report.failureBuckets) {
    // A bucket is a slice of time: it belongs to the outage when it overlaps it.
    if (bucket.start + FAILURE_BUCKET_MS <= from || bucket.start > to) continue;
    counts[bucket.kind] = (counts[bucket.kind] ?? 0) + bucket.count;
  }
  return counts;
}

function failuresOutside(
  report: LoadReport,
  samples: readonly RestartSample[],
): Record<string, number> {
  const counts = new Map(Object.entries(report.failures));
  for (const sample of samples) {
    for (const [kind, count] of Object.entries(sample.failures)) {
      counts.set(kind, (counts.get(kind) ?? 0) - count);
    }
  }
  return Object.fromEntries([...counts].filter(([, count]) => count !== 0));
}
