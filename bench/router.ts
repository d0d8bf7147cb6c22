// Phoenix's router as its own process on 127.0.0.1: throughput and latency against one
// upstream direct, a bare Node proxy and nginx, side by side; the outage a SIGKILLed router
// causes before its restart serves again; and failed requests while blue/green splits flip
// and instances are killed under load.
//
//   npx tsx bench/router.ts [--rounds 3] [--seconds 10] [--warmup 2] [--connections 50]
//     [--restarts 5] [--flips 20] [--kills 5] [--wrk-threads 1] [--profile auto|always|never]
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeMachine } from './lib/machine.js';
import { withProcesses } from './lib/managed-process.js';
import { findNginx, NGINX_INSTALL_HINT, nginxVersion } from './lib/nginx.js';
import { positiveInteger } from './lib/options.js';
import { BenchPorts } from './lib/ports.js';
import { measureVariants, type Generator } from './lib/proxy-throughput.js';
import type { Ownership } from './lib/router-fleet.js';
import { chooseRouterLauncher, describeLauncher } from './lib/router-launcher.js';
import { profileRouter, type RouterProfile } from './lib/router-profile.js';
import { printReport, targetMet, type RouterBenchResults } from './lib/router-report.js';
import { measureRestarts } from './lib/router-restart.js';
import { withTempDirectory } from './lib/temp-directory.js';
import { startThroughputFleet } from './lib/throughput-fleet.js';
import { findWrk, WRK_INSTALL_HINT, writeWrkScript } from './lib/wrk.js';
import { measureZeroDowntime } from './lib/weight-flips.js';
import { interruptController, runInterruptible } from './lib/interruptible.js';

const DEFAULTS = {
  rounds: 3,
  seconds: 10,
  warmup: 2,
  connections: 50,
  restarts: 5,
  flips: 20,
  kills: 5,
  wrkThreads: 1,
};
/** Time between two flips of the blue/green split. */
const FLIP_INTERVAL_MS = 500;

type ProfileMode = 'auto' | 'always' | 'never';

interface Options {
  rounds: number;
  seconds: number;
  warmup: number;
  connections: number;
  restarts: number;
  flips: number;
  kills: number;
  wrkThreads: number;
  profile: ProfileMode;
}

const controller = interruptController();
await runInterruptible(
  controller,
  () => main(parseOptions()),
  'processes stopped, temp folder removed',
);

async function main(options: Options): Promise<void> {
  const machine = describeMachine();
  const nginx = await findNginx();
  if (nginx === undefined) console.log(`nginx is not installed: ${NGINX_INSTALL_HINT}`);
  const wrk = await findWrk();
  if (wrk === undefined) {
    console.log(
      `wrk is not installed (${WRK_INSTALL_HINT}): bench/lib/load-generator.ts measures throughput instead`,
    );
  }
  const results = await withTempDirectory('phoenix-bench-router-', (directory) =>
    withProcesses(controller.signal, (processes) =>
      run(options, { directory, nginx, wrk, ownership: { signal: controller.signal, processes } }),
    ),
  );
  printReport(machine, { ...options, flipIntervalMs: FLIP_INTERVAL_MS }, results);
}

async function run(
  options: Options,
  context: {
    directory: string;
    nginx: string | undefined;
    wrk: string | undefined;
    ownership: Ownership;
  },
): Promise<RouterBenchResults> {
  const { directory, ownership } = context;
  const token = randomBytes(24).toString('hex');
  const home = join(directory, 'phoenix-home');
  const launcher = await chooseRouterLauncher();
  const ports = new BenchPorts();
  const fleet = await startThroughputFleet({
    directory,
    home,
    token,
    launcher,
    nginx: context.nginx,
    ports,
    ...ownership,
  });
  let router = fleet.router;
  const generator: Generator =
    context.wrk === undefined
      ? { kind: 'node' }
      : {
          kind: 'wrk',
          binary: context.wrk,
          script: await writeWrkScript(directory),
          threads: options.wrkThreads,
        };
  const load = {
    generator,
    connections: options.connections,
    warmupSeconds: options.warmup,
    seconds: options.seconds,
    signal: ownership.signal,
  };
  const throughput = await measureVariants(
    fleet.variants,
    options.rounds,
    load,
    (index, variant, result) =>
      console.error(
        `round ${index + 1}: ${variant.name}: ${Math.round(result.requestsPerSecond)} req/s`,
      ),
  );
  let profile: RouterProfile | undefined;
  if (options.profile === 'always' || (options.profile === 'auto' && !targetMet(throughput))) {
    console.error('profiling the router (node --cpu-prof)');
    profile = await profileRouter({
      router,
      launcher,
      home,
      profileDirectory: join(directory, 'cpu-profile'),
      token,
      url: fleet.routerUrl,
      load,
      ...ownership,
    });
    router = profile.router;
  }
  console.error(`restarting the router under load, ${options.restarts} times`);
  const restart = await measureRestarts({
    router,
    launcher,
    home,
    token,
    url: fleet.routerUrl,
    connections: options.connections,
    restarts: options.restarts,
    ...ownership,
  });
  console.error(`flipping blue/green ${options.flips} times, killing ${options.kills} instances`);
  const flipPorts = [];
  for (let index = 0; index < 4; index++) flipPorts.push(await ports.next());
  const zeroDowntime = await measureZeroDowntime({
    admin: restart.router.admin,
    listener: 'blue-green',
    port: await ports.next(),
    ports: flipPorts,
    connections: options.connections,
    flips: options.flips,
    kills: options.kills,
    flipIntervalMs: FLIP_INTERVAL_MS,
    ...ownership,
  });
  return {
    router: describeLauncher(launcher),
    generator:
      generator.kind === 'wrk'
        ? `wrk (${generator.threads} thread${generator.threads === 1 ? '' : 's'})`
        : 'bench/lib/load-generator.ts',
    nginx: context.nginx === undefined ? undefined : await nginxVersion(context.nginx),
    throughput,
    profile,
    restart,
    zeroDowntime,
  };
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: String(DEFAULTS.rounds) },
      seconds: { type: 'string', default: String(DEFAULTS.seconds) },
      warmup: { type: 'string', default: String(DEFAULTS.warmup) },
      connections: { type: 'string', default: String(DEFAULTS.connections) },
      restarts: { type: 'string', default: String(DEFAULTS.restarts) },
      flips: { type: 'string', default: String(DEFAULTS.flips) },
      kills: { type: 'string', default: String(DEFAULTS.kills) },
      'wrk-threads': { type: 'string', default: String(DEFAULTS.wrkThreads) },
      profile: { type: 'string', default: 'auto' },
    },
  });
  const profile = values.profile;
  if (profile !== 'auto' && profile !== 'always' && profile !== 'never') {
    throw new RangeError(`--profile must be auto, always or never, not ${profile}`);
  }
  return {
    rounds: positiveInteger('--rounds', values.rounds),
    seconds: positiveInteger('--seconds', values.seconds),
    warmup: positiveInteger('--warmup', values.warmup),
    connections: positiveInteger('--connections', values.connections),
    restarts: positiveInteger('--restarts', values.restarts),
    flips: positiveInteger('--flips', values.flips),
    kills: Number(values.kills) === 0 ? 0 : positiveInteger('--kills', values.kills),
    wrkThreads: positiveInteger('--wrk-threads', values['wrk-threads']),
    profile,
  };
}
