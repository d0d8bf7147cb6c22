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
  type AnswerSeen,
  type FailureBucket,
  type LoadMessage,
  type LoadReport,
  type SuccessGap,
} from './load-protocol.js';

/** With `answers`, what of a body names its answer. */
const ANSWER_KEY_CHARS = 64;

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
let answers = new Map<string, AnswerSeen>();

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
      let body = '';
      response.once('end', () => {
        if (config.answers === true) answer(`${status} ${body}`, now());
        resolve(status >= 200 && status < 300 ? 'ok' : `HTTP ${status}`);
      });
      response.once('error', (error: NodeJS.ErrnoException) =>
        resolve(error.code ?? error.message),
      );
      if (config.answers !== true) {
        response.resume();
        return;
      }
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (body.length < ANSWER_KEY_CHARS) body = (body + chunk).slice(0, ANSWER_KEY_CHARS);
      });
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

function answer(key: string, at: number): void {
  const seen = answers.get(key);
  if (seen === undefined) {
    answers.set(key, { count: 1, first: at, last: at });
    return;
  }
  seen.count++;
  seen.last = at;
}

function reset(): void {
  startedAt = now();
  histogram = new LatencyHistogram();
  successes = 0;
  failures = new Map();
  buckets = new Map();
  gaps = [];
  lastSuccessAt = undefined;
  answers = new Map();
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
    ...(config.answers === true ? { answers: Object.fromEntries(answers) } : {}),
  };
}

function now(): number {
  return performance.timeOrigin + performance.now();
}
