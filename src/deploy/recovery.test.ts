import { releaseMonitor } from './release-monitor.js';
import { describe, expect, it } from 'vitest';
import type { Deployment, DeploymentStatus } from './deployment.js';
import { decideRecovery, expectedProduction, type ObservedProduction } from './recovery.js';
import { planBlueGreen } from './strategies/blue-green.js';

const PLAN = planBlueGreen(
  { kind: 'blue-green', bakeMs: 60_000, testListener: true, manualPromote: false },
  { previous: true, hookPoints: ['test-traffic', 'after-shift'] },
);
/** Index of the first step of this kind (or hook point). */
const at = (what: string): number =>
  PLAN.findIndex(
    (step) => step.kind === what || (step.kind === 'run-hooks' && step.point === what),
  );

function deployment(status: DeploymentStatus, step: number, previous = true): Deployment {
  return {
    id: 'dep_1',
    service: 'shop',
    environment: 'dev',
    releaseId: 'rel_2',
    ...(previous ? { previousReleaseId: 'rel_1' } : {}),
    strategy: { kind: 'blue-green', bakeMs: 60_000, testListener: true, manualPromote: false },
    status,
    plan: PLAN,
    step,
    target: {
      releaseNumber: 2,
      group: 'green',
      ...(previous ? { previousGroup: 'blue' } : {}),
      command: 'npm start',
      portEnv: 'PORT',
      instances: 2,
      healthCheck: {
        path: '/health',
        intervalMs: 1000,
        timeoutMs: 500,
        healthyThreshold: 2,
        unhealthyThreshold: 2,
        matcher: [[200, 299]],
        gracePeriodMs: 0,
      },
      env: {},
      functionCommands: {},
      monitor: releaseMonitor({}),
    },
    trigger: { type: 'manual', actor: 'alice' },
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    timeline: [],
  };
}

const BLUE = [{ group: 'blue', weight: 100 }];
const GREEN = [
  { group: 'green', weight: 100 },
  { group: 'blue', weight: 0 },
];
const HALF = [
  { group: 'green', weight: 50 },
  { group: 'blue', weight: 50 },
];

describe('decideRecovery', () => {
  it.each<[string, DeploymentStatus, number, ObservedProduction, string]>([
    ['a finished deployment', 'succeeded', at('stop-previous'), GREEN, 'none'],
    ['a paused deployment', 'paused', at('bake'), GREEN, 'none'],
    ['a rollback under way', 'rolling-back', at('bake'), BLUE, 'finish-rollback'],
    ['a pending deployment', 'pending', -1, [], 'resume'],
    ['a start in flight', 'starting', at('start'), BLUE, 'resume'],
    ['a health wait in flight', 'starting', at('await-healthy'), BLUE, 'resume'],
    ['test routing in flight', 'testing', at('route-test'), BLUE, 'resume'],
    ['a validation hook in flight', 'testing', at('test-traffic'), BLUE, 'roll-back'],
    ['a shift that had not happened', 'shifting', at('shift'), BLUE, 'resume'],
    ['a shift that had happened', 'shifting', at('shift'), GREEN, 'resume'],
    ['a shift to weights nobody planned', 'shifting', at('shift'), HALF, 'roll-back'],
    ['a shift with the router unreachable', 'shifting', at('shift'), 'unknown', 'roll-back'],
    ['an AfterAllowTraffic hook in flight', 'shifting', at('after-shift'), GREEN, 'roll-back'],
    ['a bake with production on green', 'baking', at('bake'), GREEN, 'resume'],
    ['a bake with production back on blue', 'baking', at('bake'), BLUE, 'roll-back'],
    ['a bake with the router unreachable', 'baking', at('bake'), 'unknown', 'roll-back'],
    ['draining with production on green', 'draining', at('drain-previous'), GREEN, 'resume'],
    ['draining with the router unreachable', 'draining', at('stop-previous'), 'unknown', 'resume'],
    ['draining while production routes to blue', 'draining', at('stop-previous'), BLUE, 'fail'],
  ])('%s: %s at its step → %s', (_name, status, step, production, action) => {
    expect(decideRecovery(deployment(status, step), production).action).toBe(action);
  });

  it('resumes from the step in flight, not from the start', () => {
    const decision = decideRecovery(deployment('baking', at('bake')), GREEN);

    expect(decision).toEqual({
      action: 'resume',
      from: at('bake'),
      why: expect.stringContaining('bake'),
    });
  });

  it('says why it rolls back', () => {
    const decision = decideRecovery(deployment('baking', at('bake')), HALF);

    expect(decision.why).toBe(
      'production routes 50% to green, 50% to blue, expected 100% to green',
    );
  });

  it('finds a first deployment consistent before its listener exists', () => {
    const first = deployment('shifting', at('shift'), false);

    expect(expectedProduction(first, 0)).toEqual([]);
    expect(decideRecovery(first, []).action).toBe('resume');
    expect(decideRecovery(first, [{ group: 'green', weight: 100 }]).action).toBe('resume');
  });
});
