// Pipeline overheads with the control plane as a real `phoenix server` process: git push to
// the first build command, the time between stages, and how many noop runs per second the
// server completes, with 0 to 1,000 runs already recorded in its store.
//
//   npx tsx bench/pipeline.ts [--pushes 50] [--runs 60] [--rounds 3]
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_BUILD_CONCURRENCY } from '../src/main.js';
import { describeMachine, formatMachine, type Machine } from './lib/machine.js';
import { positiveInteger } from './lib/options.js';
import { PhoenixApi } from './lib/phoenix-api.js';
import { ensureCliBuilt, withServer } from './lib/phoenix-server.js';
import { measurePushes, type PushSample } from './lib/push-latency.js';
import { measureThroughputRounds, type ThroughputRow } from './lib/throughput-rounds.js';
import { median, percentile, round } from './lib/stats.js';
import { formatTable, type Cell } from './lib/table.js';
import { withTempDirectory } from './lib/temp-directory.js';
import { interruptController, runInterruptible } from './lib/interruptible.js';

const DEFAULT_PUSHES = 50;
const DEFAULT_RUNS = 60;
/** Rounds of the sustained-runs table; each row gives the median over them. */
const DEFAULT_ROUNDS = 3;
const DEFAULT_SLOTS_LABEL = `${DEFAULT_BUILD_CONCURRENCY} (default)`;

const THROUGHPUT_HEADER = [
  'build slots',
  'recorded runs',
  'submitted in s',
  'all finished in s',
  'runs/s',
  'min–max',
  'build ms',
  'slots busy',
  'GET /api/runs ms',
  'p95',
  '?limit=200 ms',
  'p95',
  'poll under load ms',
];

interface Options {
  pushes: number;
  runs: number;
  rounds: number;
}

interface Figure {
  label: string;
  /** The sample's field, also the figure's key in the JSON line. */
  key: keyof PushSample;
}

/** Push → first build command: the whole, then its steps in order. */
const PUSH_FIGURES: readonly Figure[] = [
  { label: 'git push → first build command', key: 'pushToFirstCommandMs' },
  { label: '  git push → run created', key: 'pushToRunCreatedMs' },
  { label: '  run created → build stage running', key: 'runCreatedToBuildRunningMs' },
  {
    label: '  build stage running → "Running command" logged',
    key: 'buildRunningToCommandLoggedMs',
  },
  {
    label: '  "Running command" → bash runs it',
    key: 'commandLoggedToCommandRunningMs',
  },
  { label: 'git push (spawn → exit)', key: 'gitPushMs' },
  { label: '  run created → git push exited', key: 'runCreatedToPushExitMs' },
  { label: 'git push exit → first build command', key: 'pushExitToFirstCommandMs' },
];

const STAGE_FIGURES: readonly Figure[] = [
  { label: 'run created → source stage succeeded', key: 'runCreatedToSourceSucceededMs' },
  {
    label: 'source stage succeeded → build stage running',
    key: 'sourceSucceededToBuildRunningMs',
  },
  {
    label: 'build stage succeeded → run finished',
    key: 'buildSucceededToRunFinishedMs',
  },
  { label: 'build stage (running → succeeded)', key: 'buildStageMs' },
  { label: '  build (summary durationMs)', key: 'buildMs' },
  { label: '    DOWNLOAD_SOURCE', key: 'downloadSourceMs' },
  { label: '    FINALIZING', key: 'finalizingMs' },
  { label: '  stage time outside the build', key: 'stageOutsideBuildMs' },
  { label: 'whole run (created → finished)', key: 'runMs' },
];

const controller = interruptController();
await runInterruptible(
  controller,
  () => main(parseOptions()),
  'servers stopped, temp folder removed',
);

async function main(options: Options): Promise<void> {
  const { pushes, runs, rounds } = options;
  const machine = describeMachine();
  await ensureCliBuilt();
  const token = `phx_bench-${randomBytes(16).toString('hex')}`;
  const results = await withTempDirectory('phoenix-bench-pipeline-', async (directory) => {
    const scratchHome = join(directory, 'scratch-home');
    await mkdir(scratchHome);
    const server = { adminToken: token, scratchHome, signal: controller.signal };
    const home = join(directory, 'push-home');
    const samples = await withServer({ ...server, home }, ({ url }) =>
      measurePushes({
        api: new PhoenixApi(url, token),
        token,
        home,
        work: join(directory, 'push-work'),
        scratchHome,
        pushes,
      }),
    );
    const throughput = await measureThroughputRounds({ directory, token, server, runs, rounds });
    return { samples, throughput };
  });
  report(machine, options, results);
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      pushes: { type: 'string', default: String(DEFAULT_PUSHES) },
      runs: { type: 'string', default: String(DEFAULT_RUNS) },
      rounds: { type: 'string', default: String(DEFAULT_ROUNDS) },
    },
  });
  return {
    pushes: positiveInteger('--pushes', values.pushes),
    runs: positiveInteger('--runs', values.runs),
    rounds: positiveInteger('--rounds', values.rounds),
  };
}

