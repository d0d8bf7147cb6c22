import { describe, expect, it } from 'vitest';
import { IllegalTransitionError } from '../shared/errors.js';
import {
  assertDeploymentTransition,
  canDeploymentTransition,
  DEPLOYMENT_STATUSES,
  DEPLOYMENT_TRANSITIONS,
  FINISHED_DEPLOYMENT_STATUSES,
  isDeploymentStatus,
  type DeploymentStatus,
} from './deployment.js';

const ALLOWED: [DeploymentStatus, DeploymentStatus][] = [
  ['pending', 'starting'],
  ['pending', 'rolling-back'],
  ['pending', 'aborted'],
  ['starting', 'testing'],
  ['starting', 'shifting'],
  ['starting', 'paused'],
  ['starting', 'rolling-back'],
  ['testing', 'shifting'],
  ['testing', 'paused'],
  ['testing', 'rolling-back'],
  ['shifting', 'baking'],
  ['shifting', 'draining'],
  ['shifting', 'succeeded'],
  ['shifting', 'paused'],
  ['shifting', 'rolling-back'],
  ['baking', 'shifting'],
  ['baking', 'draining'],
  ['baking', 'succeeded'],
  ['baking', 'paused'],
  ['baking', 'rolling-back'],
  ['paused', 'starting'],
  ['paused', 'testing'],
  ['paused', 'shifting'],
  ['paused', 'baking'],
  ['paused', 'draining'],
  ['paused', 'rolling-back'],
  ['draining', 'succeeded'],
  ['draining', 'failed'],
  ['rolling-back', 'failed'],
  ['rolling-back', 'rolled-back'],
  ['rolling-back', 'aborted'],
];

const EVERY_PAIR = DEPLOYMENT_STATUSES.flatMap((from) =>
  DEPLOYMENT_STATUSES.map((to): [DeploymentStatus, DeploymentStatus, boolean] => [
    from,
    to,
    ALLOWED.some(([a, b]) => a === from && b === to),
  ]),
);

describe('deployment transitions', () => {
  it.each(EVERY_PAIR)('%s → %s allowed: %s', (from, to, allowed) => {
    expect(canDeploymentTransition(from, to)).toBe(allowed);
    if (allowed) expect(() => assertDeploymentTransition('dep_1', from, to)).not.toThrow();
    else
      expect(() => assertDeploymentTransition('dep_1', from, to)).toThrow(IllegalTransitionError);
  });

  it('finishes only in the finished statuses, which have no way out', () => {
    const deadEnds = DEPLOYMENT_STATUSES.filter(
      (status) => DEPLOYMENT_TRANSITIONS[status].length === 0,
    );

    expect(deadEnds).toEqual([...FINISHED_DEPLOYMENT_STATUSES]);
  });

  it.each(['pending', 'starting', 'testing', 'shifting', 'baking', 'paused'] as const)(
    'can always roll back from %s (nothing is ever stuck before draining)',
    (status) => {
      expect(canDeploymentTransition(status, 'rolling-back')).toBe(true);
    },
  );

  it('production never reaches a release whose traffic shift was skipped', () => {
    expect(canDeploymentTransition('testing', 'baking')).toBe(false);
    expect(canDeploymentTransition('starting', 'draining')).toBe(false);
    expect(canDeploymentTransition('testing', 'succeeded')).toBe(false);
  });

  it.each([
    ['baking', true],
    ['rolled-back', true],
    ['running', false],
    [3, false],
  ] as const)('isDeploymentStatus(%s) is %s', (value, expected) => {
    expect(isDeploymentStatus(value)).toBe(expected);
  });
});
