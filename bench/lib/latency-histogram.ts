/** Sub-buckets per power of two: a recorded value is known to within about 1%. */
const SUB_BUCKETS = 64;
/** Values from 1 µs up to 2^30 µs (about 18 minutes); larger ones land in the last bucket. */
const OCTAVES = 30;

/**
 * A log-linear latency histogram in microseconds, as HdrHistogram keeps one: fixed memory
 * whatever the number of samples, percentiles within about 1%, and two histograms merge
 * by adding their counts (so a load generator can send its counts to the bench).
 */
export class LatencyHistogram {
  readonly counts: number[];
  total = 0;

  constructor(counts?: readonly number[]) {
    this.counts =
      counts === undefined ? new Array<number>(SUB_BUCKETS * OCTAVES + 1).fill(0) : [...counts];
    this.total = this.counts.reduce((sum, count) => sum + count, 0);
  }

  record(microseconds: number): void {
    const index = bucketOf(microseconds);
    this.counts[index] = (this.counts[index] ?? 0) + 1;
    this.total++;
  }

  /** The `p`-th percentile (0–100) in milliseconds: the upper edge of its bucket. */
  percentileMs(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (const [index, count] of this.counts.entries()) {
      seen += count;
      if (seen >= rank) return upperEdge(index) / 1000;
    }
    return upperEdge(this.counts.length - 1) / 1000;
  }
}

function bucketOf(microseconds: number): number {
  if (microseconds < 1) return 0;
  const index = Math.floor(Math.log2(microseconds) * SUB_BUCKETS);
  return Math.min(index, SUB_BUCKETS * OCTAVES);
}

function upperEdge(index: number): number {
  return 2 ** ((index + 1) / SUB_BUCKETS);
}
