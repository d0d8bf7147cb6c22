/** How a crashed instance is restarted: exponential backoff, forgotten after a healthy run. */
export interface RestartBackoff {
  initialMs: number;
  factor: number;
  maxMs: number;
  /** A run at least this long counts as healthy: the next crash starts from `initialMs` again. */
  resetAfterMs: number;
}

export const DEFAULT_RESTART_BACKOFF: RestartBackoff = {
  initialMs: 200,
  factor: 2,
  maxMs: 10_000,
  resetAfterMs: 30_000,
};

/** Delay before restart number `attempt` (1-based) of a run of consecutive crashes. */
export function restartDelay(backoff: RestartBackoff, attempt: number): number {
  const delay = backoff.initialMs * backoff.factor ** Math.max(0, attempt - 1);
  return Math.min(backoff.maxMs, delay);
}

/**
 * The attempt number for a crash after a run of `ranForMs`: consecutive crashes count up;
 * one after a healthy run starts again at 1.
 */
export function nextAttempt(
  backoff: RestartBackoff,
  previousAttempt: number,
  ranForMs: number,
): number {
  return ranForMs >= backoff.resetAfterMs ? 1 : previousAttempt + 1;
}
