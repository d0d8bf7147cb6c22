import { describe, expect, it } from 'vitest';
import { isRunStatus, isStageStatus } from './run.js';

describe('run and stage statuses read from outside', () => {
  it.each([
    ['superseded', true, false],
    ['skipped', false, true],
    ['running', true, true],
    ['Running', false, false],
    [undefined, false, false],
  ])('%j: run status %s, stage status %s', (value, run, stage) => {
    const verdicts = [isRunStatus(value), isStageStatus(value)];

    expect(verdicts).toEqual([run, stage]);
  });
});
