import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Deployment } from '../deploy/deployment.js';
import type { NewDeployment } from '../deploy/ports.js';
import { releaseMonitor } from '../deploy/release-monitor.js';
import { planBlueGreen } from '../deploy/strategies/blue-green.js';
import { ConflictError, IllegalTransitionError, NotFoundError } from '../shared/errors.js';
import type { Store } from './store.js';
import { openScratchStore, type ScratchStore } from './testing/scratch-store.js';

let scratch: ScratchStore;
let store: Store;
let clock: number;

const START = Date.UTC(2026, 0, 1);
const iso = (ms: number) => new Date(ms).toISOString();

beforeEach(async () => {
  clock = START;
  scratch = await openScratchStore({
    prefix: 'phoenix-deployments-',
    now: () => clock,
    services: ['shop', 'api'],
  });
  store = scratch.store;
});

afterEach(async () => {
  await scratch.close();
});

function input(overrides: Partial<NewDeployment> = {}): NewDeployment {
  const strategy = {
    kind: 'blue-green',
    bakeMs: 60_000,
    testListener: true,
    manualPromote: false,
  } as const;
  return {
    service: 'shop',
    environment: 'dev',
    releaseId: 'rel_2',
    previousReleaseId: 'rel_1',
    strategy,
    plan: planBlueGreen(strategy, { previous: true, hookPoints: ['test-traffic'] }),
    target: {
      releaseNumber: 2,
      commit: 'c0ffee',
      group: 'shop-dev-2',
      previousGroup: 'shop-dev-1',
      command: 'npm start',
      portEnv: 'PORT',
      instances: 2,
      healthCheck: {
        path: '/health',
        intervalMs: 5000,
        timeoutMs: 2000,
        healthyThreshold: 2,
        unhealthyThreshold: 3,
        matcher: [[200, 299]],
        gracePeriodMs: 10_000,
      },
      env: { LOG_LEVEL: 'info' },
      monitor: releaseMonitor({}),
      functionCommands: { smoke: { command: 'npm run smoke', timeoutMs: 60_000 } },
    },
    trigger: { type: 'pipeline', actor: 'pipeline', runId: 'r_1' },
    ...overrides,
  };
}

/** Runs a deployment through `statuses` (each its own step), one millisecond apart. */
function walk(deployment: Deployment, ...statuses: Deployment['status'][]): Deployment {
  let current = deployment;
  for (const [index, status] of statuses.entries()) {
    clock += 1;
    current = store.deployments.record(current.id, {
      status,
      step: index,
      event: { type: 'step.started' },
    });
  }
  return current;
}