function report(
  machine: Machine,
  options: Options,
  results: { samples: PushSample[]; throughput: ThroughputRow[] },
): void {
  const { samples, throughput } = results;
  console.log('Pipeline: control plane as its own `phoenix server` process on 127.0.0.1');
  console.log(formatMachine(machine));
  console.log('');
  console.log(
    `Push → first build command: ${options.pushes} pushes after 1 warm-up, one at a time, execution-mode parallel`,
  );
  console.log(
    formatTable(['milliseconds', 'median', 'p95', 'min', 'max'], figureRows(samples, PUSH_FIGURES)),
  );
  const early = samples.filter((sample) => sample.pushExitToFirstCommandMs < 0).length;
  console.log(
    `The first build command ran before git push exited in ${early} of ${samples.length} pushes`,
  );
  console.log('');
  console.log(`Stage-to-stage overhead: the same ${samples.length} runs`);
  console.log(
    formatTable(
      ['milliseconds', 'median', 'p95', 'min', 'max'],
      figureRows(samples, STAGE_FIGURES),
    ),
  );
  console.log('');
  console.log(
    `Sustained noop runs: ${options.runs} manual triggers, parallel mode, one \`true\` command each; median of ${options.rounds} rounds, cases interleaved`,
  );
  console.log(formatTable(THROUGHPUT_HEADER, throughput.map(throughputRow)));
  console.log(
    JSON.stringify({
      bench: 'pipeline',
      machine,
      pushes: options.pushes,
      throughputRounds: options.rounds,
      push: summaryOf(samples, PUSH_FIGURES),
      stages: summaryOf(samples, STAGE_FIGURES),
      firstCommandBeforePushExit: early,
      throughput: throughput.map((row) => ({
        ...row,
        submitMs: round(row.submitMs),
        finishMs: round(row.finishMs),
        runsPerSecond: round(row.runsPerSecond),
        runsPerSecondMin: round(row.runsPerSecondMin),
        runsPerSecondMax: round(row.runsPerSecondMax),
        buildMedianMs: round(row.buildMedianMs),
        slotBusyShare: round(row.slotBusyShare),
        listMs: roundLatency(row.listMs),
        listLargeMs: roundLatency(row.listLargeMs),
        pollUnderLoadMs: roundLatency(row.pollUnderLoadMs),
      })),
    }),
  );
}

function figureRows(samples: readonly PushSample[], figures: readonly Figure[]): Cell[][] {
  return figures.map(({ label, key }) => {
    const values = samples.map((sample) => sample[key]);
    return [
      label,
      ms(median(values)),
      ms(percentile(values, 95)),
      ms(Math.min(...values)),
      ms(Math.max(...values)),
    ];
  });
}

/** Each figure's median and p95 by its key, for the JSON line. */
function summaryOf(
  samples: readonly PushSample[],
  figures: readonly Figure[],
): Record<string, { median: number; p95: number }> {
  return Object.fromEntries(
    figures.map(({ key }) => {
      const values = samples.map((sample) => sample[key]);
      return [key, { median: round(median(values)), p95: round(percentile(values, 95)) }];
    }),
  );
}

function throughputRow(row: ThroughputRow): Cell[] {
  return [
    row.buildConcurrency === null ? DEFAULT_SLOTS_LABEL : String(row.buildConcurrency),
    row.recordedRuns,
    (row.submitMs / 1000).toFixed(2),
    (row.finishMs / 1000).toFixed(2),
    row.runsPerSecond.toFixed(1),
    `${row.runsPerSecondMin.toFixed(1)}–${row.runsPerSecondMax.toFixed(1)}`,
    ms(row.buildMedianMs),
    `${Math.round(row.slotBusyShare * 100)}%`,
    ms(row.listMs.median),
    ms(row.listMs.p95),
    ms(row.listLargeMs.median),
    ms(row.listLargeMs.p95),
    ms(row.pollUnderLoadMs.median),
  ];
}

function roundLatency(latency: { median: number; p95: number }): { median: number; p95: number } {
  return { median: round(latency.median), p95: round(latency.p95) };
}

function ms(value: number): string {
  return value.toFixed(1);
}
