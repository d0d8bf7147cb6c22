import { mkdir } from 'node:fs/promises';
import { readCpuProfile, type ProfileSummary } from './cpu-profile.js';
import { measureUrl, type ThroughputOptions } from './proxy-throughput.js';
import type { Ownership } from './router-fleet.js';
import { startRouterProcess, type RouterLauncher, type RouterProcess } from './router-launcher.js';
import type { LoadResult } from './wrk.js';

export interface RouterProfile {
  /** The load measured while the profiler ran (it slows the router somewhat). */
  result: LoadResult;
  summary: ProfileSummary;
  /** The router running again without the profiler, on the same state directory. */
  router: RouterProcess;
}

/**
 * Restarts the router under `node --cpu-prof` on the same state directory, measures it once
 * as the throughput table does, stops it with SIGTERM (the profile is written at exit), and
 * starts it again without the profiler.
 */
export async function profileRouter(
  options: {
    router: RouterProcess;
    launcher: RouterLauncher;
    home: string;
    profileDirectory: string;
    token: string;
    url: string;
    load: ThroughputOptions;
  } & Ownership,
): Promise<RouterProfile> {
  const { launcher, home, token, signal, processes } = options;
  await mkdir(options.profileDirectory, { recursive: true });
  await options.router.process.stop();
  const profiled = await startRouterProcess({
    launcher,
    home,
    token,
    signal,
    processes,
    cpuProfileDirectory: options.profileDirectory,
  });
  const result = await measureUrl(
    { url: options.url, pids: () => [profiled.process.pid ?? 0] },
    options.load,
  );
  await profiled.process.stop();
  const summary = await readCpuProfile(options.profileDirectory);
  const router = await startRouterProcess({ launcher, home, token, signal, processes });
  return { result, summary, router };
}
