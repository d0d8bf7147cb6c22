import { describe, expect, it } from 'vitest';
import { brief } from '../testing/plan-brief.js';
import { planCanary, planLinear, type CanaryStrategy, type LinearStrategy } from './canary.js';

const CANARY: CanaryStrategy = {
  kind: 'canary',
  percent: 10,
  intervalMs: 300_000,
  bakeMs: 60_000,
  testListener: false,
  manualPromote: false,
};
const LINEAR: LinearStrategy = {
  kind: 'linear',
  percent: 30,
  intervalMs: 60_000,
  bakeMs: 0,
  testListener: false,
};
const START = ['starting start', 'starting await-healthy'];
const RETIRE = ['draining drain-previous', 'draining stop-previous'];

describe('planCanary', () => {
  it.each([
    {
      case: 'the canary share, judged, then all of it and the bake',
      strategy: CANARY,
      expected: [
        ...START,
        'shifting shift:10',
        'baking bake',
        'shifting shift:100',
        'baking bake',
        ...RETIRE,
      ],
    },
    {
      case: 'held for a person before 100% with promote: manual',
      strategy: { ...CANARY, manualPromote: true },
      expected: [
        ...START,
        'shifting shift:10',
        'baking bake',
        'paused await-promotion',
        'shifting shift:100',
        'baking bake',
        ...RETIRE,
      ],
    },
    {
      case: 'test traffic first when asked',
      strategy: { ...CANARY, testListener: true, bakeMs: 0 },
      expected: [
        ...START,
        'testing route-test',
        'shifting shift:10',
        'baking bake',
        'shifting shift:100',
        ...RETIRE,
      ],
    },
  ])('plans $case', ({ strategy, expected }) => {
    expect(brief(planCanary(strategy, { previous: true, hookPoints: [] }))).toEqual(expected);
  });

  it('waits the interval and bakes for the strategy’s times', () => {
    const plan = planCanary(CANARY, { previous: true, hookPoints: [] });

    expect(plan.filter((step) => step.kind === 'bake')).toEqual([
      { kind: 'bake', status: 'baking', ms: 300_000 },
      { kind: 'bake', status: 'baking', ms: 60_000 },
    ]);
  });

  it('sends a first deployment everything at once: there is nothing to split with', () => {
    const plan = planCanary(
      { ...CANARY, manualPromote: true },
      { previous: false, hookPoints: [] },
    );

    expect(brief(plan)).toEqual([...START, 'shifting shift:100']);
  });

  it('keeps BeforeAllowTraffic before the first shift and AfterAllowTraffic after the last', () => {
    const plan = brief(
      planCanary(CANARY, { previous: true, hookPoints: ['before-shift', 'after-shift'] }),
    );

    expect(plan.indexOf('testing run-hooks:before-shift')).toBeLessThan(
      plan.indexOf('shifting shift:10'),
    );
    expect(plan.indexOf('shifting run-hooks:after-shift')).toBe(
      plan.indexOf('shifting shift:100') + 1,
    );
  });
});

describe('planLinear', () => {
  it.each([
    { percent: 30, shifts: ['shift:30', 'shift:60', 'shift:90', 'shift:100'] },
    { percent: 50, shifts: ['shift:50', 'shift:100'] },
    {
      percent: 10,
      shifts: [...[10, 20, 30, 40, 50, 60, 70, 80, 90].map((w) => `shift:${w}`), 'shift:100'],
    },
  ])('adds $percent% every interval until 100', ({ percent, shifts }) => {
    const plan = brief(planLinear({ ...LINEAR, percent }, { previous: true, hookPoints: [] }));

    expect(
      plan.filter((step) => step.includes('shift:')).map((step) => step.split(' ')[1]),
    ).toEqual(shifts);
    expect(plan.filter((step) => step === 'baking bake')).toHaveLength(shifts.length - 1);
  });
});
