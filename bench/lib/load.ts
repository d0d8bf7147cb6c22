import { fork, type ChildProcess } from 'node:child_process';
import { LatencyHistogram } from './latency-histogram.js';
import type { LoadConfig, LoadMessage, LoadReport } from './load-protocol.js';
import { benchScript, TSX_NODE_ARGS } from './managed-process.js';
import type { LoadResult } from './wrk.js';

/** Per-request timeout of the load generator. */
const REQUEST_TIMEOUT_MS = 10_000;
const STARTED_TIMEOUT_MS = 30_000;

/**
 * bench/lib/load-generator.ts in a process of its own, addressed by its pid: killed on an
 * abort or when the bench exits, otherwise stopped with `stop()`, which returns its report.
 */
export class LoadRun {
  private constructor(
    private readonly child: ChildProcess,
    private readonly exited: Promise<void>,
    private readonly detach: () => void,
  ) {}

  static async start(options: {
    url: string;
    connections: number;
    gapThresholdMs?: number;
    failureBucketMs?: number;
    /** Count answers by status and body too (LoadReport.answers). */
    answers?: boolean;
    signal: AbortSignal;
  }): Promise<LoadRun> {
    options.signal.throwIfAborted();
    const config: LoadConfig = {
      url: options.url,
      connections: options.connections,
      timeoutMs: REQUEST_TIMEOUT_MS,
      gapThresholdMs: options.gapThresholdMs ?? 20,
      failureBucketMs: options.failureBucketMs ?? 10,
      ...(options.answers === true ? { answers: true } : {}),
    };
    const child = fork(benchScript('load-generator.ts'), [JSON.stringify(config)], {
      execArgv: [...TSX_NODE_ARGS],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    const kill = (): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    options.signal.addEventListener('abort', kill);
    process.once('exit', kill);
    const detach = (): void => {
      options.signal.removeEventListener('abort', kill);
      process.removeListener('exit', kill);
    };
    void exited.then(detach);
    const run = new LoadRun(child, exited, detach);
    try {
      await run.next('started', STARTED_TIMEOUT_MS);
    } catch (error) {
      kill();
      await exited;
      throw error;
    }
    return run;
  }

  /** Forgets what was counted so far (the warm-up). */
  reset(): void {
    this.child.send({ type: 'reset' } satisfies LoadMessage);
  }

  /** Lets requests in flight finish, then answers what was counted since the start or reset. */
  async stop(): Promise<LoadReport> {
    try {
      this.child.send({ type: 'stop' } satisfies LoadMessage);
      const message = await this.next('result', REQUEST_TIMEOUT_MS + 5_000);
      if (message.type !== 'result') throw new Error('the load generator sent no result');
      return message.report;
    } finally {
      if (this.child.exitCode === null && this.child.signalCode === null) {
        const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
        await this.exited;
        clearTimeout(timer);
      }
      this.detach();
    }
  }

  private next(type: LoadMessage['type'], timeoutMs: number): Promise<LoadMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.child.off('message', onMessage);
        reject(new Error(`the load generator sent no ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (message: LoadMessage): void => {
        if (message.type !== type) return;
        clearTimeout(timer);
        this.child.off('message', onMessage);
        resolve(message);
      };
      this.child.on('message', onMessage);
      void this.exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`the load generator exited before it sent ${type}`));
      });
    });
  }
}

/** Failed requests of every kind. */
export function failureCount(report: LoadReport): number {
  return Object.values(report.failures).reduce((sum, count) => sum + count, 0);
}

/** The report as a throughput figure, as wrk's would be. */
export function loadResultOf(report: LoadReport): LoadResult {
  const histogram = new LatencyHistogram(report.latencyCounts);
  const seconds = (report.stoppedAt - report.startedAt) / 1000;
  return {
    requests: report.successes,
    seconds,
    requestsPerSecond: report.successes / seconds,
    p50Ms: histogram.percentileMs(50),
    p99Ms: histogram.percentileMs(99),
    errors: failureCount(report),
  };
}
