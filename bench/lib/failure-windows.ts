import type { StepSpan } from './deployment-client.js';
import type { FailureBucket, SuccessGap } from './load-protocol.js';
import type { LogRecord } from './logged-process.js';

/** Where a moment of the run falls when no deployment step or kill covers it. */
export const STEADY = 'steady';
export const KILL = 'kill';

/**
 * A stretch of the run that failures and router log lines are attributed to: a kill (from the
 * SIGKILL until shortly after the instance is back) or one step of one deployment.
 */
export interface TimeWindow {
  /** `kill 2`, `deployment 7 → #1: bake`. */
  label: string;
  /** `kill`, or the step's kind (`start`, `bake`, `drain-previous`, `rollback`...). */
  phase: string;
  from: number;
  to: number;
}

/** Kills first: a kill's window wins over a deployment step it overlaps. */
export function runWindows(
  deployments: readonly { number: number; releaseNumber: number; spans: readonly StepSpan[] }[],
  kills: readonly { number: number; from: number; to: number }[],
): TimeWindow[] {
  return [
    ...kills.map((kill) => ({ label: `kill ${kill.number}`, phase: KILL, ...kill })),
    ...deployments.flatMap((deployment) =>
      deployment.spans.map((span) => ({
        label: `deployment ${deployment.number} → #${deployment.releaseNumber}: ${span.kind}`,
        phase: span.kind,
        from: span.from,
        to: span.to,
      })),
    ),
  ];
}

/** The first window holding `time`; windows include both ends (times are whole ms). */
export function locate(time: number, windows: readonly TimeWindow[]): TimeWindow | undefined {
  return windows.find((window) => time >= window.from && time <= window.to);
}

export interface Attributed {
  label: string;
  phase: string;
  kind: string;
  count: number;
}

/**
 * The load generator's failures, each slice placed at its middle, grouped by the window
 * they fall in and their kind (`ECONNRESET`, `HTTP 502`...), in time order.
 */
export function attributeFailures(
  buckets: readonly FailureBucket[],
  bucketMs: number,
  windows: readonly TimeWindow[],
): Attributed[] {
  const rows = new Map<string, Attributed & { first: number }>();
  for (const bucket of [...buckets].sort((a, b) => a.start - b.start)) {
    const window = locate(bucket.start + bucketMs / 2, windows);
    const label = window?.label ?? STEADY;
    const key = `${label}\0${bucket.kind}`;
    const row = rows.get(key) ?? {
      label,
      phase: window?.phase ?? STEADY,
      kind: bucket.kind,
      count: 0,
      first: bucket.start,
    };
    row.count += bucket.count;
    rows.set(key, row);
  }
  return [...rows.values()]
    .sort((a, b) => a.first - b.first)
    .map(({ label, phase, kind, count }) => ({ label, phase, kind, count }));
}

/** Sums by phase, then kind: `{ bake: { ECONNRESET: 3 } }`. */
export function countByPhase(rows: readonly Attributed[]): Record<string, Record<string, number>> {
  const counts: Record<string, Record<string, number>> = {};
  for (const row of rows) {
    const byKind = (counts[row.phase] ??= {});
    byKind[row.kind] = (byKind[row.kind] ?? 0) + row.count;
  }
  return counts;
}

/** The router's debug line for a request it sent again to another target after a failure. */
export const RETRY_MESSAGE = 'request retried on another target';

/** Router retries grouped like failures, by window and socket error code. */
export function attributeRetries(
  records: readonly LogRecord[],
  windows: readonly TimeWindow[],
): Attributed[] {
  const rows = new Map<string, Attributed>();
  for (const record of records) {
    if (record.msg !== RETRY_MESSAGE) continue;
    const window = locate(record.time, windows);
    const label = window?.label ?? STEADY;
    const kind = typeof record['code'] === 'string' ? record['code'] : 'unknown';
    const key = `${label}\0${kind}`;
    const row = rows.get(key) ?? { label, phase: window?.phase ?? STEADY, kind, count: 0 };
    row.count++;
    rows.set(key, row);
  }
  return [...rows.values()];
}

/** Warnings and errors (pino level 40 and up), each with the window it falls in. */
export function problemsOf(
  records: readonly LogRecord[],
  windows: readonly TimeWindow[],
): { record: LogRecord; label: string }[] {
  return records
    .filter((record) => record.level >= 40)
    .map((record) => ({ record, label: locate(record.time, windows)?.label ?? STEADY }));
}

export interface Stall {
  label: string;
  phase: string;
  from: number;
  ms: number;
}

/**
 * Stretches of at least `minMs` with no 2xx on any connection (the load generator's gaps),
 * each placed at its middle: slow answers rather than failures, but what a client waits.
 */
export function stallsOf(
  gaps: readonly SuccessGap[],
  minMs: number,
  windows: readonly TimeWindow[],
): Stall[] {
  return gaps
    .filter((gap) => gap.to - gap.from >= minMs)
    .map((gap) => {
      const window = locate((gap.from + gap.to) / 2, windows);
      return {
        label: window?.label ?? STEADY,
        phase: window?.phase ?? STEADY,
        from: gap.from,
        ms: gap.to - gap.from,
      };
    });
}
