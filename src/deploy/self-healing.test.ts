import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../shared/errors.js';
import type { Deployment, DeploymentStrategy } from './deployment.js';
import { DeployHarness, LISTENERS, type TestRelease } from './testing/deploy-harness.js';
import type { RouterCall } from './testing/recording-router.js';

// Canary and linear deployments judged on live traffic, the crash-loop breaker, promotion
// and abort. Traffic is played into the recording router's rolling window on the harness's
// clock, which `jump` moves from one judged period to the next.

const PRODUCTION = LISTENERS.production.name;
const INTERVAL_MS = 10 * 60_000;
const BAKE_MS = 10 * 60_000;
const CANARY: DeploymentStrategy = {
  kind: 'canary',
  percent: 10,
  intervalMs: INTERVAL_MS,
  bakeMs: BAKE_MS,
  testListener: false,
  manualPromote: false,
};
/** The default alarms judge periods of 200 ms. */
const PERIOD_MS = 200;

let harness: DeployHarness;

beforeEach(() => {
  harness = new DeployHarness();
});

afterEach(async () => {
  const complaints = [...harness.router.complaints];
  expect(await harness.cleanup()).toEqual([]);
  expect(complaints).toEqual([]);
});

async function serveFirst(): Promise<TestRelease> {
  const controller = harness.controller();
  const release = harness.release('v1');
  const deployment = await harness.deploy(controller, release);
  expect((await controller.whenFinished(deployment.id)).status).toBe('succeeded');
  return release;
}

function productionSplits(since = 0): RouterCall[] {
  return harness.router.calls
    .slice(since)
    .filter((call) => call.op === 'applyWeights' && call.listener === PRODUCTION);
}

/** Plays `periods` judged periods of traffic to the new release, `status` for each request. */
function play(group: string, status: number, periods: number): void {
  for (let i = 0; i < periods; i++) {
    harness.router.serve(group, { status, count: 10 });
    harness.clock.jump(PERIOD_MS);
  }
}

function firstBake(deployment: Deployment): number {
  return deployment.plan.findIndex((step) => step.kind === 'bake');
}

function event(deployment: Deployment, type: string) {
  return deployment.timeline.find((e) => e.type === type);
}

describe('canary', () => {
  it('sends the canary share, judges it, then all of production; the previous release stops', async () => {
    await serveFirst();
    const controller = harness.controller();
    const since = harness.router.calls.length;

    const recorded = await harness.deploy(controller, harness.release('v2'), CANARY);
    await harness.until(recorded.id, (d) => d.status === 'baking');
    play('shop-dev-2', 200, 3);
    harness.clock.jump(INTERVAL_MS);
    await harness.until(recorded.id, (d) => d.status === 'baking' && d.step > firstBake(d));
    harness.clock.jump(BAKE_MS);
    const finished = await controller.whenFinished(recorded.id);

    expect(finished.status).toBe('succeeded');
    expect(productionSplits(since).map((call) => call.op === 'applyWeights' && call.split)).toEqual(
      [
        [
          { group: 'shop-dev-2', weight: 10 },
          { group: 'shop-dev-1', weight: 90 },
        ],
        [
          { group: 'shop-dev-2', weight: 100 },
          { group: 'shop-dev-1', weight: 0 },
        ],
      ],
    );
    expect(await harness.serving()).toBe('v2');
  });

  it('rolls a failing canary back on its live traffic, with the datapoints that tripped it', async () => {
    await serveFirst();
    const controller = harness.controller();
    const recorded = await harness.deploy(controller, harness.release('v2'), CANARY);
    await harness.until(recorded.id, (d) => d.status === 'baking');
    const since = harness.router.calls.length;

    play('shop-dev-2', 500, 3);
    const finished = await controller.whenFinished(recorded.id);

    expect(finished).toMatchObject({ status: 'rolled-back', servingReleaseId: 'rel_1' });
    expect(finished.reason).toMatch(
      /^alarm release-errors: error-rate 100% > 10% in \d of the last 3 periods of 200ms/,
    );
    expect(event(finished, 'release.failing')).toMatchObject({
      data: {
        cause: 'release-errors',
        alarm: 'release-errors',
        datapoints: expect.arrayContaining([expect.objectContaining({ value: 100, requests: 10 })]),
      },
    });
    expect(event(finished, 'rollback.started')?.data).toMatchObject({ cause: 'release-errors' });
    expect(productionSplits(since)[0]).toMatchObject({
      split: [{ group: 'shop-dev-1', weight: 100 }],
    });
    expect(await harness.serving()).toBe('v1');
  });

  it('does not page on one error among a handful of requests', async () => {
    await serveFirst();
    const controller = harness.controller();
    const recorded = await harness.deploy(controller, harness.release('v2'), CANARY);
    await harness.until(recorded.id, (d) => d.status === 'baking');

    for (let i = 0; i < 5; i++) {
      harness.router.serve('shop-dev-2', { status: 500, count: 1 });
      harness.router.serve('shop-dev-2', { status: 200, count: 2 });
      harness.clock.jump(PERIOD_MS);
    }
    harness.clock.jump(INTERVAL_MS);
    await harness.until(recorded.id, (d) => d.status === 'baking' && d.step > firstBake(d));
    harness.clock.jump(BAKE_MS);
    const finished = await controller.whenFinished(recorded.id);

    expect(finished.status).toBe('succeeded');
  });

  it('retries the canary’s failed GETs on the previous release when the environment asks', async () => {
    await serveFirst();
    const controller = harness.controller();
    const since = harness.router.calls.length;

    const recorded = await harness.deploy(controller, harness.release('v2'), CANARY, {
      retryCanaryErrors: true,
    });
    await harness.until(recorded.id, (d) => d.status === 'baking');

    expect(productionSplits(since)[0]).toMatchObject({
      serverErrorRetry: { from: 'shop-dev-2', to: 'shop-dev-1' },
    });
    await controller.abort(recorded.id, 'alice');
    await controller.whenFinished(recorded.id);
  });
});

