import { describe, expect, it } from 'vitest';
import type { DeploymentEvent } from './deployment.js';
import { describeDeploymentEvent } from './deployment-timeline.js';

function event(type: string, data: Record<string, unknown>, reason?: string): DeploymentEvent {
  return {
    id: 1,
    deploymentId: 'dep_1',
    time: '2025-01-01T00:00:00.000Z',
    type,
    data,
    ...(reason === undefined ? {} : { reason }),
  };
}

describe('describeDeploymentEvent', () => {
  it.each<[DeploymentEvent, string]>([
    [
      event('deployment.created', {
        releaseId: 'rel_2',
        previousReleaseId: 'rel_1',
        strategy: { kind: 'blue-green' },
      }),
      'release rel_2 to replace rel_1, blue-green',
    ],
    [
      event('step.started', { from: 'pending', to: 'starting', step: 'start the new release' }),
      'starting: start the new release',
    ],
    [
      event('step.started', { step: 'wait until the new release is healthy' }),
      'wait until the new release is healthy',
    ],
    [
      event('instances.started', {
        group: 'shop-dev-2',
        instances: [
          { id: 'a', port: 20_001 },
          { id: 'b', port: 20_002 },
        ],
      }),
      '2 instances of shop-dev-2 started (ports 20001, 20002)',
    ],
    [
      event('instances.healthy', { group: 'shop-dev-2', targets: 1 }),
      'shop-dev-2 healthy (1 target)',
    ],
    [
      event('weights.applied', {
        listener: 'shop-dev',
        split: [
          { group: 'shop-dev-2', weight: 100 },
          { group: 'shop-dev-1', weight: 0 },
        ],
      }),
      'shop-dev → shop-dev-2 100%',
    ],
    [
      event('hook.finished', { event: 'AfterAllowTestTraffic', ok: false }, 'exit 3'),
      'hook AfterAllowTestTraffic failed — exit 3',
    ],
    [
      event('drained', { group: 'shop-dev-1', drained: 2, abandoned: 1 }),
      'shop-dev-1 drained, 1 request cut off',
    ],
    [
      event('instances.stopped', { releaseId: 'rel_1', instances: ['a', 'b'] }),
      '2 instances of rel_1 stopped',
    ],
    [
      event('rollback.started', { from: 'starting', to: 'rolling-back' }, 'never healthy'),
      'rolling-back: rollback started — never healthy',
    ],
    [
      event('rollback.retry', { retryInMs: 500 }, 'ECONNREFUSED'),
      'rollback waits for the router, again in 500ms — ECONNREFUSED',
    ],
    [event('deployment.finished', { from: 'shifting', to: 'succeeded' }), 'succeeded'],
    [
      event('deployment.finished', { from: 'rolling-back', to: 'failed' }, 'hook failed'),
      'failed — hook failed',
    ],
    [event('something.new', { odd: [1] }), 'something.new'],
    [event('weights.applied', { listener: 7, split: 'x' }), '? → nothing'],
  ])('%#: %s', (input, expected) => {
    expect(describeDeploymentEvent(input)).toBe(expected);
  });
});
