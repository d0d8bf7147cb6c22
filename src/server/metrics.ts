import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { FINISHED_RUN_STATUSES } from '../pipeline/run.js';
import type { RunEventBus } from '../pipeline/run-events.js';
import type { RunRepository } from '../store/run-repository.js';

/** Run durations from seconds to hours: builds are rarely shorter or longer. */
export const RUN_DURATION_BUCKETS_SECONDS = [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200];

export interface ServerMetricsOptions {
  runs: RunRepository;
  bus: RunEventBus;
  processMetrics: boolean;
}

/**
 * The server's Prometheus metrics, in a registry of its own (never prom-client's global
 * one), so that two servers in one process, as in tests, do not share or clash. Gauges read
 * the store when scraped, so they are right after a restart; the duration histogram
 * observes runs as they finish. Call `close()` to stop listening to the bus.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly unsubscribe: () => void;

  constructor(options: ServerMetricsOptions) {
    const { runs, bus } = options;
    const registers = [this.registry];
    const byStatus: Gauge<'status'> = new Gauge({
      name: 'phoenix_runs',
      help: 'Pipeline runs recorded in the store, by status.',
      labelNames: ['status'],
      registers,
      collect: () => {
        for (const [status, count] of Object.entries(runs.countByStatus())) {
          byStatus.set({ status }, count);
        }
      },
    });
    const queueDepth: Gauge = new Gauge({
      name: 'phoenix_queue_depth',
      help: 'Runs waiting for their turn (queued).',
      registers,
      collect: () => queueDepth.set(runs.queueDepth()),
    });
    const stagesRunning: Gauge = new Gauge({
      name: 'phoenix_stages_running',
      help: 'Stages running now, across all runs.',
      registers,
      collect: () =>
        stagesRunning.set(
          runs
            .unfinished()
            .reduce(
              (sum, run) => sum + run.stages.filter((stage) => stage.status === 'running').length,
              0,
            ),
        ),
    });
    const durations = new Histogram({
      name: 'phoenix_run_duration_seconds',
      help: 'Start-to-finish duration of runs that finished while this server ran, by status.',
      labelNames: ['status'],
      buckets: RUN_DURATION_BUCKETS_SECONDS,
      registers,
    });
    this.requests = new Counter({
      name: 'phoenix_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
    this.unsubscribe = bus.subscribe((event) => {
      if (event.type !== 'run.status' || !FINISHED_RUN_STATUSES.includes(event.status)) return;
      const { startedAt, finishedAt } = event.run;
      if (startedAt === undefined || finishedAt === undefined) return;
      const seconds = (Date.parse(finishedAt) - Date.parse(startedAt)) / 1000;
      if (Number.isFinite(seconds) && seconds >= 0)
        durations.observe({ status: event.status }, seconds);
    });
  }

  /** `route` is the route's pattern (`/api/runs/:id`), never the raw URL: labels stay few. */
  countRequest(method: string, route: string, status: number): void {
    this.requests.inc({ method, route, status: String(status) });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  close(): void {
    this.unsubscribe();
  }
}
