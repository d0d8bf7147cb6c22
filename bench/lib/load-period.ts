import { setTimeout as sleep } from 'node:timers/promises';
import { cpuBetween, sampleCpu, type CpuShares } from './cpu-accounting.js';
import { LoadRun } from './load.js';
import type { LoadReport } from './load-protocol.js';

/** What the load generator saw during one period, and who used the CPU meanwhile. */
export interface LoadPeriod {
  report: LoadReport;
  cpu: CpuShares;
}

/**
 * Starts bench/lib/load-generator.ts on `url`, warms up, then counts from zero while `body`
 * runs, and stops it. A failure of `body` does not lose what was measured: it comes back as
 * `error` with the period so far (an abort of the bench is thrown, as there is nothing to
 * report then).
 */
export async function underLoad(
  options: {
    url: string;
    connections: number;
    failureBucketMs: number;
    warmupMs: number;
    pids: { router: number; server: number };
    /** Count answers by status and body too (LoadReport.answers). */
    answers?: boolean;
    signal: AbortSignal;
  },
  body: () => Promise<void>,
): Promise<{ period: LoadPeriod; error: unknown }> {
  const { signal } = options;
  const load = await LoadRun.start({
    url: options.url,
    connections: options.connections,
    failureBucketMs: options.failureBucketMs,
    ...(options.answers === true ? { answers: true } : {}),
    signal,
  });
  let error: unknown;
  let cpu: CpuShares | undefined;
  try {
    await sleep(options.warmupMs, undefined, { signal });
    load.reset();
    const from = await sampleCpu(options.pids);
    try {
      await body();
    } catch (caught) {
      if (signal.aborted) throw caught;
      error = caught;
    }
    cpu = cpuBetween(from, await sampleCpu(options.pids));
  } catch (caught) {
    await load.stop().catch(() => undefined);
    throw caught;
  }
  return { period: { report: await load.stop(), cpu }, error };
}
