// Zero downtime under load, end to end: a real `phoenix router` and `phoenix server`, a small
// Node service pushed twice (two releases), then, while a load generator in its own process
// keeps 50 keep-alive connections busy on the production listener, blue/green deployments
// in a row alternating the two releases, and SIGKILLs of serving instances between them.
// Every non-2xx and every socket error is counted and placed in the phase it happened in.
//
//   npx tsx bench/zero-downtime.ts [--deployments 20] [--kills 5] [--connections 50]
//     [--baseline 10] [--bake-ms 1000] [--raw FILE]
//
// --raw writes everything measured (load reports with their failure slices and gaps, the
// deployments' timelines, the kills, the router's and the server's logs) to FILE as JSON,
// for looking into a failure after the temp folder is gone.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { targetGroupName } from '../src/deploy/target-group.js';
import { pushVersion } from './lib/app-pushes.js';
import { APP_ENVIRONMENT, APP_SERVICE, type AppSettings } from './lib/deploy-app.js';
import type {
  DeploymentSample,
  KillRecord,
  ZeroDowntimeResults,
  ZeroDowntimeSettings,
} from './lib/deploy-analysis.js';
import { printReport } from './lib/deploy-report.js';
import { createHostedRepository, withDeployStack, type DeployStack } from './lib/deploy-stack.js';
import { deployAndWait, servingRelease } from './lib/deployment-client.js';
import { probe } from './lib/http-probe.js';
import { killServingInstance } from './lib/instance-kill.js';
import { freeListenerPorts } from './lib/listener-ports.js';
import { underLoad, type LoadPeriod } from './lib/load-period.js';
import { describeMachine } from './lib/machine.js';
import { positiveInteger } from './lib/options.js';
import { ensureCliBuilt } from './lib/phoenix-server.js';
import { withTempDirectory } from './lib/temp-directory.js';
import { interruptController, runInterruptible } from './lib/interruptible.js';

const DEFAULTS = { deployments: 20, kills: 5, connections: 50, baseline: 10, bakeMs: 1_000 };
const INSTANCES = 2;
/** Load before counting starts: connections open, JIT warm. */
const WARMUP_MS = 2_000;
/** Steady load before the first deployment and after the last. */
const STEADY_MS = 1_000;
/** Failures are placed in time to within this. */
const FAILURE_BUCKET_MS = 10;
/** A kill's window stays open this long after the instance is back... */
const KILL_TAIL_MS = 1_000;
/** ...and the next deployment waits this long, so the two never overlap. */
const KILL_SETTLE_MS = 1_500;
const DEPLOYMENT_TIMEOUT_MS = 120_000;
const KILL_RECOVERY_TIMEOUT_MS = 60_000;

interface Options {
  deployments: number;
  kills: number;
  connections: number;
  baseline: number;
  bakeMs: number;
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
  const app: AppSettings = {
    productionPort,
    testPort,
    instances: INSTANCES,
    bakeMs: options.bakeMs,
  };
  const settings: ZeroDowntimeSettings = {
    deployments: options.deployments,
    kills: options.kills,
    connections: options.connections,
    baselineSeconds: options.baseline,
    bakeMs: options.bakeMs,
    instances: INSTANCES,
    productionPort,
    failureBucketMs: FAILURE_BUCKET_MS,
    killTailMs: KILL_TAIL_MS,
  };
  const { value: results, teardown } = await withTempDirectory(
    'phoenix-bench-zero-downtime-',
    (directory) =>
      withDeployStack({ directory, signal: controller.signal }, (stack) =>
        run(stack, { options, app, work: join(directory, 'work') }),
      ),
  );
  if (options.raw !== undefined) {
    await writeFile(options.raw, JSON.stringify({ settings, results, teardown }));
  }
  printReport(machine, settings, results, teardown);
  if (results.error !== undefined) process.exitCode = 1;
}

async function run(
  stack: DeployStack,
  context: { options: Options; app: AppSettings; work: string },
): Promise<ZeroDowntimeResults> {
  const { options, app, work } = context;
  const { signal } = controller;
  const pushUrl = await createHostedRepository(stack, APP_SERVICE);
  for (const [index, version] of ['v1', 'v2'].entries()) {
    console.error(
      `pushing ${version}: build, release #${index + 1}, deployment to ${APP_ENVIRONMENT}`,
    );
    await pushVersion(stack, { work, pushUrl, version, settings: app, first: index === 0 });
  }
  const url = `http://127.0.0.1:${app.productionPort}/`;
  const answer = await probe(url);
  if (answer?.body !== 'v2') {
    throw new Error(`production answers ${JSON.stringify(answer)} after the v2 run, not v2`);
  }
  const load = {
    url,
    connections: options.connections,
    failureBucketMs: FAILURE_BUCKET_MS,
    warmupMs: WARMUP_MS,
    pids: { router: stack.router.pid ?? 0, server: stack.server.pid ?? 0 },
    signal,
  };
  const baseline = (): Promise<LoadPeriod> => measureBaseline(load, options.baseline);
  console.error(`baseline: ${options.baseline} s of load with no deployment`);
  const before = await baseline();
  console.error(
    `${options.deployments} blue/green deployments under load, ${options.kills} instances killed`,
  );
  const deployments: DeploymentSample[] = [];
  const kills: KillRecord[] = [];
  const { period, error } = await underLoad(load, async () => {
    await sleep(STEADY_MS, undefined, { signal });
    await deployAndKill(stack, { options, url, deployments, kills });
    await sleep(STEADY_MS, undefined, { signal });
  });
  let after: LoadPeriod | undefined;
  if (error === undefined) {
    console.error(`baseline again: ${options.baseline} s of load with no deployment`);
    after = await baseline();
  }
  return {
    before,
    run: period,
    after,
    deployments,
    kills,
    routerLog: stack.router.records,
    serverLog: stack.server.records,
    error: error === undefined ? undefined : error instanceof Error ? error.message : String(error),
  };
}

