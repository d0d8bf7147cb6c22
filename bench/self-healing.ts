// Self-healing, end to end: a real `phoenix router` and `phoenix server`, a stable release of a
// small Node service, and misbehaving releases deployed through the API while a load
// generator in its own process keeps 50 keep-alive connections busy on the production
// listener. Each deployment must end by itself, judged on its live traffic: a canary that
// answers 500 (without and with retry-canary-errors), a blue/green release that answers 500
// after the switch, a release that exits at start, and a release 10x slower than the stable
// one under a p99 latency alarm. Timed from the first bad answer to the judge's verdict, to
// the router's switch back, and to the last bad answer; failed client requests counted.
//
//   npx tsx bench/self-healing.ts [--runs 10] [--canary-runs N] [--blue-green-runs N]
//     [--crash-runs N] [--latency-runs N] [--only canary,canary-retry,blue-green,crash-loop,latency]
//     [--connections 50] [--baseline 5] [--slow-factor 10] [--threshold-factor 3] [--raw FILE]
//
// --raw writes everything measured (each run's load report with its answers, the deployment
// with its timeline, the release's own log figures) to FILE as JSON.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { pushFiles } from './lib/app-pushes.js';
import { APP_ENVIRONMENT, APP_SERVICE } from './lib/deploy-app.js';
import { createHostedRepository, withDeployStack, type DeployStack } from './lib/deploy-stack.js';
import { deployAndWait, servingRelease } from './lib/deployment-client.js';
import { probe } from './lib/http-probe.js';
import { interruptController, runInterruptible } from './lib/interruptible.js';
import { LatencyHistogram } from './lib/latency-histogram.js';
import { failureCount } from './lib/load.js';
import type { LogRecord } from './lib/logged-process.js';
import { underLoad } from './lib/load-period.js';
import { freeListenerPorts } from './lib/listener-ports.js';
import { describeMachine } from './lib/machine.js';
import { positiveInteger } from './lib/options.js';
import { ensureCliBuilt } from './lib/phoenix-server.js';
import { sampleOf, type RunSample } from './lib/self-healing-analysis.js';
import { appFiles, type AppEnvironment, type AppRelease } from './lib/self-healing-app.js';
import {
  printReport,
  type Baseline,
  type ScenarioResult,
  type SelfHealingResults,
  type SelfHealingSettings,
} from './lib/self-healing-report.js';
import { deployUnderLoad, type LoadSettings } from './lib/self-healing-run.js';
import {
  scenario,
  SCENARIO_NAMES,
  STABLE_RELEASE,
  type LatencySettings,
  type ScenarioName,
} from './lib/self-healing-scenarios.js';
import { withTempDirectory } from './lib/temp-directory.js';

const DEFAULTS = { runs: 10, connections: 50, baseline: 5, slowFactor: 10, thresholdFactor: 3 };
const INSTANCES = 2;
/** Load before counting starts: connections open, JIT warm. */
const WARMUP_MS = 1_000;
/** Steady load before each deployment and after it. */
const STEADY_MS = 500;
/** Between two runs, so that the last rollback's stopped instances are gone. */
const SETTLE_MS = 500;
const FAILURE_BUCKET_MS = 10;
/** Longer than a canary's interval and bake: a deployment the judge misses still ends. */
const DEPLOYMENT_TIMEOUT_MS = 150_000;
/** phoenix.yml's environment deploys `main` only: releases pushed here are built, not deployed. */
const CANDIDATE_BRANCH = 'candidates';
/** Floors of the slow release's delay and the latency alarm's threshold. */
const MIN_DELAY_MS = 20;
const MIN_THRESHOLD_MS = 10;
/** pino's level number for warn. */
const WARN_LEVEL = 40;

/** The newest release of the service (GET /api/services/:name/releases?limit=1). */
const releaseListSchema = z.object({
  releases: z.array(z.object({ number: z.number(), commit: z.string() })),
});

interface Options {
  runs: Record<ScenarioName, number>;
  only: ScenarioName[];
  connections: number;
  baseline: number;
  slowFactor: number;
  thresholdFactor: number;
  raw: string | undefined;
}

const controller = interruptController();
await runInterruptible(
  controller,
  () => main(parseOptions()),
  'processes stopped, temp folder removed',
);

async function main(options: Options): Promise<void> {
  const machine = describeMachine();
  await ensureCliBuilt();
  const [productionPort = 0, testPort = 0] = await freeListenerPorts(2);
  const environment: AppEnvironment = { productionPort, testPort, instances: INSTANCES };
  const settings: SelfHealingSettings = {
    connections: options.connections,
    instances: INSTANCES,
    productionPort,
    baselineSeconds: options.baseline,
    warmupMs: WARMUP_MS,
    steadyMs: STEADY_MS,
  };
  const { value: results, teardown } = await withTempDirectory(
    'phoenix-bench-self-healing-',
    (directory) =>
      withDeployStack({ directory, signal: controller.signal }, (stack) =>
        run(stack, { options, environment, work: join(directory, 'work') }),
      ),
  );
  if (options.raw !== undefined) {
    await writeFile(options.raw, JSON.stringify({ settings, results, teardown }));
  }
  printReport(machine, settings, results, teardown);
  if (results.error !== undefined) process.exitCode = 1;
}

