import { describe, expect, it } from 'vitest';
import { DEFAULT_RESTART_BACKOFF, nextAttempt, restartDelay } from './backoff.js';

describe('restart backoff', () => {
  it.each([
    [1, 200],
    [2, 400],
    [3, 800],
    [6, 6_400],
    [7, 10_000],
    [50, 10_000],
  ])('waits before restart %i: %i ms', (attempt, delay) => {
    expect(restartDelay(DEFAULT_RESTART_BACKOFF, attempt)).toBe(delay);
  });

  it.each([
    [0, 10, 1],
    [3, 29_999, 4],
    [3, 30_000, 1],
    [9, 120_000, 1],
  ])('after attempt %i and a run of %i ms, the next attempt is %i', (previous, ranFor, next) => {
    expect(nextAttempt(DEFAULT_RESTART_BACKOFF, previous, ranFor)).toBe(next);
  });
});
