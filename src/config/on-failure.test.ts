import { describe, expect, it } from 'vitest';
import { parseOnFailure } from './on-failure.js';

describe('parseOnFailure', () => {
  it.each<[string, { action: string; retries?: number; source?: string }]>([
    ['ABORT', { action: 'ABORT' }],
    ['CONTINUE', { action: 'CONTINUE' }],
    ['continue', { action: 'CONTINUE' }],
    ['RETRY', { action: 'RETRY', retries: 3, source: '.*' }],
    ['RETRY-5', { action: 'RETRY', retries: 5, source: '.*' }],
    ['RETRY-0', { action: 'RETRY', retries: 0, source: '.*' }],
    ['RETRY-timed out', { action: 'RETRY', retries: 3, source: 'timed out' }],
    ['RETRY-8-invalid+', { action: 'RETRY', retries: 8, source: 'invalid+' }],
    [
      'Retry-2-ECONN(RESET|REFUSED)',
      { action: 'RETRY', retries: 2, source: 'ECONN(RESET|REFUSED)' },
    ],
  ])('reads %s', (text, expected) => {
    const result = parseOnFailure(text);

    expect(typeof result).toBe('object');
    if (typeof result === 'string') return;
    expect(result.action).toBe(expected.action);
    if (result.action === 'RETRY') {
      expect(result.retries).toBe(expected.retries);
      expect(result.pattern.source).toBe(expected.source);
    }
  });

  it.each([
    ['IGNORE', /not one of ABORT, CONTINUE/],
    ['RETRY-101', /above the maximum of 100/],
    ['RETRY-3-', /names no regular expression/],
    ['RETRY-(', /invalid regular expression/],
  ])('refuses %s', (text, message) => {
    expect(parseOnFailure(text)).toMatch(message);
  });
});