interface RunContext {
  options: Options;
  environment: AppEnvironment;
  work: string;
}

async function run(stack: DeployStack, context: RunContext): Promise<SelfHealingResults> {
  const { options } = context;
  const { signal } = controller;
  const results: SelfHealingResults = {
    baseline: undefined,
    latency: undefined,
    scenarios: [],
    routerWarnings: {},
    serverWarnings: {},
    error: undefined,
  };
  const pushUrl = await createHostedRepository(stack, APP_SERVICE);
  console.error(`pushing v1 to main: build, release #1, deployment to ${APP_ENVIRONMENT}`);
  await pushRelease(stack, context, { pushUrl, release: STABLE_RELEASE, branch: 'main' });
  const url = `http://127.0.0.1:${context.environment.productionPort}/`;
  const answer = await probe(url);
  if (answer?.body !== 'v1') {
    throw new Error(`production answers ${JSON.stringify(answer)} after the v1 run, not v1`);
  }
  const load: LoadSettings = {
    url,
    connections: options.connections,
    failureBucketMs: FAILURE_BUCKET_MS,
    warmupMs: WARMUP_MS,
    pids: { router: stack.router.pid ?? 0, server: stack.server.pid ?? 0 },
    signal,
  };
  console.error(`baseline: ${options.baseline} s of load on v1 alone`);
  results.baseline = await measureBaseline(load, options.baseline);
  results.latency = latencySettings(results.baseline, options);
  const latency = results.latency;
  const planned = options.only.map((name) => scenario(name, latency));
  const releases: number[] = [];
  for (const each of planned) {
    console.error(`pushing ${each.release.behaviour.version} to ${CANDIDATE_BRANCH}: a release`);
    releases.push(
      await pushRelease(stack, context, {
        pushUrl,
        release: each.release,
        branch: CANDIDATE_BRANCH,
      }),
    );
  }
  try {
    for (const [index, each] of planned.entries()) {
      const result: ScenarioResult = {
        scenario: each,
        releaseNumber: releases[index] ?? 0,
        runs: [],
        samples: [],
        stoppedEarly: undefined,
      };
      results.scenarios.push(result);
      await runScenario(stack, { result, load, runs: options.runs[each.name] });
    }
  } catch (error) {
    if (signal.aborted) throw error;
    results.error = error instanceof Error ? error.message : String(error);
  }
  results.routerWarnings = warningsOf(stack.router.records);
  results.serverWarnings = warningsOf(stack.server.records);
  return results;
}

/** Log lines at warn (40) or above, counted by message. */
function warningsOf(records: readonly LogRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const record of records) {
    if (record.level >= WARN_LEVEL) counts[record.msg] = (counts[record.msg] ?? 0) + 1;
  }
  return counts;
}

/** Load on the stable release alone: the reference for the slow release and its alarm. */
async function measureBaseline(load: LoadSettings, seconds: number): Promise<Baseline> {
  const { period, error } = await underLoad(load, () =>
    sleep(seconds * 1000, undefined, { signal: load.signal }),
  );
  if (error !== undefined) throw error;
  const { report } = period;
  const histogram = new LatencyHistogram(report.latencyCounts);
  const elapsed = (report.stoppedAt - report.startedAt) / 1000;
  return {
    seconds: Math.round(elapsed * 10) / 10,
    requestsPerSecond: report.successes / elapsed,
    p50Ms: histogram.percentileMs(50),
    p99Ms: histogram.percentileMs(99),
    failed: failureCount(report),
  };
}

/** `--slow-factor` times the stable release's p99 per answer; the alarm at `--threshold-factor` times. */
function latencySettings(baseline: Baseline, options: Options): LatencySettings {
  return {
    delayMs: Math.max(MIN_DELAY_MS, Math.ceil(baseline.p99Ms * options.slowFactor)),
    thresholdMs: Math.max(MIN_THRESHOLD_MS, Math.ceil(baseline.p99Ms * options.thresholdFactor)),
  };
}

/**
 * The scenario's runs, one deployment of its release each. A run that does not end as
 * expected ends the scenario (the next runs would tell nothing new, and a canary the judge
 * missed takes its whole interval); production is put back on v1 first when needed.
 */
