import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { DEFAULT_BUILD_CONCURRENCY } from '../../src/main.js';
import { createGitRepository } from './git-repository.js';
import { timedPush, wallNow } from './git-push.js';
import { PhoenixApi, runListSchema, runResponseSchema, type RunView } from './phoenix-api.js';
import { withServer, type ServerOptions } from './phoenix-server.js';
import { recordFinishedRuns } from './recorded-runs.js';
import { median, percentile } from './stats.js';

export const NOOP_SERVICE = 'noop';
/** Pushes never start a run here (the branch filter matches no branch); triggers ignore filters. */
const PHOENIX_YML = `service: ${NOOP_SERVICE}\nexecution-mode: parallel\ntrigger:\n  branches: [bench-never-pushed]\nbuild:\n  retries: 0\n`;
const BUILDSPEC = 'version: 0.2\nphases:\n  build:\n    commands:\n      - "true"\n';
/** Trigger requests in flight at once: enough to keep the API busy, few enough to stay polite. */
const SUBMIT_CONCURRENCY = 8;
/** How often the bench asks whether every run has finished. */
const POLL_INTERVAL_MS = 100;
const FINISH_TIMEOUT_MS = 10 * 60_000;
/** Sequential `GET /api/runs` requests timed while the server is idle, after a few unmeasured. */
const LIST_REQUESTS = 30;
const LIST_WARMUP_REQUESTS = 5;
const LIST_PAGE = 200;
const UNFINISHED = 'queued,running,waiting';

export interface LatencyMs {
  median: number;
  p95: number;
}

export interface ThroughputResult {
  /** `--build-concurrency`; null for the server's default. */
  buildConcurrency: number | null;
  recordedRuns: number;
  runs: number;
  /** First trigger request sent until the last one was answered. */
  submitMs: number;
  /** First trigger request sent until the last run finished (its finishedAt). */
  finishMs: number;
  runsPerSecond: number;
  /** The builds' own duration (the build stage's output), without waiting for a slot. */
  buildMedianMs: number;
  /**
   * The builds' summed duration over slots × finish time: how much of the time the build
   * slots spent inside the executor's builds, rather than between them.
   */
  slotBusyShare: number;
  /** `GET /api/runs` (20 runs, the default page) on an idle server. */
  listMs: LatencyMs;
  /** `GET /api/runs?limit=200` on an idle server. */
  listLargeMs: LatencyMs;
  /** The bench's own `GET /api/runs?status=queued,running,waiting` polls during the burst. */
  pollUnderLoadMs: LatencyMs;
}

/**
 * One cell of the sustained-runs table, in a PHOENIX_HOME of its own: a server is started to
 * create the noop service and push its code (which starts no run), then stopped while
 * `recordedRuns` finished runs are written into its database, then started again to time
 * the API's run list and `runs` noop runs triggered as fast as the API accepts them.
 */
export async function measureThroughput(options: {
  directory: string;
  token: string;
  server: Omit<ServerOptions, 'home'>;
  recordedRuns: number;
  runs: number;
}): Promise<ThroughputResult> {
  const home = join(options.directory, 'home');
  const server: ServerOptions = { ...options.server, home };
  const commit = await withServer(server, async ({ url }) =>
    createNoopService(new PhoenixApi(url, options.token), options),
  );
  if (options.recordedRuns > 0)
    recordFinishedRuns({ home, service: NOOP_SERVICE, commit, count: options.recordedRuns });
  return withServer(server, async ({ url }) => {
    const api = new PhoenixApi(url, options.token);
    const listed = await listLatency(api);
    const slots = options.server.buildConcurrency ?? DEFAULT_BUILD_CONCURRENCY;
    const burst = await runBurst(api, options.runs, slots);
    return {
      buildConcurrency: options.server.buildConcurrency ?? null,
      recordedRuns: options.recordedRuns,
      runs: options.runs,
      ...burst,
      ...listed,
    };
  });
}

async function createNoopService(
  api: PhoenixApi,
  options: { directory: string; token: string; server: { scratchHome: string } },
): Promise<string> {
  const repo = await api.json(z.object({ pushUrl: z.string() }), '/api/repos', {
    method: 'POST',
    body: JSON.stringify({ name: NOOP_SERVICE }),
  });
  const work = join(options.directory, 'work');
  await mkdir(work);
  const commit = await createGitRepository(work, {
    'phoenix.yml': PHOENIX_YML,
    'buildspec.yml': BUILDSPEC,
  });
  await timedPush({
    directory: work,
    url: repo.pushUrl.replace('http://', `http://phoenix:${options.token}@`),
    branch: 'main',
    scratchHome: options.server.scratchHome,
  });
  const { runs } = await api.json(runListSchema, `/api/runs?service=${NOOP_SERVICE}`);
  if (runs.length > 0) throw new Error('pushing the noop service started a run');
  return commit;
}

