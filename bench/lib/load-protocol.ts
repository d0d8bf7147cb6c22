import { z } from 'zod';

/** What bench/lib/load-generator.ts is started with (one JSON argument). */
export const loadConfigSchema = z.object({
  url: z.string().url(),
  connections: z.number().int().min(1),
  timeoutMs: z.number().int().min(1),
  /** A pause between two successful responses at least this long is reported as a gap. */
  gapThresholdMs: z.number().min(0),
  /** Failures are counted per slice of this many ms, so outages can be placed in time. */
  failureBucketMs: z.number().int().min(1),
  /** Also read every body and count answers by status and body (its first 64 characters). */
  answers: z.boolean().optional(),
});

export type LoadConfig = z.infer<typeof loadConfigSchema>;

/** Failures of one kind in one slice of time (wall clock, epoch ms). */
export interface FailureBucket {
  start: number;
  kind: string;
  count: number;
}

/** A stretch with no successful response: from the last one before it to the first after. */
export interface SuccessGap {
  from: number;
  to: number;
}

/** One kind of answer (`200 v1`, `500 oops`): how many came, the first and the last (epoch ms). */
export interface AnswerSeen {
  count: number;
  first: number;
  last: number;
}

export interface LoadReport {
  /** Wall clock (epoch ms) of the start, or of the last `reset`. */
  startedAt: number;
  stoppedAt: number;
  successes: number;
  /** Failed requests by kind: an error code (ECONNREFUSED, ECONNRESET, TIMEOUT) or `HTTP 502`. */
  failures: Record<string, number>;
  /** LatencyHistogram counts of the successful requests. */
  latencyCounts: number[];
  failureBuckets: FailureBucket[];
  gaps: SuccessGap[];
  /** By `<status> <body>`, when the config asked for `answers`. */
  answers?: Record<string, AnswerSeen>;
}

export type LoadMessage =
  | { type: 'started' }
  | { type: 'reset' }
  | { type: 'stop' }
  | { type: 'result'; report: LoadReport };
