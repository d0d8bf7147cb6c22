// Three ways to cache a sample npm project's dependencies, side by side in one run: no cache,
// npm's own cache (~/.npm), and node_modules keyed by the lock file. Each strategy runs a cold
// build, then two warm ones that restore what the cold one saved. The run ends by timing the
// `tar -xf` behind a node_modules restore on the build folder's disk and in memory.
//
//   npx tsx bench/build-cache.ts [--rounds 5] [--extract-repetitions 5]
//
// Needs the npm registry (https://registry.npmjs.org); without it the bench says so and exits 0.
import { link, readdir, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Phoenix } from '../src/main.js';
import { createGitRepository } from './lib/git-repository.js';
import { describeMachine, formatMachine, type Machine } from './lib/machine.js';
import {
  NPM_REGISTRY,
  npmRegistryReachable,
  packageJson,
  resolveLockFile,
} from './lib/npm-project.js';
import {
  buildspec,
  buildspecPath,
  KEPT_MARKER,
  STRATEGIES,
  type Strategy,
  type StrategyName,
} from './lib/npm-cache-strategies.js';
import { positiveInteger } from './lib/options.js';
import {
  benchPhoenix,
  gapMs,
  outsidePhasesMs,
  phaseMs,
  runTimedBuild,
  type TimedBuild,
} from './lib/phoenix-build.js';
import { median, round } from './lib/stats.js';
import { formatTable } from './lib/table.js';
import {
  describeArchive,
  timeRestoreExtraction,
  type ArchiveShape,
  type ExtractTiming,
} from './lib/tar-extract.js';
import { withTempDirectory } from './lib/temp-directory.js';

/** Real, pinned dependencies; typescript alone makes the download worth caching. */
const DEPENDENCIES = {
  express: '4.21.2',
  lodash: '4.17.21',
  typescript: '5.9.3',
  yaml: '2.9.1',
  zod: '3.25.76',
};
/** The update check would reach the registry even when everything else comes from the cache. */
const BUILD_OVERRIDES = { npm_config_update_notifier: 'false' };
const RUNS = ['cold', 'warm', 'warm again'] as const;
/** Each round runs every strategy's three builds, each strategy from an empty PHOENIX_HOME. */
const DEFAULT_ROUNDS = 5;
const DEFAULT_EXTRACT_REPETITIONS = 5;
/** BuildCache's archive of the cached folders inside the source folder (node_modules). */
const SOURCE_ARCHIVE = 'source.tar';

const BUILD_HEADER = [
  'strategy',
  'run',
  'cache',
  'saved',
  'npm ci',
  'INSTALL s',
  'BUILD s',
  'key + restore s',
  'save s',
  'checkout + finalize s',
  'other s',
  'whole build s',
];

const STRATEGY_HEADER = [
  'strategy',
  'cache MiB',
  'INSTALL cold s',
  'INSTALL warm s',
  'whole cold s',
  'whole warm s',
  'warm vs cold',
  'warm vs no cache',
];

const TIMED_FIELDS = [
  'installMs',
  'buildPhaseMs',
  'restoreMs',
  'saveMs',
  'checkoutAndFinalizeMs',
  'otherMs',
  'wallMs',
] as const;

type RunName = (typeof RUNS)[number];
type Timings = Record<(typeof TIMED_FIELDS)[number], number>;

/**
 * One build's figures. `restoreMs` runs from DOWNLOAD_SOURCE's end to INSTALL's start (start the
 * shell, evaluate the cache keys, restore); `saveMs` from BUILD's end to FINALIZING's start
 * (read exported variables, save the cache: the bench has no artifacts or reports).
 * `checkoutAndFinalizeMs` is DOWNLOAD_SOURCE plus FINALIZING, which removes the workspace;
 * `otherMs` is the rest of the wall time outside phases.
 */
interface BuildFigures extends Timings {
  restore: string;
  saved: boolean;
  npmCi: boolean;
}

interface RunSummary {
  strategy: StrategyName;
  run: RunName;
  medians: Timings;
  /** Every outcome seen over the rounds, normally one. */
  restore: string[];
  saved: boolean[];
  npmCi: boolean[];
}