async function listLatency(
  api: PhoenixApi,
): Promise<Pick<ThroughputResult, 'listMs' | 'listLargeMs'>> {
  const small: number[] = [];
  const large: number[] = [];
  for (let index = 0; index < LIST_WARMUP_REQUESTS + LIST_REQUESTS; index++) {
    const smallMs = await api.timedGet('/api/runs');
    const largeMs = await api.timedGet(`/api/runs?limit=${LIST_PAGE}`);
    if (index < LIST_WARMUP_REQUESTS) continue;
    small.push(smallMs);
    large.push(largeMs);
  }
  return { listMs: latency(small), listLargeMs: latency(large) };
}

type Burst = Pick<
  ThroughputResult,
  'submitMs' | 'finishMs' | 'runsPerSecond' | 'buildMedianMs' | 'slotBusyShare' | 'pollUnderLoadMs'
>;

async function runBurst(api: PhoenixApi, count: number, slots: number): Promise<Burst> {
  const startedAt = wallNow();
  const ids = await submitRuns(api, count);
  const submitMs = wallNow() - startedAt;
  const polls = await waitUntilFinished(api);
  const runs = await findRuns(api, ids);
  const failed = runs.filter((run) => run.status !== 'succeeded');
  if (failed.length > 0)
    throw new Error(`${failed.length} noop runs did not succeed: ${failed[0]?.status}`);
  const lastFinished = Math.max(...runs.map((run) => Date.parse(run.finishedAt ?? '')));
  const finishMs = lastFinished - startedAt;
  const builds = runs.map(buildMs);
  return {
    submitMs,
    finishMs,
    runsPerSecond: count / (finishMs / 1000),
    buildMedianMs: median(builds),
    slotBusyShare: builds.reduce((total, ms) => total + ms, 0) / (slots * finishMs),
    pollUnderLoadMs: latency(polls),
  };
}

/** Manual triggers, `SUBMIT_CONCURRENCY` in flight; returns the runs' ids. */
async function submitRuns(api: PhoenixApi, count: number): Promise<Set<string>> {
  const ids = new Set<string>();
  let sent = 0;
  const worker = async (): Promise<void> => {
    while (sent < count) {
      sent++;
      const { run } = await api.json(runResponseSchema, `/api/services/${NOOP_SERVICE}/trigger`, {
        method: 'POST',
        body: '{}',
      });
      ids.add(run.id);
    }
  };
  await Promise.all(Array.from({ length: Math.min(count, SUBMIT_CONCURRENCY) }, worker));
  return ids;
}

/** Polls until no run is unfinished; returns each poll's latency. */
async function waitUntilFinished(api: PhoenixApi): Promise<number[]> {
  const deadline = performance.now() + FINISH_TIMEOUT_MS;
  const latencies: number[] = [];
  const path = `/api/runs?service=${NOOP_SERVICE}&status=${UNFINISHED}&limit=1`;
  for (;;) {
    const started = performance.now();
    const { runs } = await api.json(runListSchema, path);
    latencies.push(performance.now() - started);
    if (runs.length === 0) return latencies;
    if (performance.now() > deadline) throw new Error('the noop runs did not finish in time');
    await sleep(POLL_INTERVAL_MS);
  }
}

/** The runs with these ids, from the newest-first list, page by page. */
async function findRuns(api: PhoenixApi, ids: ReadonlySet<string>): Promise<RunView[]> {
  const found: RunView[] = [];
  let before: string | undefined;
  do {
    const page = await api.json(
      runListSchema,
      `/api/runs?service=${NOOP_SERVICE}&limit=${LIST_PAGE}${before === undefined ? '' : `&before=${before}`}`,
    );
    found.push(...page.runs.filter((run) => ids.has(run.id)));
    before = page.next;
  } while (found.length < ids.size && before !== undefined);
  if (found.length < ids.size) throw new Error(`found ${found.length} of ${ids.size} noop runs`);
  return found;
}

/** The build summary's duration, which the build stage keeps in its output. */
function buildMs(run: RunView): number {
  const duration = run.stages.find((stage) => stage.name === 'build')?.output?.['durationMs'];
  if (typeof duration !== 'number') throw new Error(`run ${run.id} has no build duration`);
  return duration;
}

function latency(values: readonly number[]): LatencyMs {
  return { median: median(values), p95: percentile(values, 95) };
}