/** Load and nothing else for `seconds`: what the deployments are compared with. */
async function measureBaseline(
  load: Parameters<typeof underLoad>[0],
  seconds: number,
): Promise<LoadPeriod> {
  const { period, error } = await underLoad(load, () =>
    sleep(seconds * 1000, undefined, { signal: load.signal }),
  );
  if (error !== undefined) throw error;
  return period;
}

/**
 * The deployments, one after another, each to the release that does not serve; after the
 * deployments chosen for it, a kill, and a pause until the instance is back and settled.
 */
async function deployAndKill(
  stack: DeployStack,
  context: { options: Options; url: string; deployments: DeploymentSample[]; kills: KillRecord[] },
): Promise<void> {
  const { options, url, deployments, kills } = context;
  const { signal } = controller;
  const killAfter = spread(options.kills, options.deployments);
  for (let number = 1; number <= options.deployments; number++) {
    const serving = await servingRelease(stack.api, APP_SERVICE, APP_ENVIRONMENT);
    const next = serving?.number === 1 ? 2 : 1;
    const finished = await deployAndWait(stack.api, {
      service: APP_SERVICE,
      environment: APP_ENVIRONMENT,
      release: `${APP_SERVICE}#${next}`,
      timeoutMs: DEPLOYMENT_TIMEOUT_MS,
      signal,
    });
    const answer = await probe(url);
    deployments.push({
      ...finished,
      number,
      served: answer === undefined ? 'no answer' : answer.body,
      expected: `v${next}`,
    });
    console.error(
      `deployment ${number} → #${next}: ${finished.deployment.status} in ${Math.round(finished.seenFinishedAt - finished.requestedAt)} ms`,
    );
    if (!killAfter.has(number)) continue;
    const now = await servingRelease(stack.api, APP_SERVICE, APP_ENVIRONMENT);
    if (now?.number === undefined)
      throw new Error('nothing serves production: no instance to kill');
    const kill = await killServingInstance({
      home: stack.home,
      router: stack.routerAdmin,
      service: APP_SERVICE,
      environment: APP_ENVIRONMENT,
      releaseId: now.id,
      group: targetGroupName(APP_SERVICE, APP_ENVIRONMENT, now.number),
      turn: kills.length,
      timeoutMs: KILL_RECOVERY_TIMEOUT_MS,
      signal,
    });
    kills.push({
      ...kill,
      number: kills.length + 1,
      afterDeployment: number,
      releaseNumber: now.number,
    });
    console.error(
      `kill ${kills.length}: instance ${kill.index} of #${now.number} (pid ${kill.pid}) back in ${Math.round(kill.routerHealthyAt - kill.killedAt)} ms`,
    );
    await sleep(KILL_SETTLE_MS, undefined, { signal });
  }
}

/**
 * `count` deployment numbers out of 1..`total`, evenly spread (a kill follows each). Every
 * other one moves on by one deployment (when they are at least two apart), so that the kills
 * hit both releases even when the spacing is even.
 */
function spread(count: number, total: number): Set<number> {
  const chosen = new Set<number>();
  for (let index = 0; index < count; index++) {
    const evenly = Math.floor(((index + 0.5) * total) / count) + 1;
    const shift = total >= 2 * count ? index % 2 : 0;
    chosen.add(Math.min(total, evenly + shift));
  }
  return chosen;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      deployments: { type: 'string', default: String(DEFAULTS.deployments) },
      kills: { type: 'string', default: String(DEFAULTS.kills) },
      connections: { type: 'string', default: String(DEFAULTS.connections) },
      baseline: { type: 'string', default: String(DEFAULTS.baseline) },
      'bake-ms': { type: 'string', default: String(DEFAULTS.bakeMs) },
      raw: { type: 'string' },
    },
  });
  const bakeMs = Number(values['bake-ms']);
  if (!Number.isInteger(bakeMs) || bakeMs < 0) {
    throw new RangeError(
      `--bake-ms must be a whole number of at least 0, not ${values['bake-ms']}`,
    );
  }
  const deployments = positiveInteger('--deployments', values.deployments);
  const kills = Number(values.kills) === 0 ? 0 : positiveInteger('--kills', values.kills);
  if (kills > deployments) {
    throw new RangeError(`--kills (${kills}) must not exceed --deployments (${deployments})`);
  }
  return {
    deployments,
    kills,
    connections: positiveInteger('--connections', values.connections),
    baseline: positiveInteger('--baseline', values.baseline),
    bakeMs,
    raw: values.raw,
  };
}
