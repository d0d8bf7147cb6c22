import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../shared/errors.js';
import { RouteValidationError } from './route-errors.js';
import {
  emptyRouterState,
  parseRouterState,
  withDraining,
  withListener,
  withoutListener,
  withoutTargetGroup,
  withTargetGroup,
  withWeights,
  type RouterState,
} from './router-state.js';
import type { HealthCheckSpec } from './traffic-router.js';

const CHECK: HealthCheckSpec = {
  path: '/health',
  intervalMs: 1000,
  timeoutMs: 500,
  healthyThreshold: 2,
  unhealthyThreshold: 2,
  matcher: [[200, 299]],
  gracePeriodMs: 0,
};

function routed(): RouterState {
  let state = withListener(emptyRouterState(), { name: 'web', port: 8080 });
  state = withTargetGroup(state, {
    name: 'blue',
    targets: [
      { id: 'b1', host: '127.0.0.1', port: 3001 },
      { id: 'b2', host: '127.0.0.1', port: 3002 },
    ],
    healthCheck: CHECK,
  });
  state = withTargetGroup(state, { name: 'green', targets: [], healthCheck: CHECK });
  return withWeights(state, 'web', [
    { group: 'blue', weight: 90 },
    { group: 'green', weight: 10 },
  ]);
}

function issuesOf(action: () => unknown): { field: string; message: string }[] {
  try {
    action();
  } catch (error) {
    if (error instanceof RouteValidationError) return [...error.issues];
    throw error;
  }
  return [];
}

describe('state changes', () => {
  it('keeps a listener’s weights when its port changes', () => {
    const state = withListener(routed(), { name: 'web', port: 9090, host: '127.0.0.1' });

    expect(state.listeners).toEqual([
      {
        name: 'web',
        port: 9090,
        host: '127.0.0.1',
        split: [
          { group: 'blue', weight: 90 },
          { group: 'green', weight: 10 },
        ],
      },
    ]);
  });

  it('refuses a port another listener has', () => {
    expect(() => withListener(routed(), { name: 'api', port: 8080 })).toThrow(ConflictError);
  });

  it('refuses weights for an unknown listener or group', () => {
    expect(() => withWeights(routed(), 'nope', [{ group: 'blue', weight: 100 }])).toThrow(
      NotFoundError,
    );
    expect(issuesOf(() => withWeights(routed(), 'web', [{ group: 'red', weight: 100 }]))).toEqual([
      { field: 'split.0.group', message: 'there is no target group red: put it first' },
    ]);
  });

  it('keeps drain marks for targets that stay, and drops them for targets that leave', () => {
    const drained = withDraining(routed(), 'blue', ['b1', 'b2']);

    const next = withTargetGroup(drained, {
      name: 'blue',
      targets: [
        { id: 'b2', host: '127.0.0.1', port: 3002 },
        { id: 'b3', host: '127.0.0.1', port: 3003 },
      ],
      healthCheck: CHECK,
    });

    expect(next.targetGroups.find((group) => group.name === 'blue')?.draining).toEqual(['b2']);
  });

  it('drains all targets or named ones, refusing unknown ids', () => {
    const all = withDraining(routed(), 'blue', 'all');

    expect(all.targetGroups[0]?.draining).toEqual(['b1', 'b2']);
    expect(() => withDraining(routed(), 'blue', ['b9'])).toThrow(
      'target group blue has no target b9',
    );
    expect(() => withDraining(routed(), 'red', 'all')).toThrow(NotFoundError);
  });

  it('refuses to remove a group with weight, and drops a weightless one from splits', () => {
    const shifted = withWeights(routed(), 'web', [
      { group: 'blue', weight: 100 },
      { group: 'green', weight: 0 },
    ]);

    const removed = withoutTargetGroup(shifted, 'green');

    expect(() => withoutTargetGroup(routed(), 'green')).toThrow(
      'target group green still has weight 10 on listener web',
    );
    expect(removed.listeners[0]?.split).toEqual([{ group: 'blue', weight: 100 }]);
    expect(removed.targetGroups.map((group) => group.name)).toEqual(['blue']);
  });

  it('removes a listener with its split, which frees its groups for removal', () => {
    const api = withListener(routed(), { name: 'api', port: 8081 });

    const removed = withoutListener(api, 'web');

    expect(removed.listeners.map((listener) => listener.name)).toEqual(['api']);
    expect(withoutTargetGroup(removed, 'blue').targetGroups.map((g) => g.name)).toEqual(['green']);
  });

  it('gives back the same state when removing a listener it does not have', () => {
    const state = routed();

    const removed = withoutListener(state, 'nope');

    expect(removed).toBe(state);
  });

  it('sets the 5xx retry with a split and clears it with the next split', () => {
    const retry = { from: 'green', to: 'blue' };
    const split = [
      { group: 'blue', weight: 90 },
      { group: 'green', weight: 10 },
    ];

    const withRetry = withWeights(routed(), 'web', split, retry);
    const without = withWeights(withRetry, 'web', split);

    expect(withRetry.listeners[0]?.serverErrorRetry).toEqual(retry);
    expect(without.listeners[0]?.serverErrorRetry).toBeUndefined();
  });

  it('changes nothing in the state it was given', () => {
    const state = routed();
    const before = JSON.stringify(state);

    withDraining(state, 'blue', 'all');
    withWeights(state, 'web', [{ group: 'blue', weight: 100 }]);
    withoutListener(state, 'web');
    withoutTargetGroup(withWeights(state, 'web', [{ group: 'blue', weight: 100 }]), 'green');

    expect(JSON.stringify(state)).toBe(before);
  });
});

describe('parseRouterState', () => {
  it('reads back what was written', () => {
    const state = withDraining(routed(), 'blue', ['b2']);

    expect(parseRouterState(JSON.parse(JSON.stringify(state)))).toEqual(state);
  });

  it.each([
    {
      case: 'another version',
      value: { version: 2, listeners: [], targetGroups: [] },
      field: 'version',
    },
    {
      case: 'a split naming a missing group',
      value: {
        version: 1,
        listeners: [{ name: 'web', port: 80, split: [{ group: 'x', weight: 100 }] }],
        targetGroups: [],
      },
      field: 'split.0.group',
    },
    {
      case: 'a bad weight',
      value: {
        version: 1,
        listeners: [{ name: 'web', port: 80, split: [{ group: 'x', weight: 50 }] }],
        targetGroups: [],
      },
      field: 'listeners.0.split',
    },
  ])('refuses $case', ({ value, field }) => {
    expect(issuesOf(() => parseRouterState(value)).map((issue) => issue.field)).toContain(field);
  });
});
