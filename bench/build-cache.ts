// Cold versus warm build cache for a sample npm project: one build with nothing cached, then
// two with the cache the first one saved. `npm ci` empties node_modules whatever the cache
// holds, so the warm builds gain from ~/.npm, the build's own HOME that the cache restores.
//
//   npx tsx bench/build-cache.ts [--rounds 3]
//
// Needs the npm registry (https://registry.npmjs.org); without it the bench says so and exits 0.
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { createGitRepository } from './lib/git-repository.js';
import { describeMachine, formatMachine, type Machine } from './lib/machine.js';
import {
  benchPhoenix,
  outsidePhasesMs,
  phaseMs,
  runTimedBuild,
  type TimedBuild,
} from './lib/phoenix-build.js';
import { positiveInteger } from './lib/options.js';
import { median, round } from './lib/stats.js';
import { formatTable } from './lib/table.js';
import { withTempDirectory } from './lib/temp-directory.js';

const execFileAsync = promisify(execFile);

const REGISTRY = 'https://registry.npmjs.org/';
const PROBE_TIMEOUT_MS = 10_000;
const LOCK_TIMEOUT_MS = 5 * 60 * 1000;
/** Real, pinned dependencies; typescript alone makes the download worth caching. */
const DEPENDENCIES = {
  express: '4.21.2',
  lodash: '4.17.21',
  typescript: '5.9.3',
  yaml: '2.9.1',
  zod: '3.25.76',
};
const BUILDSPEC = `version: 0.2
phases:
  install:
    commands:
      - npm ci --no-audit --no-fund --prefer-offline
  build:
    commands:
      - node -e "require('express'); require('lodash'); console.log('ok')"
cache:
  key: npm-$(codebuild-hash-files package-lock.json)
  paths:
    - 'node_modules/**/*'
    - '~/.npm/**/*'
`;
/** The update check would reach the registry even when everything else comes from the cache. */
const BUILD_OVERRIDES = { npm_config_update_notifier: 'false' };
const RUNS = ['cold', 'warm', 'warm again'] as const;
/** Each round repeats the three builds from an empty PHOENIX_HOME. */
const DEFAULT_ROUNDS = 3;

const TABLE_HEADER = [
  'run',
  'cache restore',
  'saved',
  'INSTALL s',
  'BUILD s',
  'checkout + finalize s',
  'cache + other s',
  'whole build s',
];

type RunName = (typeof RUNS)[number];

/** One build's figures; `cacheAndOtherMs` is time in no phase, mostly cache restore and save. */
interface RunFigures {
  installMs: number;
  buildPhaseMs: number;
  /** DOWNLOAD_SOURCE and FINALIZING, which removes the workspace and its node_modules. */
  checkoutAndFinalizeMs: number;
  cacheAndOtherMs: number;
  wallMs: number;
  restore: string;
  saved: boolean;
}

interface RunSummary extends Omit<RunFigures, 'restore' | 'saved'> {
  name: RunName;
  /** Every outcome seen over the rounds, normally one. */
  restore: string[];
  saved: boolean[];
}

interface Options {
  rounds: number;
}

try {
  await main(parseOptions());
} catch (error) {
  console.error(error);
  process.exitCode = 1;
}

async function main({ rounds }: Options): Promise<void> {
  const machine = describeMachine();
  if (!(await registryReachable())) {
    skip(machine, `the npm registry (${REGISTRY}) cannot be reached`);
    return;
  }
  const { samples, cacheBytes } = await withTempDirectory('phoenix-bench-cache-', (directory) =>
    measure(directory, rounds),
  );
  const runs = RUNS.map((name) => summarize(name, samples.get(name) ?? []));
  const [cold, ...warm] = runs;
  if (cold === undefined) throw new Error('no cold run');
  const installSpeedup = round(cold.installMs / median(warm.map((entry) => entry.installMs)), 1);
  const buildSpeedup = round(cold.wallMs / median(warm.map((entry) => entry.wallMs)), 1);
  console.log(`Build cache: npm ci of ${Object.keys(DEPENDENCIES).join(', ')}`);
  console.log(
    `Median of ${rounds} rounds, each from an empty PHOENIX_HOME: cold, warm, warm again`,
  );
  console.log(formatMachine(machine));
  console.log('');
  console.log(formatTable(TABLE_HEADER, runs.map(tableRow)));
  console.log('');
  console.log(`Cache on disk: ${(cacheBytes / 1024 / 1024).toFixed(1)} MiB`);
  console.log(`Speed-up, INSTALL phase: ${installSpeedup.toFixed(1)}×`);
  console.log(`Speed-up, whole build: ${buildSpeedup.toFixed(1)}×`);
  console.log(
    JSON.stringify({
      bench: 'build-cache',
      machine,
      dependencies: DEPENDENCIES,
      rounds,
      runs: runs.map(jsonRun),
      cacheBytes,
      installSpeedup,
      buildSpeedup,
    }),
  );
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: { rounds: { type: 'string', default: String(DEFAULT_ROUNDS) } },
  });
  return { rounds: positiveInteger('--rounds', values.rounds) };
}

