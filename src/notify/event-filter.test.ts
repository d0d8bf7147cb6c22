import { describe, expect, it } from 'vitest';
import { eventTypesMatching, filterAccepts, globMatches, passesPatterns } from './event-filter.js';
import { SAMPLE_EVENTS } from './testing/events.js';

describe('globMatches', () => {
  it.each([
    ['deployment.*', 'deployment.rolled-back', true],
    ['deployment.*', 'deployments.started', false],
    ['*.failed', 'run.failed', true],
    ['*.failed', 'deployment.failed', true],
    ['*.failed', 'run.failed-ish', false],
    ['*', 'alarm.state-changed', true],
    ['run.started', 'run.started', true],
    ['run.started', 'run.startedX', false],
    ['run?started', 'run.started', false],
    ['prod*', 'prod-eu', true],
    ['prod', 'prod-eu', false],
  ])('%s against %s: %s', (pattern, name, expected) => {
    expect(globMatches(pattern, name)).toBe(expected);
  });
});

describe('passesPatterns', () => {
  it.each([
    [undefined, 'run.started', true],
    [['*'], 'run.started', true],
    [['*', '!run.started'], 'run.started', false],
    [['*', '!run.*', 'run.failed'], 'run.failed', true],
    [['*', '!run.*', 'run.failed'], 'run.succeeded', false],
    [['deployment.*'], 'approval.waiting', false],
  ])('%j lets %s through: %s', (patterns, name, expected) => {
    expect(passesPatterns(patterns, name)).toBe(expected);
  });
});

describe('filterAccepts', () => {
  it.each([
    ['no filter', {}, SAMPLE_EVENTS['deployment.failed'], true],
    ['event glob', { events: ['deployment.*'] }, SAMPLE_EVENTS['deployment.failed'], true],
    ['event glob misses', { events: ['deployment.*'] }, SAMPLE_EVENTS['run.failed'], false],
    ['environment', { environments: ['prod'] }, SAMPLE_EVENTS['deployment.failed'], true],
    ['other environment', { environments: ['dev'] }, SAMPLE_EVENTS['deployment.failed'], false],
    ['both', { events: ['*.failed'], environments: ['prod'] }, SAMPLE_EVENTS['run.failed'], true],
    ['run targets', { environments: ['staging'] }, SAMPLE_EVENTS['run.started'], true],
    ['run targets miss', { environments: ['dev'] }, SAMPLE_EVENTS['run.started'], false],
    [
      'run without targets',
      { environments: ['prod'] },
      { ...SAMPLE_EVENTS['run.started'], environments: undefined },
      false,
    ],
    ['environment glob', { environments: ['pr*'] }, SAMPLE_EVENTS['approval.waiting'], true],
    [
      'environment negated',
      { environments: ['*', '!prod'] },
      SAMPLE_EVENTS['alarm.state-changed'],
      false,
    ],
  ])('%s', (_name, filter, event, expected) => {
    expect(filterAccepts(filter, event)).toBe(expected);
  });
});

describe('eventTypesMatching', () => {
  it.each([
    ['approval.*', 4],
    ['*.failed', 2],
    ['!deployment.*', 5],
    ['deploymnet.*', 0],
  ])('%s matches %i event types', (pattern, count) => {
    expect(eventTypesMatching(pattern)).toHaveLength(count);
  });
});
