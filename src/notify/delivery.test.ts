import { describe, expect, it } from 'vitest';
import {
  canTransition,
  DeliveryError,
  deliverySubject,
  describeError,
  isRetryable,
} from './delivery.js';
import { SAMPLE_EVENTS } from './testing/events.js';

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

describe('deliverySubject', () => {
  it.each([
    ['run.failed', { runId: 'run_01' }],
    ['approval.waiting', { environment: 'prod', approvalId: 'apr_01', runId: 'run_01' }],
    ['approval.expired', { environment: 'prod', approvalId: 'apr_01' }],
    ['deployment.rolled-back', { environment: 'prod', deploymentId: 'dep_01' }],
    ['alarm.state-changed', { environment: 'prod', deploymentId: 'dep_01' }],
  ] as const)('%s is about %j', (type, subject) => {
    expect(deliverySubject(SAMPLE_EVENTS[type])).toEqual(subject);
  });
});
