import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY, nextRetryDelay } from './retry-policy.js';

describe('nextRetryDelay', () => {
  it.each([
    [1, 1000],
    [2, 4000],
    [3, 16_000],
    [4, undefined],
    [0, undefined],
  ])('after %i failed attempts: %s ms', (failed, expected) => {
    expect(nextRetryDelay(DEFAULT_RETRY_POLICY, failed)).toBe(expected);
  });

  it('caps the wait', () => {
    const policy = { ...DEFAULT_RETRY_POLICY, maxAttempts: 10, maxDelayMs: 30_000 };

    expect(nextRetryDelay(policy, 4)).toBe(30_000);
  });
});
