import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';

const execFileAsync = promisify(execFile);

export const WRK_INSTALL_HINT = 'install it with `apt-get install -y wrk`';

/** wrk's `done` hook prints the summary as one JSON line after this marker. */
const MARKER = 'WRK_RESULT';

// Latencies are in microseconds. wrk counts a status of 400 or more as `status`; the
// upstreams answer 200 only, so any such status came from the proxy.
const SUMMARY_SCRIPT = `done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '${MARKER} {"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50Us":%d,"p99Us":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;

const summarySchema = z.object({
  requests: z.number(),
  durationUs: z.number(),
  connect: z.number(),
  read: z.number(),
  write: z.number(),
  status: z.number(),
  timeout: z.number(),
  p50Us: z.number(),
  p99Us: z.number(),
});

/** One load measurement, whichever generator made it. */
export interface LoadResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Non-2xx answers plus socket errors (refused, reset, timed out). */
  errors: number;
}

export async function findWrk(): Promise<string | undefined> {
  try {
    const { stdout } = await execFileAsync('sh', ['-c', 'command -v wrk']);
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Writes the Lua hook wrk needs into `directory`; pass its path to `runWrk`. */
export async function writeWrkScript(directory: string): Promise<string> {
  const path = join(directory, 'wrk-summary.lua');
  await writeFile(path, SUMMARY_SCRIPT);
  return path;
}

/**
 * `wrk` for `seconds` against `url` with `connections` keep-alive connections. wrk itself
 * reconnects a closed connection; every error it counts is in `errors`.
 */
export async function runWrk(options: {
  binary: string;
  script: string;
  url: string;
  connections: number;
  threads: number;
  seconds: number;
  signal: AbortSignal;
}): Promise<LoadResult> {
  const args = [
    `-t${options.threads}`,
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    '--timeout',
    '10s',
    '-s',
    options.script,
    options.url,
  ];
  // execFile kills wrk (by its pid) when the signal aborts.
  const { stdout } = await execFileAsync(options.binary, args, { signal: options.signal });
  const line = stdout.split('\n').find((text) => text.startsWith(`${MARKER} `));
  if (line === undefined) throw new Error(`wrk printed no summary:\n${stdout}`);
  const summary = summarySchema.parse(JSON.parse(line.slice(MARKER.length + 1)));
  const seconds = summary.durationUs / 1e6;
  return {
    requests: summary.requests,
    seconds,
    requestsPerSecond: summary.requests / seconds,
    p50Ms: summary.p50Us / 1000,
    p99Ms: summary.p99Us / 1000,
    errors: summary.connect + summary.read + summary.write + summary.status + summary.timeout,
  };
}