function skip(machine: Machine, reason: string): void {
  console.log(`Build cache bench skipped: ${reason}.`);
  console.log(formatMachine(machine));
  console.log(JSON.stringify({ bench: 'build-cache', machine, skipped: reason }));
}

async function registryReachable(): Promise<boolean> {
  try {
    const response = await fetch(new URL('lodash', REGISTRY), {
      method: 'HEAD',
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    return response.ok;
  } catch {
    return false;
  }
}

/** Each round starts from an empty PHOENIX_HOME, so its first build is cold again. */
async function measure(
  directory: string,
  rounds: number,
): Promise<{ samples: Map<RunName, RunFigures[]>; cacheBytes: number }> {
  const repository = join(directory, 'repository');
  await createProject(directory, repository);
  const samples = new Map<RunName, RunFigures[]>(RUNS.map((name) => [name, []]));
  let cacheBytes = 0;
  for (let index = 0; index < rounds; index++) {
    const home = join(directory, `phoenix-home-${index}`);
    const phoenix = benchPhoenix(home);
    for (const name of RUNS) {
      const build = await runTimedBuild(phoenix, {
        sourceDirectory: repository,
        overrides: BUILD_OVERRIDES,
      });
      samples.get(name)?.push(figures(build));
    }
    cacheBytes = await folderBytes(join(home, 'cache'));
    await rm(home, { recursive: true, force: true });
  }
  return { samples, cacheBytes };
}

async function createProject(directory: string, repository: string): Promise<void> {
  const packageJson = `${JSON.stringify(
    { name: 'phoenix-bench-cache', version: '1.0.0', private: true, dependencies: DEPENDENCIES },
    null,
    2,
  )}\n`;
  await createGitRepository(repository, {
    'package.json': packageJson,
    'package-lock.json': await lockFile(join(directory, 'lock'), packageJson),
    'buildspec.yml': BUILDSPEC,
  });
}

function figures(build: TimedBuild): RunFigures {
  const cache = build.summary.cache;
  return {
    installMs: phaseMs(build.summary, 'INSTALL'),
    buildPhaseMs: phaseMs(build.summary, 'BUILD'),
    checkoutAndFinalizeMs:
      phaseMs(build.summary, 'DOWNLOAD_SOURCE') + phaseMs(build.summary, 'FINALIZING'),
    cacheAndOtherMs: outsidePhasesMs(build),
    wallMs: build.wallMs,
    restore: cache?.restore ?? 'no cache',
    saved: cache?.saved ?? false,
  };
}

function summarize(name: RunName, samples: readonly RunFigures[]): RunSummary {
  const of = (pick: (sample: RunFigures) => number) => median(samples.map(pick));
  return {
    name,
    installMs: of((sample) => sample.installMs),
    buildPhaseMs: of((sample) => sample.buildPhaseMs),
    checkoutAndFinalizeMs: of((sample) => sample.checkoutAndFinalizeMs),
    cacheAndOtherMs: of((sample) => sample.cacheAndOtherMs),
    wallMs: of((sample) => sample.wallMs),
    restore: [...new Set(samples.map((sample) => sample.restore))],
    saved: [...new Set(samples.map((sample) => sample.saved))],
  };
}

/**
 * Resolves the dependencies once, outside the timed builds, with a HOME and npm cache of its
 * own so neither the host's ~/.npmrc shapes the lock file nor this step warms a cache.
 */
async function lockFile(directory: string, packageJson: string): Promise<string> {
  await mkdir(join(directory, 'home'), { recursive: true });
  await writeFile(join(directory, 'package.json'), packageJson);
  await execFileAsync('npm', ['install', '--package-lock-only', '--no-audit', '--no-fund'], {
    cwd: directory,
    timeout: LOCK_TIMEOUT_MS,
    env: {
      PATH: process.env['PATH'],
      HOME: join(directory, 'home'),
      npm_config_cache: join(directory, 'npm-cache'),
      npm_config_update_notifier: 'false',
    },
  });
  return readFile(join(directory, 'package-lock.json'), 'utf8');
}

async function folderBytes(directory: string): Promise<number> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  let total = 0;
  for (const entry of entries) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

function tableRow(run: RunSummary): string[] {
  return [
    run.name,
    run.restore.join('/'),
    run.saved.map((saved) => (saved ? 'yes' : 'no')).join('/'),
    seconds(run.installMs),
    seconds(run.buildPhaseMs),
    seconds(run.checkoutAndFinalizeMs),
    seconds(run.cacheAndOtherMs),
    seconds(run.wallMs),
  ];
}

function jsonRun(run: RunSummary): Record<string, unknown> {
  return {
    name: run.name,
    cacheRestore: run.restore,
    cacheSaved: run.saved,
    installMs: round(run.installMs),
    buildPhaseMs: round(run.buildPhaseMs),
    checkoutAndFinalizeMs: round(run.checkoutAndFinalizeMs),
    cacheAndOtherMs: round(run.cacheAndOtherMs),
    wallMs: round(run.wallMs),
  };
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(2);
}
