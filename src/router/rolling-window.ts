import type { Clock } from '../shared/clock.js';
import { LATENCY_SLOTS } from './latency-histogram.js';

/** Resolution of the rolling window: alarms can judge periods of a few hundred ms. */
export const WINDOW_BUCKET_MS = 100;
/** How far back the rolling window reaches. */
export const WINDOW_SPAN_MS = 60_000;

/** One WINDOW_BUCKET_MS slice of a target group's traffic. */
export interface WindowBucket {
  /** Start of the slice (epoch ms); the slice covers [start, start + bucketMs). */
  start: number;
  requests: number;
  status2xx: number;
  status3xx: number;
  status4xx: number;
  status5xx: number;
  upstreamErrors: number;
  retries: number;
  /** Responses per latency slot (LATENCY_BUCKETS_MS, then the overflow), not cumulative. */
  latencyMs: number[];
}

export type WindowField =
  'requests' | 'status2xx' | 'status3xx' | 'status4xx' | 'status5xx' | 'upstreamErrors' | 'retries';

const FIELDS: readonly WindowField[] = [
  'requests',
  'status2xx',
  'status3xx',
  'status4xx',
  'status5xx',
  'upstreamErrors',
  'retries',
];
const FIELD_INDEX = new Map(FIELDS.map((field, index) => [field, index]));
const LATENCY_OFFSET = FIELDS.length;
const STRIDE = FIELDS.length + LATENCY_SLOTS;

/**
 * Counts per fixed time slice in a ring of typed arrays: recording is a few array writes,
 * with no allocation per request. A slot is zeroed when the ring comes round to it again.
 */
export class RollingWindow {
  private readonly bucketMs: number;
  private readonly slots: number;
  private readonly counts: Float64Array;
  /** The slice number (epoch ms / bucketMs) each slot holds now; -1 for never used. */
  private readonly epochs: Float64Array;

  constructor(
    private readonly clock: Clock,
    options: { bucketMs?: number; spanMs?: number } = {},
  ) {
    this.bucketMs = options.bucketMs ?? WINDOW_BUCKET_MS;
    this.slots = Math.ceil((options.spanMs ?? WINDOW_SPAN_MS) / this.bucketMs);
    this.counts = new Float64Array(this.slots * STRIDE);
    this.epochs = new Float64Array(this.slots).fill(-1);
  }

  add(field: WindowField, amount = 1): void {
    const offset = this.offsetNow();
    const index = offset + (FIELD_INDEX.get(field) ?? 0);
    this.counts[index] = (this.counts[index] ?? 0) + amount;
  }

  /** Counts one response: a request, its status class (if any) and its latency slot. */
  addResponse(statusField: WindowField | undefined, latencySlot: number): void {
    const offset = this.offsetNow();
    this.bump(offset);
    if (statusField !== undefined) this.bump(offset + (FIELD_INDEX.get(statusField) ?? 0));
    this.bump(offset + LATENCY_OFFSET + latencySlot);
  }

  /**
   * Slices from `sinceMs` (default: the whole span) to now, oldest first, including empty
   * ones (a slice with no requests is missing data, for the alarm to treat). The last slice
   * is still filling.
   */
  buckets(sinceMs?: number): WindowBucket[] {
    const nowEpoch = Math.floor(this.clock.now() / this.bucketMs);
    const oldest = nowEpoch - this.slots + 1;
    const from = Math.max(oldest, Math.floor((sinceMs ?? -Infinity) / this.bucketMs));
    const result: WindowBucket[] = [];
    for (let epoch = Math.max(from, oldest); epoch <= nowEpoch; epoch++) {
      result.push(this.read(epoch));
    }
    return result;
  }

  private read(epoch: number): WindowBucket {
    const slot = epoch % this.slots;
    const live = this.epochs[slot] === epoch;
    const offset = slot * STRIDE;
    const value = (index: number): number => (live ? (this.counts[offset + index] ?? 0) : 0);
    const latencyMs = Array.from({ length: LATENCY_SLOTS }, (_, i) => value(LATENCY_OFFSET + i));
    return {
      start: epoch * this.bucketMs,
      requests: value(0),
      status2xx: value(1),
      status3xx: value(2),
      status4xx: value(3),
      status5xx: value(4),
      upstreamErrors: value(5),
      retries: value(6),
      latencyMs,
    };
  }

  private bump(index: number): void {
    this.counts[index] = (this.counts[index] ?? 0) + 1;
  }

  private offsetNow(): number {
    const epoch = Math.floor(this.clock.now() / this.bucketMs);
    const slot = epoch % this.slots;
    const offset = slot * STRIDE;
    if (this.epochs[slot] !== epoch) {
      this.counts.fill(0, offset, offset + STRIDE);
      this.epochs[slot] = epoch;
    }
    return offset;
  }
}