interface StrategyResult {
  strategy: StrategyName;
  runs: RunSummary[];
  cacheBytes: number;
  coldInstallMs: number;
  /** Median over the warm and warm-again builds of every round. */
  warmInstallMs: number;
  coldMs: number;
  warmMs: number;
  installSpeedup: number;
  buildSpeedup: number;
  /** The no-cache strategy's median build over its warm build. */
  versusNoCache: number;
}

interface Extraction {
  shape: ArchiveShape;
  timings: ExtractTiming[];
}

interface Measurement {
  samples: Map<StrategyName, Record<RunName, BuildFigures[]>>;
  cacheBytes: Map<StrategyName, number>;
  extraction: Extraction | undefined;
}

interface Options {
  rounds: number;
  extractRepetitions: number;
}

try {
  await main(parseOptions());
} catch (error) {
  console.error(error);
  process.exitCode = 1;
}

async function main(options: Options): Promise<void> {
  const machine = describeMachine();
  if (!(await npmRegistryReachable())) {
    skip(machine, `the npm registry (${NPM_REGISTRY}) cannot be reached`);
    return;
  }
  const measured = await withTempDirectory('phoenix-bench-cache-', (directory) =>
    measure(directory, options),
  );
  const results = STRATEGIES.map((strategy) => strategyResult(strategy.name, measured));
  console.log(
    `Build cache: three ways to cache an npm project with ${Object.keys(DEPENDENCIES).join(', ')}`,
  );
  console.log(
    `Median of ${options.rounds} rounds; each round runs every strategy from an empty PHOENIX_HOME: cold, warm, warm again`,
  );
  console.log(formatMachine(machine));
  console.log('');
  console.log(
    formatTable(
      BUILD_HEADER,
      results.flatMap((result) => result.runs.map(buildRow)),
    ),
  );
  console.log('');
  console.log(formatTable(STRATEGY_HEADER, results.map(strategyRow)));
  if (measured.extraction !== undefined) {
    console.log('');
    for (const line of extractionLines(measured.extraction, options)) console.log(line);
  }
  console.log(
    JSON.stringify({
      bench: 'build-cache',
      machine,
      dependencies: DEPENDENCIES,
      rounds: options.rounds,
      strategies: results.map(jsonStrategy),
      extraction: measured.extraction === undefined ? null : jsonExtraction(measured.extraction),
    }),
  );
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: String(DEFAULT_ROUNDS) },
      'extract-repetitions': { type: 'string', default: String(DEFAULT_EXTRACT_REPETITIONS) },
    },
  });
  return {
    rounds: positiveInteger('--rounds', values.rounds),
    extractRepetitions: positiveInteger('--extract-repetitions', values['extract-repetitions']),
  };
}

function skip(machine: Machine, reason: string): void {
  console.log(`Build cache bench skipped: ${reason}.`);
  console.log(formatMachine(machine));
  console.log(JSON.stringify({ bench: 'build-cache', machine, skipped: reason }));
}

/** Strategies take turns going first, so none always meets a cold registry connection. */
async function measure(directory: string, options: Options): Promise<Measurement> {
  const repository = join(directory, 'repository');
  await createProject(directory, repository);
  const samples = new Map<StrategyName, Record<RunName, BuildFigures[]>>(
    STRATEGIES.map((strategy) => [strategy.name, { cold: [], warm: [], 'warm again': [] }]),
  );
  const cacheBytes = new Map<StrategyName, number>();
  const archive = join(directory, 'node-modules-cache.tar');
  for (let index = 0; index < options.rounds; index++) {
    const order = [...STRATEGIES.slice(index % STRATEGIES.length), ...STRATEGIES];
    for (const strategy of order.slice(0, STRATEGIES.length)) {
      const home = join(directory, `phoenix-home-${index}-${strategy.id}`);
      const phoenix = benchPhoenix(home);
      for (const run of RUNS) {
        samples.get(strategy.name)?.[run].push(await timedBuild(phoenix, repository, strategy));
      }
      cacheBytes.set(strategy.name, await folderBytes(join(home, 'cache')));
      if (strategy.name === 'node_modules') await keepArchive(join(home, 'cache'), archive);
      await rm(home, { recursive: true, force: true });
    }
  }
  const extraction = await measureExtraction(directory, archive, options.extractRepetitions);
  return { samples, cacheBytes, extraction };
}

