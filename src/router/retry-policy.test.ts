import { describe, expect, it } from 'vitest';
import {
  MAX_RESET_RETRIES,
  retryAfterFailure,
  retryAfterResponse,
  type FailureRetryInput,
} from './retry-policy.js';

const REFUSED = { connected: false, code: 'ECONNREFUSED' };
const RESET = { connected: true, code: 'ECONNRESET' };

function input(overrides: Partial<FailureRetryInput>): FailureRetryInput {
  return { failure: REFUSED, method: 'GET', bodyReplayable: true, resetRetries: 0, ...overrides };
}

describe('retryAfterFailure', () => {
  it.each([
    // never sent: any method goes elsewhere
    { failure: REFUSED, method: 'POST', expected: 'retry-not-sent' },
    { failure: REFUSED, method: 'PATCH', expected: 'retry-not-sent' },
    {
      failure: { connected: false, code: 'EHOSTUNREACH' },
      method: 'POST',
      expected: 'retry-not-sent',
    },
    // reset before any response byte: idempotent methods only
    { failure: RESET, method: 'GET', expected: 'retry-reset' },
    { failure: RESET, method: 'HEAD', expected: 'retry-reset' },
    { failure: RESET, method: 'OPTIONS', expected: 'retry-reset' },
    { failure: RESET, method: 'PUT', expected: 'retry-reset' },
    { failure: RESET, method: 'DELETE', expected: 'retry-reset' },
    { failure: { connected: true, code: 'EPIPE' }, method: 'GET', expected: 'retry-reset' },
    { failure: RESET, method: 'POST', expected: 'fail' },
    { failure: RESET, method: 'PATCH', expected: 'fail' },
    // other errors on a connected socket are not retried
    { failure: { connected: true, code: 'ETIMEDOUT' }, method: 'GET', expected: 'fail' },
    { failure: { connected: true, code: undefined }, method: 'GET', expected: 'fail' },
  ])(
    '$failure.code (connected: $failure.connected) on $method → $expected',
    ({ failure, method, expected }) => {
      expect(retryAfterFailure(input({ failure, method }))).toBe(expected);
    },
  );

  it('does not retry a body it can no longer replay', () => {
    expect(retryAfterFailure(input({ failure: REFUSED, bodyReplayable: false }))).toBe('fail');
    expect(retryAfterFailure(input({ failure: RESET, method: 'PUT', bodyReplayable: false }))).toBe(
      'fail',
    );
  });

  it('stops retrying resets after the limit, but not refusals', () => {
    const after = { resetRetries: MAX_RESET_RETRIES };

    expect(retryAfterFailure(input({ failure: RESET, ...after }))).toBe('fail');
    expect(retryAfterFailure(input({ failure: REFUSED, ...after }))).toBe('retry-not-sent');
  });
});

describe('retryAfterResponse (a canary 5xx retried on stable)', () => {
  const policy = { from: 'green', to: 'blue' };
  const base = {
    status: 500,
    method: 'GET',
    group: 'green',
    policy,
    bodyReplayable: true,
    alreadyRetried: false,
  };

  it.each([
    { change: {}, expected: true },
    { change: { method: 'HEAD' }, expected: true },
    { change: { status: 503 }, expected: true },
    { change: { status: 404 }, expected: false },
    { change: { method: 'POST' }, expected: false },
    { change: { method: 'PUT' }, expected: false },
    { change: { group: 'blue' }, expected: false },
    { change: { policy: undefined }, expected: false },
    { change: { alreadyRetried: true }, expected: false },
    { change: { bodyReplayable: false }, expected: false },
  ])('$change → $expected', ({ change, expected }) => {
    expect(retryAfterResponse({ ...base, ...change })).toBe(expected);
  });
});
