import { describe, expect, it } from 'vitest';
import {
  productionTouched,
  productionWeightAfter,
  productionWeightBefore,
  testTouched,
  type DeploymentStep,
} from './step.js';

/** A canary as issue 5 will plan it: 10%, wait, 100%, wait, retire. */
const CANARY: DeploymentStep[] = [
  { kind: 'start', status: 'starting' },
  { kind: 'await-healthy', status: 'starting' },
  { kind: 'route-test', status: 'testing' },
  { kind: 'shift', status: 'shifting', weight: 10 },
  { kind: 'bake', status: 'baking', ms: 300_000 },
  { kind: 'shift', status: 'shifting', weight: 100 },
  { kind: 'bake', status: 'baking', ms: 60_000 },
  { kind: 'drain-previous', status: 'draining' },
];

describe('production weights along a plan', () => {
  it.each([
    [-1, 0, 0, false, false],
    [0, 0, 0, false, false],
    [2, 0, 0, false, true],
    [3, 0, 10, true, true],
    [4, 10, 10, true, true],
    [5, 10, 100, true, true],
    [6, 100, 100, true, true],
    [7, 100, 100, true, true],
  ])(
    'at step %i: %i%% before, %i%% after, production touched %s, test touched %s',
    (step, before, after, production, test) => {
      expect(productionWeightBefore(CANARY, step)).toBe(before);
      expect(productionWeightAfter(CANARY, step)).toBe(after);
      expect(productionTouched(CANARY, step)).toBe(production);
      expect(testTouched(CANARY, step)).toBe(test);
    },
  );

  it('counts the test listener as touched by a full shift even without a route-test step', () => {
    const plan: DeploymentStep[] = [
      { kind: 'start', status: 'starting' },
      { kind: 'shift', status: 'shifting', weight: 100 },
    ];

    expect([testTouched(plan, 0), testTouched(plan, 1)]).toEqual([false, true]);
  });
});