async function runScenario(
  stack: DeployStack,
  context: { result: ScenarioResult; load: LoadSettings; runs: number },
): Promise<void> {
  const { result, load } = context;
  const { scenario: each } = result;
  const release = `${APP_SERVICE}#${result.releaseNumber}`;
  console.error(`${each.name}: ${context.runs} deployments of ${release} (${each.title})`);
  for (let number = 1; number <= context.runs; number++) {
    const measured = await deployUnderLoad(stack, {
      load,
      number,
      release,
      steadyMs: STEADY_MS,
      timeoutMs: DEPLOYMENT_TIMEOUT_MS,
    });
    const sample = sampleOf(measured, {
      badVersion: each.release.behaviour.version,
      stableVersion: STABLE_RELEASE.behaviour.version,
      expectedStatus: each.expectedStatus,
    });
    result.runs.push(measured);
    result.samples.push(sample);
    console.error(`  ${progressLine(sample)}`);
    if (!sample.stableAfter) await restoreStable(stack, load.url);
    if (!sample.asExpected) {
      result.stoppedEarly = `run ${number} ended ${sample.status}, not ${each.expectedStatus}`;
      return;
    }
    await sleep(SETTLE_MS, undefined, { signal: load.signal });
  }
}

function progressLine(sample: RunSample): string {
  const ms = (value: number | undefined): string =>
    value === undefined ? '-' : `${Math.round(value)} ms`;
  return [
    `run ${sample.number}: ${sample.status}`,
    `judge ${ms(sample.detectMs)}`,
    `router back ${ms(sample.routerBackMs)}`,
    `start → failure ${ms(sample.startToFailureMs)}`,
    `${sample.failed} failed of ${sample.requests}`,
  ].join(', ');
}

/** After a run the judge missed: production back on v1 (release #1), checked. */
async function restoreStable(stack: DeployStack, url: string): Promise<void> {
  const serving = await servingRelease(stack.api, APP_SERVICE, APP_ENVIRONMENT);
  if (serving?.number !== 1) {
    console.error('  production is not on v1: deploying web#1 again');
    await deployAndWait(stack.api, {
      service: APP_SERVICE,
      environment: APP_ENVIRONMENT,
      release: `${APP_SERVICE}#1`,
      timeoutMs: DEPLOYMENT_TIMEOUT_MS,
      signal: controller.signal,
    });
  }
  const answer = await probe(url);
  if (answer?.body !== 'v1') {
    throw new Error(`production answers ${JSON.stringify(answer)}, not v1, and cannot go back`);
  }
}

/** Pushes one release's files and waits for its run; answers the release's number. */
async function pushRelease(
  stack: DeployStack,
  context: RunContext,
  options: { pushUrl: string; release: AppRelease; branch: string },
): Promise<number> {
  const { commit } = await pushFiles(stack, {
    work: context.work,
    pushUrl: options.pushUrl,
    files: appFiles(options.release, context.environment),
    label: options.release.behaviour.version,
    branch: options.branch,
    first: options.branch === 'main',
  });
  const { releases } = await stack.api.json(
    releaseListSchema,
    `/api/services/${APP_SERVICE}/releases?limit=1`,
  );
  const latest = releases[0];
  if (latest?.commit !== commit) {
    throw new Error(`the run of ${options.release.behaviour.version} recorded no release`);
  }
  return latest.number;
}

function parseOptions(): Options {
  const count = { type: 'string' } as const;
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: String(DEFAULTS.runs) },
      'canary-runs': count,
      'blue-green-runs': count,
      'crash-runs': count,
      'latency-runs': count,
      only: { type: 'string', default: SCENARIO_NAMES.join(',') },
      connections: { type: 'string', default: String(DEFAULTS.connections) },
      baseline: { type: 'string', default: String(DEFAULTS.baseline) },
      'slow-factor': { type: 'string', default: String(DEFAULTS.slowFactor) },
      'threshold-factor': { type: 'string', default: String(DEFAULTS.thresholdFactor) },
      raw: { type: 'string' },
    },
  });
  const runs = positiveInteger('--runs', values.runs);
  const runsOf = (name: string, text: string | undefined): number =>
    text === undefined ? runs : positiveInteger(name, text);
  const canary = runsOf('--canary-runs', values['canary-runs']);
  return {
    runs: {
      canary,
      'canary-retry': canary,
      'blue-green': runsOf('--blue-green-runs', values['blue-green-runs']),
      'crash-loop': runsOf('--crash-runs', values['crash-runs']),
      latency: runsOf('--latency-runs', values['latency-runs']),
    },
    only: scenarioNames(values.only),
    connections: positiveInteger('--connections', values.connections),
    baseline: positiveInteger('--baseline', values.baseline),
    slowFactor: positiveInteger('--slow-factor', values['slow-factor']),
    thresholdFactor: positiveInteger('--threshold-factor', values['threshold-factor']),
    raw: values.raw,
  };
}

function scenarioNames(text: string): ScenarioName[] {
  const names: ScenarioName[] = [];
  for (const name of text.split(',').map((part) => part.trim())) {
    const known = SCENARIO_NAMES.find((candidate) => candidate === name);
    if (known === undefined) {
      throw new RangeError(`--only takes ${SCENARIO_NAMES.join(', ')}; not ${name}`);
    }
    if (!names.includes(known)) names.push(known);
  }
  return names;
}
