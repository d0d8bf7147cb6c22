/**
 * When a failed delivery is tried again: after 1 s, 4 s, 16 s... (each wait four times the
 * last, capped), until `maxAttempts` attempts in all have failed. No jitter: one control
 * plane sends few notifications, and a fake clock can then say exactly when the next comes.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  initialDelayMs: number;
  factor: number;
  maxDelayMs: number;
}

/** Four attempts: at once, then after 1 s, 4 s and 16 s. */
export const DEFAULT_MAX_ATTEMPTS = 4;
export const DEFAULT_INITIAL_DELAY_MS = 1000;
export const DEFAULT_BACKOFF_FACTOR = 4;
export const DEFAULT_MAX_DELAY_MS = 5 * 60_000;

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: DEFAULT_MAX_ATTEMPTS,
  initialDelayMs: DEFAULT_INITIAL_DELAY_MS,
  factor: DEFAULT_BACKOFF_FACTOR,
  maxDelayMs: DEFAULT_MAX_DELAY_MS,
};

/**
 * The wait before the next attempt once `failedAttempts` attempts have failed, or undefined
 * when the policy gives up.
 */
export function nextRetryDelay(policy: RetryPolicy, failedAttempts: number): number | undefined {
  if (failedAttempts < 1 || failedAttempts >= policy.maxAttempts) return undefined;
  const delay = policy.initialDelayMs * policy.factor ** (failedAttempts - 1);
  return Math.min(delay, policy.maxDelayMs);
}
