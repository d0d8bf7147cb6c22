import { describe, expect, it } from 'vitest';
import type { DeploymentEvent } from '../deploy/deployment.js';
import type { DeploymentView, EnvironmentStatusView } from '../deploy/deployment-view.js';
import { plainColors } from './api-command.js';
import {
  formatDeploymentEnd,
  formatDeploymentStarted,
  formatEnvironmentStatus,
  formatUndeployedEnvironment,
} from './deployment-output.js';

const NOW = Date.parse('2030-01-02T12:00:00.000Z');
const colors = plainColors();

function event(
  id: number,
  time: string,
  type: string,
  data: Record<string, unknown>,
  reason?: string,
): DeploymentEvent {
  return {
    id,
    deploymentId: 'dep_2',
    time: `2030-01-02T11:59:${time}Z`,
    type,
    data,
    ...(reason === undefined ? {} : { reason }),
  };
}

function deployment(fields: Partial<DeploymentView> = {}): DeploymentView {
  return {
    id: 'dep_2',
    service: 'shop',
    environment: 'dev',
    releaseId: 'rel_2',
    releaseNumber: 2,
    previousReleaseId: 'rel_1',
    strategy: { kind: 'blue-green', bakeMs: 60_000, testListener: true, manualPromote: false },
    status: 'succeeded',
    steps: ['start the new release'],
    step: 0,
    trigger: { type: 'pipeline', actor: 'pipeline', runId: 'r_2', detail: 'run shop #2' },
    servingReleaseId: 'rel_2',
    createdAt: '2030-01-02T11:59:00.000Z',
    updatedAt: '2030-01-02T11:59:30.000Z',
    timeline: [
      event(1, '00.000', 'deployment.created', {
        releaseId: 'rel_2',
        previousReleaseId: 'rel_1',
        strategy: { kind: 'blue-green' },
      }),
      event(2, '00.010', 'step.started', {
        from: 'pending',
        to: 'starting',
        step: 'start the new release',
      }),
      event(3, '05.250', 'weights.applied', {
        listener: 'shop-dev',
        split: [{ group: 'shop-dev-2', weight: 100 }],
      }),
      event(4, '30.000', 'deployment.finished', { from: 'draining', to: 'succeeded' }),
    ],
    url: '/api/deployments/dep_2',
    ...fields,
  };
}

describe('formatEnvironmentStatus', () => {
  it('says what serves where, then the latest deployment and its timeline with times', () => {
    const view: EnvironmentStatusView = {
      environment: 'dev',
      servingRelease: { id: 'rel_2', number: 2 },
      listeners: { production: 18_080, test: 18_081 },
      latest: deployment(),
    };

    expect(formatEnvironmentStatus(view, 'shop', { now: NOW, colors }).split('\n')).toEqual([
      'shop dev  serving release #2 (rel_2)  production :18080, test :18081',
      '  latest  dep_2  release #2, blue-green (bake 1m, test traffic first): succeeded  (run shop #2, 1m ago)',
      '    11:59:00.000  release rel_2 to replace rel_1, blue-green',
      '    11:59:00.010  starting: start the new release',
      '    11:59:05.250  shop-dev → shop-dev-2 100%',
      '    11:59:30.000  succeeded',
    ]);
  });

  it('gives the reason of a deployment that failed, and says when nothing serves', () => {
    const view: EnvironmentStatusView = {
      environment: 'dev',
      latest: deployment({
        strategy: { kind: 'all-at-once', bakeMs: 0, testListener: false },
        status: 'failed',
        reason: 'the new release never became healthy',
        trigger: { type: 'manual', actor: 'alice' },
        timeline: [
          event(
            1,
            '30.000',
            'deployment.finished',
            { from: 'rolling-back', to: 'failed' },
            'the new release never became healthy',
          ),
        ],
      }),
    };

    expect(formatEnvironmentStatus(view, 'shop', { now: NOW, colors }).split('\n')).toEqual([
      'shop dev  nothing serves yet',
      '  latest  dep_2  release #2, all-at-once: failed  (manual by alice, 1m ago)',
      '  reason  the new release never became healthy',
      '    11:59:30.000  failed — the new release never became healthy',
    ]);
  });
});

describe('formatUndeployedEnvironment', () => {
  it('says where an environment will listen, and the gate it waits at', () => {
    const text = formatUndeployedEnvironment(
      {
        environment: 'prod',
        listeners: { production: 8080, test: 8081 },
        waitingApproval: {
          id: 'apr_1',
          runId: 'r_2',
          runNumber: 2,
          approvals: 1,
          required: 2,
          expiresAt: '2030-01-09T12:00:00.000Z',
        },
      },
      'shop',
      { now: NOW, colors },
    );

    expect(text.split('\n')).toEqual([
      'shop prod  not deployed yet  production :8080, test :8081',
      '  waits for approval  1 of 2, run shop #2, until 2030-01-09T12:00:00.000Z  (phoenix approve shop --env prod)',
    ]);
  });

  it('says an environment without listeners cannot be deployed', () => {
    expect(formatUndeployedEnvironment({ environment: 'qa' }, 'shop', { now: NOW, colors })).toBe(
      'shop qa  not deployed yet  (no listeners: it cannot be deployed)',
    );
  });
});

describe('phoenix deploy lines', () => {
  it("points at the hook's output when a hook failed", () => {
    const failed = deployment({
      status: 'failed',
      reason: 'hook failed: ValidateService: hooks/smoke-test.js exited with code 1',
    });

    expect(formatDeploymentEnd(failed, colors).split('\n')).toEqual([
      'Deployment dep_2 failed: hook failed: ValidateService: hooks/smoke-test.js exited with code 1',
      "  the hook's output: phoenix deployment log dep_2",
    ]);
  });

  it('names the release, the environment and the strategy, then how it ended', () => {
    expect(formatDeploymentStarted(deployment({ status: 'pending' }), colors)).toBe(
      'Deploying shop release #2 (rel_2) to dev, blue-green (bake 1m, test traffic first): dep_2',
    );
    expect(
      formatDeploymentEnd(
        deployment({ status: 'rolled-back', reason: 'alarm errors: error-rate 40% > 10%' }),
        colors,
      ),
    ).toBe('Deployment dep_2 rolled-back: alarm errors: error-rate 40% > 10%');
  });
});
