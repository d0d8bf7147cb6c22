import { releaseMonitor } from '../deploy/release-monitor.js';
import { describe, expect, it } from 'vitest';
import { parsePhoenixConfig } from '../config/phoenix-config.js';
import type { Deployment } from '../deploy/deployment.js';
import { ExternalServiceError, ValidationError } from '../shared/errors.js';
import { DeployStageRunner } from './deploy-stage.js';
import type { Run, Stage } from './run.js';
import { RunCancelled, type StageContext } from './stage-runner.js';

const CONFIG = parsePhoenixConfig(
  'service: shop\nrelease: { start: x }\nenvironments:\n  - name: dev\n    listeners: { production: 18080 }\n',
  'phoenix.yml',
);

function stage(index: number, fields: Partial<Stage>): Stage {
  return {
    runId: 'r_1',
    index,
    name: 'x',
    kind: 'source',
    status: 'succeeded',
    attempt: 1,
    ...fields,
  };
}

const RUN: Run = {
  id: 'r_1',
  service: 'shop',
  number: 1,
  status: 'running',
  commit: 'c0ffee',
  ref: 'refs/heads/main',
  trigger: { type: 'push', actor: 'alice' },
  createdAt: '2030-01-01T00:00:00.000Z',
  stages: [
    stage(0, { name: 'source' }),
    stage(1, { name: 'build', kind: 'build' }),
    stage(2, { name: 'release', kind: 'release', output: { releaseId: 'rel_2', number: 2 } }),
    stage(3, { name: 'deploy:dev', kind: 'deploy', status: 'running' }),
  ],
};

function deployment(id: string, fields: Partial<Deployment> = {}): Deployment {
  return {
    id,
    service: 'shop',
    environment: 'dev',
    releaseId: 'rel_2',
    strategy: { kind: 'all-at-once', bakeMs: 0, testListener: false },
    status: 'succeeded',
    plan: [],
    step: 0,
    target: {
      releaseNumber: 2,
      group: 'shop-dev-2',
      command: 'x',
      portEnv: 'PORT',
      instances: 1,
      healthCheck: {
        path: '/health',
        intervalMs: 1000,
        timeoutMs: 500,
        healthyThreshold: 1,
        unhealthyThreshold: 1,
        matcher: [[200, 299]],
        gracePeriodMs: 0,
      },
      env: {},
      functionCommands: {},
      monitor: releaseMonitor({}),
    },
    trigger: { type: 'pipeline', actor: 'pipeline', runId: 'r_1' },
    servingReleaseId: 'rel_2',
    createdAt: '2030-01-01T00:00:00.000Z',
    updatedAt: '2030-01-01T00:00:00.000Z',
    timeline: [],
    ...fields,
  };
}

/** The runner over in-memory ports: `stored` deployments, and a deployer that makes `dep_new` or throws. */
async function attempt(options: {
  stored?: Deployment[];
  interrupted?: { externalId?: string };
  deployError?: Error;
  aborted?: boolean;
}) {
  const stored = new Map((options.stored ?? []).map((d) => [d.id, d]));
  const deployed: string[] = [];
  const recorded: string[] = [];
  const runner = new DeployStageRunner({
    deployer: {
      deploy: async (input) => {
        deployed.push(`${input.environment} ${input.releaseId} ${input.trigger.runId ?? ''}`);
        if (options.deployError !== undefined) throw options.deployError;
        const made = deployment('dep_new');
        stored.set(made.id, made);
        return made;
      },
    },
    deployments: {
      get: (id) => {
        const found = stored.get(id);
        if (found === undefined) throw new Error(`no ${id}`);
        return found;
      },
      latest: () => [...stored.values()].at(-1),
      whenFinished: async (id) => {
        const found = stored.get(id);
        if (found === undefined) throw new Error(`no ${id}`);
        return { ...found, status: 'succeeded' };
      },
      abort: async (id) => {
        const found = stored.get(id);
        if (found === undefined) throw new Error(`no ${id}`);
        return { ...found, status: 'aborted' };
      },
      subscribe: () => () => undefined,
    },
  });
  const abort = new AbortController();
  if (options.aborted === true) abort.abort(new RunCancelled('alice'));
  const context: StageContext = {
    run: RUN,
    stage: RUN.stages[3] ?? stage(3, {}),
    config: CONFIG,
    signal: abort.signal,
    ...(options.interrupted === undefined ? {} : { interrupted: options.interrupted }),
    started: async (info) => {
      recorded.push(info.externalId);
    },
    log: () => undefined,
  };
  const result = await runner.run(context);
  return { result, deployed, recorded };
}

describe('DeployStageRunner attempts', () => {
  it('deploys the release of the run to the stage’s environment, and records the deployment first', async () => {
    const { result, deployed, recorded } = await attempt({});

    expect(deployed).toEqual(['dev rel_2 r_1']);
    expect(recorded).toEqual(['dep_new']);
    expect(result).toEqual({
      status: 'succeeded',
      output: {
        deploymentId: 'dep_new',
        status: 'succeeded',
        releaseId: 'rel_2',
        servingReleaseId: 'rel_2',
      },
    });
  });

  it.each<[string, Parameters<typeof attempt>[0], string[], string]>([
    [
      'follows the deployment an interrupted attempt recorded',
      {
        stored: [deployment('dep_old', { status: 'baking' })],
        interrupted: { externalId: 'dep_old' },
      },
      [],
      'dep_old',
    ],
    [
      'follows this run’s deployment in flight when the interrupted attempt died before recording it',
      { stored: [deployment('dep_old', { status: 'starting' })], interrupted: {} },
      [],
      'dep_old',
    ],
    [
      'deploys anew when the deployment in flight is another run’s',
      {
        stored: [
          deployment('dep_old', { status: 'starting', trigger: { type: 'manual', actor: 'bob' } }),
        ],
        interrupted: {},
      },
      ['dev rel_2 r_1'],
      'dep_new',
    ],
    [
      'deploys anew on a retry, even after a deployment of its own that failed',
      { stored: [deployment('dep_old', { status: 'failed' })] },
      ['dev rel_2 r_1'],
      'dep_new',
    ],
  ])('%s', async (_name, options, deployed, followed) => {
    const outcome = await attempt(options);

    expect(outcome.deployed).toEqual(deployed);
    expect(outcome.recorded).toEqual([followed]);
    expect(outcome.result.output?.['deploymentId']).toBe(followed);
  });

  it.each([
    [
      new ExternalServiceError(
        'router not reachable at http://127.0.0.1:8801: start `phoenix router`',
      ),
      true,
    ],
    [
      new ValidationError([
        {
          location: { file: 'phoenix.yml', line: 4, column: 5 },
          key: 'environments[0].listeners',
          message: 'dev has no listeners',
        },
      ]),
      false,
    ],
  ])('fails the stage with a refusal’s message: %s', async (error, platformFailure) => {
    const { result, recorded } = await attempt({ deployError: error });

    expect(result).toEqual({
      status: 'failed',
      reason: error.message,
      ...(platformFailure ? { platformFailure } : {}),
    });
    expect(recorded).toEqual([]);
  });

  it('deploys nothing for a run cancelled before its deploy stage began', async () => {
    const { result, deployed } = await attempt({ aborted: true });

    expect(result).toEqual({ status: 'cancelled', reason: 'cancelled before deploying' });
    expect(deployed).toEqual([]);
  });
});
