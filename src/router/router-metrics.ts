import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { LATENCY_BUCKETS_MS } from './latency-histogram.js';
import type { HealthState } from './traffic-router.js';

export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx';

/** What the gauges show when scraped: read from the data plane, never kept twice. */
export interface GroupSample {
  group: string;
  targets: Record<HealthState, number>;
  inFlight: number;
}

const HEALTH_STATES: readonly HealthState[] = ['initial', 'healthy', 'unhealthy', 'draining'];
const STATUS_CLASSES: readonly StatusClass[] = ['1xx', '2xx', '3xx', '4xx', '5xx'];

/** What a group's counters report to Prometheus. */
export interface GroupSeries {
  countResponse(statusClass: StatusClass, latencyMs: number): void;
  countUpstreamError(): void;
  countRetry(): void;
}

/**
 * The router's Prometheus metrics, in a registry of its own (never prom-client's global
 * one), so that two routers in one process, as in tests, neither share nor clash. Series
 * are labelled by target group and removed with the group.
 */
export class RouterMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'target_group' | 'status_class'>;
  private readonly upstreamErrors: Counter<'target_group'>;
  private readonly retries: Counter<'target_group'>;
  private readonly latency: Histogram<'target_group'>;
  private readonly targets: Gauge<'target_group' | 'state'>;
  private readonly inFlight: Gauge<'target_group'>;

  constructor(sample: () => readonly GroupSample[], options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.processMetrics === true) collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'phoenix_router_requests_total',
      help: 'Requests answered through the router, by target group and status class (router-made 502/503/504 included).',
      labelNames: ['target_group', 'status_class'],
      registers,
    });
    this.upstreamErrors = new Counter({
      name: 'phoenix_router_upstream_errors_total',
      help: 'Attempts to a target that failed without a complete response: refused, reset, cut off.',
      labelNames: ['target_group'],
      registers,
    });
    this.retries = new Counter({
      name: 'phoenix_router_retries_total',
      help: 'Requests sent again to another target after an attempt on this group failed.',
      labelNames: ['target_group'],
      registers,
    });
    this.latency = new Histogram({
      name: 'phoenix_router_response_latency_seconds',
      help: 'Time from the request reaching the router to the response headers leaving it.',
      labelNames: ['target_group'],
      buckets: LATENCY_BUCKETS_MS.map((ms) => ms / 1000),
      registers,
    });
    const targets: Gauge<'target_group' | 'state'> = new Gauge({
      name: 'phoenix_router_targets',
      help: 'Targets per target group, by health state.',
      labelNames: ['target_group', 'state'],
      registers,
      collect: () => {
        targets.reset();
        for (const group of sample()) {
          for (const state of HEALTH_STATES) {
            targets.set({ target_group: group.group, state }, group.targets[state]);
          }
        }
      },
    });
    this.targets = targets;
    const inFlight: Gauge<'target_group'> = new Gauge({
      name: 'phoenix_router_in_flight_requests',
      help: 'Requests (and upgraded connections) being served by each target group now.',
      labelNames: ['target_group'],
      registers,
      collect: () => {
        inFlight.reset();
        for (const group of sample()) inFlight.set({ target_group: group.group }, group.inFlight);
      },
    });
    this.inFlight = inFlight;
  }

  /**
   * One group's series, with their labels bound once: counting a request then costs no
   * label hashing (prom-client hashes a label object on every unbound call).
   */
  forGroup(group: string): GroupSeries {
    const labels = { target_group: group };
    const requests = {} as Record<StatusClass, { inc(): void }>;
    for (const statusClass of STATUS_CLASSES) {
      requests[statusClass] = this.requests.labels({ ...labels, status_class: statusClass });
    }
    const latency = this.latency.labels(labels);
    const upstreamErrors = this.upstreamErrors.labels(labels);
    const retries = this.retries.labels(labels);
    return {
      countResponse: (statusClass, latencyMs) => {
        requests[statusClass].inc();
        latency.observe(latencyMs / 1000);
      },
      countUpstreamError: () => upstreamErrors.inc(),
      countRetry: () => retries.inc(),
    };
  }

  removeGroup(group: string): void {
    for (const statusClass of STATUS_CLASSES) {
      this.requests.remove({ target_group: group, status_class: statusClass });
    }
    this.upstreamErrors.remove({ target_group: group });
    this.retries.remove({ target_group: group });
    this.latency.remove({ target_group: group });
    for (const state of HEALTH_STATES) this.targets.remove({ target_group: group, state });
    this.inFlight.remove({ target_group: group });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