async function createProject(directory: string, repository: string): Promise<void> {
  const manifest = packageJson('phoenix-bench-cache', DEPENDENCIES);
  const files: Record<string, string> = {
    'package.json': manifest,
    'package-lock.json': await resolveLockFile(join(directory, 'lock'), manifest),
  };
  for (const strategy of STRATEGIES) files[buildspecPath(strategy)] = buildspec(strategy);
  await createGitRepository(repository, files);
}

async function timedBuild(
  phoenix: Phoenix,
  repository: string,
  strategy: Strategy,
): Promise<BuildFigures> {
  const seen = { kept: false };
  const build = await runTimedBuild(phoenix, {
    sourceDirectory: repository,
    buildspec: buildspecPath(strategy),
    overrides: BUILD_OVERRIDES,
    onLog: (line) => {
      if (line.stream === 'stdout' && line.text.includes(KEPT_MARKER)) seen.kept = true;
    },
  });
  return figures(build, !seen.kept);
}

function figures(build: TimedBuild, npmCi: boolean): BuildFigures {
  const { summary } = build;
  const restoreMs = gapMs(summary, 'DOWNLOAD_SOURCE', 'INSTALL');
  const saveMs = gapMs(summary, 'BUILD', 'FINALIZING');
  return {
    installMs: phaseMs(summary, 'INSTALL'),
    buildPhaseMs: phaseMs(summary, 'BUILD'),
    restoreMs,
    saveMs,
    checkoutAndFinalizeMs: phaseMs(summary, 'DOWNLOAD_SOURCE') + phaseMs(summary, 'FINALIZING'),
    otherMs: outsidePhasesMs(build) - restoreMs - saveMs,
    wallMs: build.wallMs,
    restore: summary.cache?.restore ?? 'none',
    saved: summary.cache?.saved ?? false,
    npmCi,
  };
}

/** Bytes of the files below `directory`; 0 when it does not exist (nothing was cached). */
async function folderBytes(directory: string): Promise<number> {
  let total = 0;
  for (const entry of await filesBelow(directory)) total += (await stat(entry)).size;
  return total;
}

/** Every file below `directory`, none when it does not exist. */
async function filesBelow(directory: string): Promise<string[]> {
  try {
    const entries = await readdir(directory, { recursive: true, withFileTypes: true });
    return entries
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name));
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return [];
    throw error;
  }
}

/** Hard-links the cache's node_modules archive to `to`, so it outlives its PHOENIX_HOME. */
async function keepArchive(cacheDirectory: string, to: string): Promise<void> {
  const found = (await filesBelow(cacheDirectory)).find(
    (file) => basename(file) === SOURCE_ARCHIVE,
  );
  if (found === undefined) return;
  await rm(to, { force: true });
  await link(found, to);
}

/** Undefined when no node_modules archive was kept (the cache layout changed). */
async function measureExtraction(
  directory: string,
  archive: string,
  repetitions: number,
): Promise<Extraction | undefined> {
  const present = await stat(archive).then(
    () => true,
    () => false,
  );
  if (!present) return undefined;
  return {
    shape: await describeArchive(archive),
    timings: await timeRestoreExtraction({ archive, diskFolder: directory, repetitions }),
  };
}

function strategyResult(name: StrategyName, measured: Measurement): StrategyResult {
  const samples = measured.samples.get(name) ?? { cold: [], warm: [], 'warm again': [] };
  const warm = [...samples.warm, ...samples['warm again']];
  const baseline = Object.values(measured.samples.get('no cache') ?? {}).flat();
  const coldInstallMs = median(samples.cold.map((sample) => sample.installMs));
  const warmInstallMs = median(warm.map((sample) => sample.installMs));
  const coldMs = median(samples.cold.map((sample) => sample.wallMs));
  const warmMs = median(warm.map((sample) => sample.wallMs));
  return {
    strategy: name,
    runs: RUNS.map((run) => summarize(name, run, samples[run])),
    cacheBytes: measured.cacheBytes.get(name) ?? 0,
    coldInstallMs,
    warmInstallMs,
    coldMs,
    warmMs,
    installSpeedup: round(coldInstallMs / warmInstallMs, 1),
    buildSpeedup: round(coldMs / warmMs, 1),
    versusNoCache: round(median(baseline.map((sample) => sample.wallMs)) / warmMs, 1),
  };
}

