// A keep-alive HTTP load generator for the router bench, in a process of its own so that it
// shares no event loop with what it measures. Driven by bench/lib/load.ts over the fork IPC
// channel: it starts at once, `reset` zeroes what it counted, `stop` ends it and it sends
// its result back.
//
// Every connection sends GET requests one after another. A failure is counted (by kind)
// and the next request goes at once: a refused connection is retried immediately, which
// is what finds the moment a restarted proxy listens again.
import { Agent, request } from 'node:http';
import { LatencyHistogram } from './latency-histogram.js';
import {
  loadConfigSchema,
  type FailureBucket,
  type LoadMessage,
  type LoadReport,
  type SuccessGap,
} from './load-protocol.js';

const config = loadConfigSchema.parse(JSON.parse(process.argv[2] ?? '{}'));
const agent = new Agent({ keepAlive: true, maxSockets: config.connections });
const url = new URL(config.url);

let stopping = false;
let startedAt = now();
let histogram = new LatencyHistogram();
let successes = 0;
let failures = new Map<string, number>();
let buckets = new Map<string, FailureBucket>();
let gaps: SuccessGap[] = [];
let lastSuccessAt: number | undefined;

process.on('message', (message: LoadMessage) => {
  if (message.type === 'reset') reset();
  if (message.type === 'stop') stopping = true;
});

const workers = Array.from({ length: config.connections }, () => work());
process.send?.({ type: 'started' } satisfies LoadMessage);
await Promise.all(workers);
agent.destroy();
process.send?.({ type: 'result', report: report() } satisfies LoadMessage, () => process.exit(0));

async function work(): Promise<void> {
  while (!stopping) {
    const sentAt = now();
    const outcome = await send();
    const at = now();
    if (outcome === 'ok') success(at, sentAt);
    else failure(outcome, at);
  }
}

/** One GET; 'ok' for a 2xx with its whole body read, otherwise what went wrong. */
function send(): Promise<string> {
  return new Promise((resolve) => {
    const req = request({
      agent,
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      timeout: config.timeoutMs,
    });
    req.once('response', (response) => {
      const status = response.statusCode ?? 0;
      response.once('end', () => resolve(status >= 200 && status < 300 ? 'ok' : `HTTP ${status}`));
      response.once('error', (error: NodeJS.ErrnoException) =>
        resolve(error.code ?? error.message),
      );
      response.resume();
    });
    req.once('timeout', () =>
      req.destroy(Object.assign(new Error('timed out'), { code: 'TIMEOUT' })),
    );
    req.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.end();
  });
}

function success(at: number, sentAt: number): void {
  successes++;
  histogram.record((at - sentAt) * 1000);
  if (lastSuccessAt !== undefined && at - lastSuccessAt >= config.gapThresholdMs) {
    gaps.push({ from: lastSuccessAt, to: at });
  }
  lastSuccessAt = at;
}

function failure(kind: string, at: number): void {
  failures.set(kind, (failures.get(kind) ?? 0) + 1);
  const start = Math.floor(at / config.failureBucketMs) * config.failureBucketMs;
  const key = `${start} ${kind}`;
  const bucket = buckets.get(key) ?? { start, kind, count: 0 };
  bucket.count++;
  buckets.set(key, bucket);
}

function reset(): void {
  startedAt = now();
  histogram = new LatencyHistogram();
  successes = 0;
  failures = new Map();
  buckets = new Map();
  gaps = [];
  lastSuccessAt = undefined;
}

function report(): LoadReport {
  return {
    startedAt,
    stoppedAt: now(),
    successes,
    failures: Object.fromEntries(failures),
    latencyCounts: histogram.counts,
    failureBuckets: [...buckets.values()],
    gaps,
  };
}

function now(): number {
  return performance.timeOrigin + performance.now();
}
