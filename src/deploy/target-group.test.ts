import { describe, expect, it } from 'vitest';
import {
  healthCheckSpec,
  healthWaitTimeoutMs,
  productionSplit,
  sameRouting,
  targetGroupName,
} from './target-group.js';

describe('target groups', () => {
  it('names one group per service, environment and release number', () => {
    expect(targetGroupName('shop', 'prod', 12)).toBe('shop-prod-12');
  });

  it('turns phoenix.yml’s health check into the router’s', () => {
    const spec = healthCheckSpec({
      path: '/health',
      intervalMs: 5000,
      timeoutMs: 2000,
      healthyThreshold: 2,
      unhealthyThreshold: 3,
      matcher: {
        text: '200,204-206',
        ranges: [
          { from: 200, to: 200 },
          { from: 204, to: 206 },
        ],
      },
      gracePeriodMs: 10_000,
    });

    expect(spec.matcher).toEqual([
      [200, 200],
      [204, 206],
    ]);
  });

  it.each([
    [
      {
        gracePeriodMs: 0,
        healthyThreshold: 1,
        unhealthyThreshold: 1,
        intervalMs: 1000,
        timeoutMs: 500,
      },
      3000,
    ],
    [
      {
        gracePeriodMs: 10_000,
        healthyThreshold: 2,
        unhealthyThreshold: 3,
        intervalMs: 5000,
        timeoutMs: 2000,
      },
      45_000,
    ],
  ])(
    'waits for health up to grace + (thresholds) × (interval + timeout): %o → %i ms',
    (check, expected) => {
      expect(healthWaitTimeoutMs({ ...check, path: '/', matcher: [[200, 299]] })).toBe(expected);
    },
  );

  it.each([
    ['green', undefined, 100, [{ group: 'green', weight: 100 }]],
    [
      'green',
      'blue',
      100,
      [
        { group: 'green', weight: 100 },
        { group: 'blue', weight: 0 },
      ],
    ],
    [
      'green',
      'blue',
      10,
      [
        { group: 'green', weight: 10 },
        { group: 'blue', weight: 90 },
      ],
    ],
  ] as const)('splits production: %s over %s at %i%%', (group, previous, weight, expected) => {
    expect(productionSplit(group, previous, weight)).toEqual(expected);
  });

  it.each([
    [
      [{ group: 'a', weight: 100 }],
      [
        { group: 'a', weight: 100 },
        { group: 'b', weight: 0 },
      ],
      true,
    ],
    [
      [
        { group: 'a', weight: 90 },
        { group: 'b', weight: 10 },
      ],
      [
        { group: 'b', weight: 10 },
        { group: 'a', weight: 90 },
      ],
      true,
    ],
    [[{ group: 'a', weight: 100 }], [{ group: 'b', weight: 100 }], false],
    [[], [{ group: 'a', weight: 0 }], true],
    [
      [
        { group: 'a', weight: 50 },
        { group: 'b', weight: 50 },
      ],
      [{ group: 'a', weight: 100 }],
      false,
    ],
  ])('compares what splits route: %o vs %o → %s', (a, b, same) => {
    expect(sameRouting(a, b)).toBe(same);
  });
});
