import type { Clock } from '../shared/clock.js';
import { cumulativeLatency, LATENCY_SLOTS, latencySlot } from './latency-histogram.js';
import { RollingWindow, type WindowBucket, type WindowField } from './rolling-window.js';
import type { GroupSeries, RouterMetrics, StatusClass } from './router-metrics.js';
import type { TargetGroupCounters } from './traffic-router.js';

const STATUS_FIELDS: Record<StatusClass, WindowField | undefined> = {
  '1xx': undefined,
  '2xx': 'status2xx',
  '3xx': 'status3xx',
  '4xx': 'status4xx',
  '5xx': 'status5xx',
};

export function statusClassOf(status: number): StatusClass {
  if (status >= 500) return '5xx';
  if (status >= 400) return '4xx';
  if (status >= 300) return '3xx';
  if (status >= 200) return '2xx';
  return '1xx';
}

/**
 * One target group's traffic: running totals since the router started (the control plane
 * reads them through the admin API), a rolling window of WINDOW_BUCKET_MS slices over the
 * last WINDOW_SPAN_MS (for alarms that judge periods of a second or less) and the
 * Prometheus series. A response is counted when its headers leave the router, with the
 * latency up to then (an ALB's target response time, which stays meaningful for streams).
 */
export class GroupCounters {
  private readonly totals: TargetGroupCounters = {
    requests: 0,
    status2xx: 0,
    status3xx: 0,
    status4xx: 0,
    status5xx: 0,
    upstreamErrors: 0,
    retries: 0,
    latencyMs: [],
  };
  private readonly latency = new Float64Array(LATENCY_SLOTS);
  private readonly rolling: RollingWindow;
  private readonly series: GroupSeries;

  constructor(
    readonly group: string,
    clock: Clock,
    metrics: RouterMetrics,
  ) {
    this.rolling = new RollingWindow(clock);
    this.series = metrics.forGroup(group);
  }

  response(status: number, latencyMs: number): void {
    const statusClass = statusClassOf(status);
    const field = STATUS_FIELDS[statusClass];
    const slot = latencySlot(latencyMs);
    this.totals.requests++;
    if (field !== undefined) this.totals[field]++;
    this.latency[slot] = (this.latency[slot] ?? 0) + 1;
    this.rolling.addResponse(field, slot);
    this.series.countResponse(statusClass, latencyMs);
  }

  upstreamError(): void {
    this.totals.upstreamErrors++;
    this.rolling.add('upstreamErrors');
    this.series.countUpstreamError();
  }

  retry(): void {
    this.totals.retries++;
    this.rolling.add('retries');
    this.series.countRetry();
  }

  /** Totals since the router started; `latencyMs` is cumulative and its +Inf count is `requests`. */
  snapshot(): TargetGroupCounters {
    return { ...this.totals, latencyMs: cumulativeLatency(this.latency) };
  }

  /** The rolling window's slices since `sinceMs` (default: all of it), oldest first. */
  window(sinceMs?: number): WindowBucket[] {
    return this.rolling.buckets(sinceMs);
  }
}
