import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerOptions } from './phoenix-server.js';
import { measureThroughput, type LatencyMs, type ThroughputResult } from './run-throughput.js';
import { median } from './stats.js';

/** Finished runs already in the store before a throughput measurement. */
export const RECORDED_RUNS = [0, 10, 100, 1000] as const;
/** `--build-concurrency`: the server's default (undefined), then 4. */
export const BUILD_CONCURRENCIES = [undefined, 4] as const;

interface ThroughputCase {
  buildConcurrency: number | undefined;
  recordedRuns: number;
}

const CASES: readonly ThroughputCase[] = BUILD_CONCURRENCIES.flatMap((buildConcurrency) =>
  RECORDED_RUNS.map((recordedRuns) => ({ buildConcurrency, recordedRuns })),
);

/** One row of the table: each figure's median over the rounds. */
export interface ThroughputRow extends ThroughputResult {
  rounds: number;
  runsPerSecondMin: number;
  runsPerSecondMax: number;
}

/**
 * Measures every case once per round, each in a new folder, in an order that rotates from
 * round to round, so a burst of other work on the machine does not always hit the same case.
 */
export async function measureThroughputRounds(options: {
  directory: string;
  token: string;
  server: Omit<ServerOptions, 'home' | 'buildConcurrency'>;
  runs: number;
  rounds: number;
}): Promise<ThroughputRow[]> {
  const results: ThroughputResult[][] = CASES.map(() => []);
  for (let round = 0; round < options.rounds; round++) {
    for (let step = 0; step < CASES.length; step++) {
      const index = (round + step) % CASES.length;
      const { buildConcurrency, recordedRuns } = CASES[index] ?? { recordedRuns: 0 };
      const directory = join(options.directory, `throughput-${round}-${index}`);
      await mkdir(directory);
      const result = await measureThroughput({
        directory,
        token: options.token,
        server:
          buildConcurrency === undefined ? options.server : { ...options.server, buildConcurrency },
        recordedRuns,
        runs: options.runs,
      });
      results[index]?.push(result);
      await rm(directory, { recursive: true, force: true });
    }
  }
  return results.map(combine);
}

function combine(rounds: readonly ThroughputResult[]): ThroughputRow {
  const [first] = rounds;
  if (first === undefined) throw new RangeError('no throughput rounds');
  const of = (pick: (result: ThroughputResult) => number) => median(rounds.map(pick));
  const latency = (pick: (result: ThroughputResult) => LatencyMs): LatencyMs => ({
    median: of((result) => pick(result).median),
    p95: of((result) => pick(result).p95),
  });
  const rates = rounds.map((result) => result.runsPerSecond);
  return {
    buildConcurrency: first.buildConcurrency,
    recordedRuns: first.recordedRuns,
    runs: first.runs,
    rounds: rounds.length,
    submitMs: of((result) => result.submitMs),
    finishMs: of((result) => result.finishMs),
    runsPerSecond: median(rates),
    runsPerSecondMin: Math.min(...rates),
    runsPerSecondMax: Math.max(...rates),
    buildMedianMs: of((result) => result.buildMedianMs),
    slotBusyShare: of((result) => result.slotBusyShare),
    listMs: latency((result) => result.listMs),
    listLargeMs: latency((result) => result.listLargeMs),
    pollUnderLoadMs: latency((result) => result.pollUnderLoadMs),
  };
}