describe('DeploymentRepository', () => {
  it('records a pending deployment with everything it needs to finish, and its first event', () => {
    const created = store.deployments.create(input());

    expect(created.id).toMatch(/^dep_[0-9a-z]{17}$/);
    expect(created).toEqual({
      ...input(),
      id: created.id,
      status: 'pending',
      step: -1,
      createdAt: iso(START),
      updatedAt: iso(START),
      timeline: [
        {
          id: expect.any(Number),
          deploymentId: created.id,
          time: iso(START),
          type: 'deployment.created',
          data: {
            releaseId: 'rel_2',
            previousReleaseId: 'rel_1',
            strategy: input().strategy,
            trigger: input().trigger,
          },
        },
      ],
    });
    expect(store.deployments.get(created.id)).toEqual(created);
  });

  it('refuses an unknown service and an unknown deployment', () => {
    expect(() => store.deployments.create(input({ service: 'nope' }))).toThrow(NotFoundError);
    expect(() => store.deployments.get('dep_x')).toThrow(NotFoundError);
    expect(() => store.deployments.record('dep_x', { event: { type: 'x' } })).toThrow(
      NotFoundError,
    );
    expect(() => store.deployments.append('dep_x', { type: 'x' })).toThrow(NotFoundError);
  });

  it('allows one unfinished deployment per environment of a service', () => {
    const first = store.deployments.create(input());

    expect(() => store.deployments.create(input({ releaseId: 'rel_3' }))).toThrow(
      new ConflictError(`shop is already being deployed to dev: ${first.id} (pending)`),
    );
    expect(() => store.deployments.create(input({ environment: 'prod' }))).not.toThrow();
    expect(() => store.deployments.create(input({ service: 'api' }))).not.toThrow();
    store.deployments.record(first.id, {
      status: 'aborted',
      event: { type: 'deployment.finished' },
    });
    expect(() => store.deployments.create(input({ releaseId: 'rel_3' }))).not.toThrow();
  });

  it('writes a change and its event together; the step start time is the change’s', () => {
    const created = store.deployments.create(input());
    clock += 5;

    const started = store.deployments.record(created.id, {
      status: 'starting',
      step: 0,
      event: { type: 'step.started', data: { kind: 'start' } },
    });

    expect(started).toMatchObject({
      status: 'starting',
      step: 0,
      stepStartedAt: iso(START + 5),
      updatedAt: iso(START + 5),
    });
    expect(started.timeline.at(-1)).toMatchObject({
      type: 'step.started',
      time: iso(START + 5),
      data: { from: 'pending', to: 'starting', kind: 'start' },
    });
  });

  it('refuses an illegal transition and writes nothing', () => {
    const created = store.deployments.create(input());

    expect(() =>
      store.deployments.record(created.id, {
        status: 'succeeded',
        event: { type: 'deployment.finished' },
      }),
    ).toThrow(IllegalTransitionError);
    expect(store.deployments.get(created.id)).toEqual(created);
  });

  it('keeps the rollback’s outcome and reason, and what serves once finished', () => {
    const baking = walk(
      store.deployments.create(input()),
      'starting',
      'testing',
      'shifting',
      'baking',
    );

    const rolling = store.deployments.record(baking.id, {
      status: 'rolling-back',
      outcome: 'rolled-back',
      reason: 'no target is healthy',
      event: { type: 'rollback.started', reason: 'no target is healthy' },
    });
    clock += 10;
    const done = store.deployments.record(baking.id, {
      status: 'rolled-back',
      servingReleaseId: 'rel_1',
      event: { type: 'deployment.finished' },
    });

    expect(rolling).toMatchObject({
      status: 'rolling-back',
      outcome: 'rolled-back',
      reason: 'no target is healthy',
    });
    expect(rolling.finishedAt).toBeUndefined();
    expect(done).toMatchObject({
      status: 'rolled-back',
      reason: 'no target is healthy',
      servingReleaseId: 'rel_1',
      finishedAt: iso(clock),
    });
    expect(done.step).toBe(3);
    expect(store.deployments.servingRelease('shop', 'dev')).toBe('rel_1');
  });

  it('lists unfinished deployments oldest first, the newest per environment, and what serves', () => {
    const devDone = walk(store.deployments.create(input()), 'starting', 'shifting', 'succeeded');
    store.deployments.record(devDone.id, {
      servingReleaseId: 'rel_2',
      event: { type: 'deployment.finished' },
    });
    clock += 1;
    const devNext = store.deployments.create(
      input({ releaseId: 'rel_3', previousReleaseId: 'rel_2' }),
    );
    clock += 1;
    const prod = store.deployments.create(input({ environment: 'prod' }));

    expect(store.deployments.unfinished().map((d) => d.id)).toEqual([devNext.id, prod.id]);
    expect(store.deployments.latest('shop').map((d) => [d.environment, d.id])).toEqual([
      ['dev', devNext.id],
      ['prod', prod.id],
    ]);
    expect(store.deployments.latest('shop', 'prod').map((d) => d.id)).toEqual([prod.id]);
    expect(store.deployments.latest('api')).toEqual([]);
    expect(
      store.deployments.list({ service: 'shop', environment: 'dev', limit: 10 }).map((d) => d.id),
    ).toEqual([devNext.id, devDone.id]);
    expect(store.deployments.servingRelease('shop', 'dev')).toBe('rel_2');
    expect(store.deployments.servingRelease('shop', 'prod')).toBeUndefined();
  });

  it('finds, per environment at rest, the successful deployment of the release that serves it', () => {
    const served = (id: string, release: string) =>
      store.deployments.record(id, {
        servingReleaseId: release,
        event: { type: 'deployment.finished' },
      });
    const devGood = walk(store.deployments.create(input()), 'starting', 'shifting', 'succeeded');
    served(devGood.id, 'rel_2');
    clock += 1;
    const devBad = store.deployments.create(
      input({ releaseId: 'rel_3', previousReleaseId: 'rel_2' }),
    );
    walk(devBad, 'starting', 'rolling-back', 'rolled-back');
    served(devBad.id, 'rel_2');
    clock += 1;
    const prodGood = walk(
      store.deployments.create(input({ environment: 'prod' })),
      'starting',
      'shifting',
      'succeeded',
    );
    served(prodGood.id, 'rel_2');
    clock += 1;
    store.deployments.create(input({ environment: 'prod', releaseId: 'rel_3' }));
    clock += 1;
    const api = walk(
      store.deployments.create(input({ service: 'api', releaseId: 'rel_9' })),
      'starting',
      'shifting',
      'succeeded',
    );
    served(api.id, 'rel_9');

    expect(store.deployments.serving().map((d) => [d.service, d.environment, d.id])).toEqual([
      ['api', 'dev', api.id],
      ['shop', 'dev', devGood.id],
    ]);
  });

  it('keeps the timeline append-only and readable from a cursor', () => {
    const created = store.deployments.create(input());
    const event = store.deployments.append(created.id, {
      type: 'hook.finished',
      reason: 'exit 3',
      data: { ok: false },
    });

    expect(event).toMatchObject({
      deploymentId: created.id,
      type: 'hook.finished',
      reason: 'exit 3',
      data: { ok: false },
    });
    expect(store.deployments.timeline(created.id, event.id - 1)).toEqual([event]);
    expect(() => store.db.prepare(`UPDATE deployment_events SET type = 'x'`).run()).toThrow(
      /append-only/,
    );
  });
});
