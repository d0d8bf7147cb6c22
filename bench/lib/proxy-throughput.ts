import { setTimeout as sleep } from 'node:timers/promises';
import { LoadRun, loadResultOf } from './load.js';
import { cpuSeconds } from './process-cpu.js';
import { median } from './stats.js';
import { runWrk, type LoadResult } from './wrk.js';

/** Who makes the load: wrk when it is installed, else bench/lib/load-generator.ts. */
export type Generator =
  { kind: 'wrk'; binary: string; script: string; threads: number } | { kind: 'node' };

export interface Variant {
  name: string;
  url: string;
  /** The processes that serve the URL (with their children): their CPU time is measured. */
  pids: () => readonly number[];
}

/** A load result with the CPU time the serving processes used during it. */
export interface Measurement extends LoadResult {
  /** CPU seconds of the serving processes; undefined where /proc cannot be read. */
  cpuSeconds: number | undefined;
}

export interface ThroughputOptions {
  generator: Generator;
  connections: number;
  warmupSeconds: number;
  seconds: number;
  signal: AbortSignal;
}

/** One variant's figures: each the median over the rounds, with every round kept. */
export interface VariantFigures {
  name: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** CPU microseconds the serving processes spent per request. */
  cpuPerRequestUs: number | undefined;
  /** CPU seconds per second: 1.0 is one core kept busy. */
  coresBusy: number | undefined;
  rounds: Measurement[];
}

/**
 * Measures every variant once per round, in an order that rotates from round to round so
 * that a burst of other work on the machine does not always hit the same variant. Each
 * measurement is preceded by an unmeasured warm-up on the same URL.
 */
export async function measureVariants(
  variants: readonly Variant[],
  rounds: number,
  options: ThroughputOptions,
  onResult: (round: number, variant: Variant, result: Measurement) => void = () => undefined,
): Promise<VariantFigures[]> {
  const results: Measurement[][] = variants.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (let step = 0; step < variants.length; step++) {
      const index = (round + step) % variants.length;
      const variant = variants[index];
      if (variant === undefined) continue;
      const result = await measureUrl(variant, options);
      results[index]?.push(result);
      onResult(round, variant, result);
    }
  }
  return variants.map((variant, index) => {
    const rows = results[index] ?? [];
    const cpu = rows.flatMap((row) => (row.cpuSeconds === undefined ? [] : [row]));
    const measuredCpu = cpu.length === rows.length && rows.length > 0;
    return {
      name: variant.name,
      requestsPerSecond: median(rows.map((row) => row.requestsPerSecond)),
      p50Ms: median(rows.map((row) => row.p50Ms)),
      p99Ms: median(rows.map((row) => row.p99Ms)),
      errors: rows.reduce((sum, row) => sum + row.errors, 0),
      cpuPerRequestUs: measuredCpu
        ? median(cpu.map((row) => ((row.cpuSeconds ?? 0) * 1e6) / Math.max(1, row.requests)))
        : undefined,
      coresBusy: measuredCpu
        ? median(cpu.map((row) => (row.cpuSeconds ?? 0) / row.seconds))
        : undefined,
      rounds: rows,
    };
  });
}

/** A warm-up, then one measurement of `seconds`, with the CPU time the variant used in it. */
export async function measureUrl(
  variant: Pick<Variant, 'url' | 'pids'>,
  options: ThroughputOptions,
): Promise<Measurement> {
  const { generator, connections, signal } = options;
  const { url } = variant;
  if (generator.kind === 'wrk') {
    const wrk = { ...generator, url, connections, signal };
    await runWrk({ ...wrk, seconds: options.warmupSeconds });
    const before = await cpuSeconds(variant.pids());
    const result = await runWrk({ ...wrk, seconds: options.seconds });
    return { ...result, cpuSeconds: cpuSince(before, await cpuSeconds(variant.pids())) };
  }
  const load = await LoadRun.start({ url, connections, signal });
  await sleep(options.warmupSeconds * 1000, undefined, { signal });
  load.reset();
  const before = await cpuSeconds(variant.pids());
  await sleep(options.seconds * 1000, undefined, { signal });
  const after = await cpuSeconds(variant.pids());
  return { ...loadResultOf(await load.stop()), cpuSeconds: cpuSince(before, after) };
}

function cpuSince(before: number | undefined, after: number | undefined): number | undefined {
  return before === undefined || after === undefined ? undefined : after - before;
}