function summarize(
  strategy: StrategyName,
  run: RunName,
  samples: readonly BuildFigures[],
): RunSummary {
  const of = (field: keyof Timings): number => median(samples.map((sample) => sample[field]));
  return {
    strategy,
    run,
    medians: {
      installMs: of('installMs'),
      buildPhaseMs: of('buildPhaseMs'),
      restoreMs: of('restoreMs'),
      saveMs: of('saveMs'),
      checkoutAndFinalizeMs: of('checkoutAndFinalizeMs'),
      otherMs: of('otherMs'),
      wallMs: of('wallMs'),
    },
    restore: [...new Set(samples.map((sample) => sample.restore))],
    saved: [...new Set(samples.map((sample) => sample.saved))],
    npmCi: [...new Set(samples.map((sample) => sample.npmCi))],
  };
}

function buildRow(run: RunSummary): string[] {
  const { medians } = run;
  return [
    run.strategy,
    run.run,
    run.restore.join('/'),
    run.saved.map(yesNo).join('/'),
    run.npmCi.map(yesNo).join('/'),
    seconds(medians.installMs),
    seconds(medians.buildPhaseMs),
    seconds(medians.restoreMs),
    seconds(medians.saveMs),
    seconds(medians.checkoutAndFinalizeMs),
    seconds(medians.otherMs),
    seconds(medians.wallMs),
  ];
}

function strategyRow(result: StrategyResult): string[] {
  return [
    result.strategy,
    mebibytes(result.cacheBytes),
    seconds(result.coldInstallMs),
    seconds(result.warmInstallMs),
    seconds(result.coldMs),
    seconds(result.warmMs),
    `${result.buildSpeedup.toFixed(1)}×`,
    `${result.versusNoCache.toFixed(1)}×`,
  ];
}

function extractionLines(extraction: Extraction, options: Options): string[] {
  const { bytes, entries } = extraction.shape;
  return [
    `Restoring the node_modules cache (${mebibytes(bytes)} MiB, ${entries} entries): ` +
      `tar into an empty folder, median of ${options.extractRepetitions}`,
    formatTable(
      ['into, with', 'median ms', 'min ms', 'max ms'],
      extraction.timings.map((timing) => [
        `${timing.target}, ${timing.flags}`,
        timing.medianMs.toFixed(0),
        timing.minMs.toFixed(0),
        timing.maxMs.toFixed(0),
      ]),
    ),
  ];
}

function jsonStrategy(result: StrategyResult): Record<string, unknown> {
  return {
    name: result.strategy,
    cacheBytes: result.cacheBytes,
    coldInstallMs: round(result.coldInstallMs),
    warmInstallMs: round(result.warmInstallMs),
    coldMs: round(result.coldMs),
    warmMs: round(result.warmMs),
    installSpeedup: result.installSpeedup,
    buildSpeedup: result.buildSpeedup,
    versusNoCache: result.versusNoCache,
    runs: result.runs.map((run) => ({
      name: run.run,
      cacheRestore: run.restore,
      cacheSaved: run.saved,
      npmCi: run.npmCi,
      ...Object.fromEntries(TIMED_FIELDS.map((field) => [field, round(run.medians[field])])),
    })),
  };
}

function jsonExtraction(extraction: Extraction): Record<string, unknown> {
  return {
    archiveBytes: extraction.shape.bytes,
    entries: extraction.shape.entries,
    timings: extraction.timings.map((timing) => ({
      into: timing.target,
      command: timing.flags,
      medianMs: round(timing.medianMs),
      minMs: round(timing.minMs),
      maxMs: round(timing.maxMs),
    })),
  };
}

function yesNo(value: boolean): string {
  return value ? 'yes' : 'no';
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(2);
}

function mebibytes(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}
