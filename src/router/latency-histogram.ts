/**
 * Fixed latency buckets (upper bounds in ms), shared by the running totals, the rolling
 * window and the Prometheus histogram, so that all three always agree.
 */
export const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000] as const;

/** Per-bucket counts have one more slot than there are bounds: the overflow (+Inf). */
export const LATENCY_SLOTS = LATENCY_BUCKETS_MS.length + 1;

/** The slot `ms` falls in: the first bound it does not exceed, or the overflow slot. */
export function latencySlot(ms: number): number {
  for (let slot = 0; slot < LATENCY_BUCKETS_MS.length; slot++) {
    if (ms <= (LATENCY_BUCKETS_MS[slot] ?? Infinity)) return slot;
  }
  return LATENCY_BUCKETS_MS.length;
}

/** Per-slot counts as a cumulative histogram over the finite bounds (the total is the +Inf count). */
export function cumulativeLatency(counts: ArrayLike<number>): { le: number; count: number }[] {
  let running = 0;
  return LATENCY_BUCKETS_MS.map((le, slot) => {
    running += counts[slot] ?? 0;
    return { le, count: running };
  });
}

/**
 * The q-quantile (0..1) estimated from per-slot counts by linear interpolation inside the
 * bucket, as Prometheus' histogram_quantile does; the overflow slot answers the largest
 * bound. Undefined when there are no observations.
 */
export function latencyQuantile(counts: ArrayLike<number>, q: number): number | undefined {
  let total = 0;
  for (let slot = 0; slot < LATENCY_SLOTS; slot++) total += counts[slot] ?? 0;
  if (total === 0) return undefined;
  const rank = Math.min(Math.max(q, 0), 1) * total;
  let below = 0;
  for (let slot = 0; slot < LATENCY_BUCKETS_MS.length; slot++) {
    const count = counts[slot] ?? 0;
    if (count > 0 && below + count >= rank) {
      const lower = slot === 0 ? 0 : (LATENCY_BUCKETS_MS[slot - 1] ?? 0);
      const upper = LATENCY_BUCKETS_MS[slot] ?? lower;
      return lower + ((upper - lower) * (rank - below)) / count;
    }
    below += count;
  }
  return LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1];
}