describe('the crash-loop breaker', () => {
  it('fails a release that exits at start within seconds, leaving production untouched', async () => {
    await serveFirst();
    const controller = harness.controller();
    const since = harness.router.calls.length;

    const recorded = await harness.deploy(
      controller,
      harness.release('v2', { crash: true }),
      CANARY,
    );
    const finished = await controller.whenFinished(recorded.id);

    expect(finished.status).toBe('failed');
    expect(finished.reason).toMatch(/crash loop: \S+ restarted 3× within 30(\.0)?s/);
    expect(productionSplits(since)).toEqual([]);
    expect(await harness.serving()).toBe('v1');
  });
});

describe('promotion and abort', () => {
  it('holds a blue/green deployment for a person, then moves production when promoted', async () => {
    await serveFirst();
    const controller = harness.controller();
    const strategy: DeploymentStrategy = {
      kind: 'blue-green',
      bakeMs: 0,
      testListener: false,
      manualPromote: true,
    };
    const since = harness.router.calls.length;

    const recorded = await harness.deploy(controller, harness.release('v2'), strategy);
    const held = await harness.until(recorded.id, (d) => d.status === 'paused');
    const splitsWhileHeld = productionSplits(since).length;
    controller.promote(recorded.id, 'bob');
    const finished = await controller.whenFinished(recorded.id);

    expect(held.plan[held.step]).toMatchObject({ kind: 'await-promotion' });
    expect(splitsWhileHeld).toBe(0);
    expect(finished.status).toBe('succeeded');
    expect(event(finished, 'deployment.promoted')).toMatchObject({ data: { actor: 'bob' } });
    expect(await harness.serving()).toBe('v2');
  });

  it('pauses a canary at its share past the interval, still judged, until resumed', async () => {
    await serveFirst();
    const controller = harness.controller();
    const recorded = await harness.deploy(controller, harness.release('v2'), CANARY);
    const baking = await harness.until(recorded.id, (d) => d.status === 'baking');

    controller.pause(recorded.id, 'dan');
    harness.clock.jump(INTERVAL_MS);
    const stillThere = await harness.until(recorded.id, (d) =>
      d.timeline.some((e) => e.type === 'bake.held'),
    );
    play('shop-dev-2', 200, 3);
    controller.resume(recorded.id, 'dan');
    await harness.until(recorded.id, (d) => d.status === 'baking' && d.step > firstBake(d));
    harness.clock.jump(BAKE_MS);
    const finished = await controller.whenFinished(recorded.id);

    expect(stillThere.step).toBe(baking.step);
    expect(() => controller.resume(recorded.id, 'dan')).toThrow(ConflictError);
    expect(finished.status).toBe('succeeded');
    expect(finished.timeline.map((e) => e.type)).toEqual(
      expect.arrayContaining(['deployment.paused', 'deployment.resumed']),
    );
  });

  it('holds a paused deployment between steps, and a held bake still rolls back on an alarm', async () => {
    await serveFirst();
    const controller = harness.controller();
    const recorded = await harness.deploy(controller, harness.release('v2'), CANARY);
    await harness.until(recorded.id, (d) => d.status === 'baking');

    controller.pause(recorded.id, 'dan');
    harness.clock.jump(INTERVAL_MS);
    play('shop-dev-2', 500, 3);
    const finished = await controller.whenFinished(recorded.id);

    expect(finished.status).toBe('rolled-back');
    expect(finished.reason).toMatch(/^alarm release-errors/);
  });

  it('refuses to promote what waits for no promotion', async () => {
    await serveFirst();
    const controller = harness.controller();
    const [finished] = harness.store.deployments.serving();

    expect(() => controller.promote(finished?.id ?? '', 'bob')).toThrow(ConflictError);
  });

  it('aborts a canary: production back at once, the new release stopped, status aborted', async () => {
    await serveFirst();
    const controller = harness.controller();
    const green = harness.release('v2');
    const recorded = await harness.deploy(controller, green, CANARY);
    await harness.until(recorded.id, (d) => d.status === 'baking');

    await controller.abort(recorded.id, 'carol');
    const finished = await controller.whenFinished(recorded.id);

    expect(finished).toMatchObject({ status: 'aborted', reason: 'aborted by carol' });
    expect(harness.router.route(PRODUCTION)).toEqual([{ group: 'shop-dev-1', weight: 100 }]);
    expect(
      harness.runtime
        .list({ service: 'shop', environment: 'dev', releaseId: green.id })
        .map((i) => i.status),
    ).toEqual(['stopped', 'stopped']);
    await expect(controller.abort(recorded.id, 'carol')).rejects.toThrow(ConflictError);
  });
});
