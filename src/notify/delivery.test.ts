import { describe, expect, it } from 'vitest';
import { canTransition, DeliveryError, describeError, isRetryable } from './delivery.js';

function withCode(message: string, code: string, cause?: unknown): Error {
  return Object.assign(new Error(message, { cause }), { code });
}

const cyclic = new Error('loop');
cyclic.cause = cyclic;

describe('describeError', () => {
  it.each([
    [new Error('boom'), 'boom'],
    [
      new TypeError('fetch failed', {
        cause: withCode('connect ECONNREFUSED 127.0.0.1:9', 'ECONNREFUSED'),
      }),
      'fetch failed: connect ECONNREFUSED 127.0.0.1:9',
    ],
    [
      new TypeError('fetch failed', { cause: withCode('other side closed', 'UND_ERR_SOCKET') }),
      'fetch failed: UND_ERR_SOCKET other side closed',
    ],
    [
      new DeliveryError('Invalid login', {
        retryable: false,
        cause: withCode('Invalid login', 'EAUTH'),
      }),
      'Invalid login',
    ],
    [cyclic, 'loop'],
    ['a string', 'a string'],
  ])('%s reads %j', (error, text) => {
    expect(describeError(error)).toBe(text);
  });
});

describe('delivery rules', () => {
  it.each([
    ['pending', 'delivered', true],
    ['pending', 'failed', true],
    ['delivered', 'failed', false],
    ['failed', 'pending', false],
    ['failed', 'delivered', false],
  ] as const)('%s to %s: %s', (from, to, allowed) => {
    expect(canTransition(from, to)).toBe(allowed);
  });

  it.each([
    [new Error('network'), true],
    [new DeliveryError('503', { retryable: true }), true],
    [new DeliveryError('404', { retryable: false }), false],
  ])('%s is retryable: %s', (error, retryable) => {
    expect(isRetryable(error)).toBe(retryable);
  });
});
