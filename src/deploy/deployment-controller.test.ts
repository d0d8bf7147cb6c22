import { existsSync, readFileSync } from 'node:fs';
import { watch } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HOOK_MARK_VARIABLE } from '../config/appspec-hooks.js';
import { ConflictError, UnsupportedError } from '../shared/errors.js';
import { readProcessStat } from '../runtime/local/proc.js';
import { findMarkedProcesses } from '../shared/marked-processes.js';
import type { Deployment } from './deployment.js';
import { DeployHarness, httpGet, LISTENERS, type TestRelease } from './testing/deploy-harness.js';
import type { RouterCall } from './testing/recording-router.js';

const PRODUCTION = LISTENERS.production.name;
const TEST = LISTENERS.test.name;
const BAKE_MS = 10 * 60_000;
const BLUE_GREEN = {
  kind: 'blue-green',
  bakeMs: BAKE_MS,
  testListener: true,
  manualPromote: false,
} as const;

let harness: DeployHarness;

beforeEach(() => {
  harness = new DeployHarness();
});

afterEach(async () => {
  const complaints = [...harness.router.complaints];
  expect(await harness.cleanup()).toEqual([]);
  expect(complaints).toEqual([]);
});

function statuses(deployment: Deployment): string[] {
  return deployment.timeline
    .filter((e) => e.data['to'] !== undefined)
    .map((e) => String(e.data['to']));
}

function weightCalls(listener: string, since = 0): Extract<RouterCall, { op: 'applyWeights' }>[] {
  return harness.router.calls
    .slice(since)
    .filter(
      (call): call is Extract<RouterCall, { op: 'applyWeights' }> => call.op === 'applyWeights',
    )
    .filter((call) => call.listener === listener);
}

function instancesOf(release: TestRelease) {
  return harness.runtime.list({ service: 'shop', environment: 'dev', releaseId: release.id });
}

/** Resolves once `pid` has exited (it is gone, or a zombie): checked after each turn of the event loop. */
async function exited(pid: number | undefined): Promise<void> {
  if (pid === undefined) return;
  for (;;) {
    const stat = await readProcessStat(pid);
    if (stat === undefined || stat.state === 'Z') return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Resolves once `path` exists, woken by changes in its folder (no polling). */
async function fileAppears(path: string): Promise<void> {
  const abort = new AbortController();
  const changes = watch(dirname(path), { signal: abort.signal });
  try {
    if (existsSync(path)) return;
    for await (const change of changes)
      if (change.eventType !== undefined && existsSync(path)) return;
  } catch (error) {
    if (!abort.signal.aborted) throw error;
  } finally {
    abort.abort();
  }
}

async function answers(port: number): Promise<boolean> {
  return httpGet(port).then(
    () => true,
    () => false,
  );
}

/** A first deployment of `version`, all at once; returns the release. */
async function serveFirst(version = 'v1'): Promise<TestRelease> {
  const controller = harness.controller();
  const release = harness.release(version);
  const deployment = await harness.deploy(controller, release);
  expect((await controller.whenFinished(deployment.id)).status).toBe('succeeded');
  return release;
}

/** Hook scripts that append their event's name to hooks.log in the release. */
function recordingHooks(failAt?: string): { appspec: string; files: Record<string, string> } {
  const events = [
    'BeforeInstall',
    'AfterInstall',
    'AfterAllowTestTraffic',
    'BeforeAllowTraffic',
    'AfterAllowTraffic',
  ];
  return {
    appspec: [
      'version: 0.0',
      'Resources:',
      '  - TargetService:',
      '      Type: AWS::ECS::Service',
      '      Properties:',
      '        TaskDefinition: shop',
      '        LoadBalancerInfo:',
      '          ContainerName: web',
      '          ContainerPort: 8080',
      'Hooks:',
      ...events.map((event) => `  - ${event}: ${event}Fn`),
      'PhoenixCommands:',
      ...events.map((event) => `  ${event}Fn: ./hook.sh`),
      '',
    ].join('\n'),
    files: {
      'hook.sh': [
        '#!/bin/sh',
        'echo "$LIFECYCLE_EVENT $DEPLOYMENT_ID ${PHOENIX_TEST_URL:-none}" >> hooks.log',
        'echo "hook $LIFECYCLE_EVENT says hello"',
        failAt === undefined
          ? ''
          : `[ "$LIFECYCLE_EVENT" = "${failAt}" ] && { echo "smoke test failed" >&2; exit 3; }`,
        'exit 0',
        '',
      ].join('\n'),
    },
  };
}

describe('DeploymentController: all at once', () => {
  it('deploys a first release: the listener appears only once its group is healthy', async () => {
    const controller = harness.controller();
    const release = harness.release('v1');

    const recorded = await harness.deploy(controller, release);
    const finished = await controller.whenFinished(recorded.id);

    expect(recorded).toMatchObject({ status: 'pending', step: -1, releaseId: 'rel_1' });
    expect(recorded.id).toMatch(/^dep_/);
    expect(recorded.previousReleaseId).toBeUndefined();
    expect(finished).toMatchObject({ status: 'succeeded', servingReleaseId: 'rel_1' });
    expect(statuses(finished)).toEqual(['starting', 'shifting', 'succeeded']);
    expect(harness.router.route(PRODUCTION)).toEqual([{ group: 'shop-dev-1', weight: 100 }]);
    expect(harness.router.route(TEST)).toEqual([{ group: 'shop-dev-1', weight: 100 }]);
    expect(weightCalls(PRODUCTION)).toEqual([
      expect.objectContaining({ healthy: { 'shop-dev-1': 2 } }),
    ]);
    const firstListener = harness.router.calls.findIndex((c) => c.op === 'putListener');
    const group = harness.router.calls.findIndex((c) => c.op === 'putTargetGroup');
    expect(group).toBeLessThan(firstListener);
    expect(instancesOf(release).map((i) => i.status)).toEqual(['running', 'running']);
    expect(await harness.serving()).toBe('v1');
    expect(controller.status('shop')).toEqual([
      { environment: 'dev', servingReleaseId: 'rel_1', latest: finished },
    ]);
  });

  it('never creates the listener of a first release that does not get healthy', async () => {
    const controller = harness.controller();
    const release = harness.release('v1', { healthy: false });

    const finished = await controller.whenFinished((await harness.deploy(controller, release)).id);

    expect(finished).toMatchObject({ status: 'failed', outcome: 'failed' });
    expect(finished.servingReleaseId).toBeUndefined();
    expect(harness.router.route(PRODUCTION)).toBeUndefined();
    expect(harness.router.groupNames()).toEqual([]);
    expect(instancesOf(release).map((i) => i.status)).toEqual(['stopped', 'stopped']);
  });

  it('replaces the serving release: shift, then drain and stop the old one', async () => {
    const v1 = await serveFirst();
    const oldPorts = instancesOf(v1).map((i) => i.port);
    const controller = harness.controller();
    const v2 = harness.release('v2');
    const since = harness.router.calls.length;

    const finished = await controller.whenFinished((await harness.deploy(controller, v2)).id);

    expect(finished).toMatchObject({
      status: 'succeeded',
      previousReleaseId: 'rel_1',
      servingReleaseId: 'rel_2',
    });
    expect(statuses(finished)).toEqual(['starting', 'shifting', 'draining', 'succeeded']);
    const calls = harness.router.calls.slice(since);
    const shift = calls.findIndex((c) => c.op === 'applyWeights' && c.listener === PRODUCTION);
    const drain = calls.findIndex((c) => c.op === 'drain' && c.group === 'shop-dev-1');
    const remove = calls.findIndex((c) => c.op === 'removeTargetGroup' && c.group === 'shop-dev-1');
    expect([shift >= 0, shift < drain, drain < remove]).toEqual([true, true, true]);
    expect(weightCalls(PRODUCTION, since)[0]).toMatchObject({
      split: [
        { group: 'shop-dev-2', weight: 100 },
        { group: 'shop-dev-1', weight: 0 },
      ],
      healthy: { 'shop-dev-2': 2 },
    });
    expect(harness.router.route(PRODUCTION)).toEqual([{ group: 'shop-dev-2', weight: 100 }]);
    expect(harness.router.groupNames()).toEqual(['shop-dev-2']);
    expect(instancesOf(v1).map((i) => i.status)).toEqual(['stopped', 'stopped']);
    for (const port of oldPorts) expect(await answers(port)).toBe(false);
    expect(await harness.serving()).toBe('v2');
  });

  it('with a test listener, tests the new release there and runs every ECS hook before the switch', async () => {
    await serveFirst();
    const controller = harness.controller();
    const v2 = harness.release('v2', recordingHooks());
    const since = harness.router.calls.length;

    const recorded = await harness.deploy(controller, v2, {
      kind: 'all-at-once',
      bakeMs: 0,
      testListener: true,
    });
    const finished = await controller.whenFinished(recorded.id);

    expect(finished).toMatchObject({ status: 'succeeded', servingReleaseId: 'rel_2' });
    expect(statuses(finished)).toEqual([
      'starting',
      'testing',
      'shifting',
      'draining',
      'succeeded',
    ]);
    const testFirst = harness.router.calls.indexOf(weightCalls(TEST, since)[0] as RouterCall);
    const production = harness.router.calls.indexOf(
      weightCalls(PRODUCTION, since)[0] as RouterCall,
    );
    expect(testFirst).toBeGreaterThanOrEqual(0);
    expect(testFirst).toBeLessThan(production);
    const hooks = readFileSync(`${v2.directory}/hooks.log`, 'utf8').trim().split('\n');
    expect(hooks).toEqual([
      `BeforeInstall ${recorded.id} none`,
      `AfterInstall ${recorded.id} none`,
      `AfterAllowTestTraffic ${recorded.id} http://127.0.0.1:18081`,
      `BeforeAllowTraffic ${recorded.id} http://127.0.0.1:18081`,
      `AfterAllowTraffic ${recorded.id} http://127.0.0.1:18081`,
    ]);
  });

  it('told not to route test traffic first, still runs AfterAllowTestTraffic before the switch, without a test URL', async () => {
    await serveFirst();
    const controller = harness.controller();
    const v2 = harness.release('v2', recordingHooks());

    const recorded = await harness.deploy(controller, v2);
    const finished = await controller.whenFinished(recorded.id);

    expect(finished).toMatchObject({ status: 'succeeded', servingReleaseId: 'rel_2' });
    const hooks = readFileSync(`${v2.directory}/hooks.log`, 'utf8').trim().split('\n');
    expect(hooks).toEqual([
      `BeforeInstall ${recorded.id} none`,
      `AfterInstall ${recorded.id} none`,
      `AfterAllowTestTraffic ${recorded.id} none`,
      `BeforeAllowTraffic ${recorded.id} none`,
      // The test listener follows production once it moves.
      `AfterAllowTraffic ${recorded.id} http://127.0.0.1:18081`,
    ]);
  });

  it('refuses a second deployment of an environment while one is in flight, and the serving release', async () => {
    const v1 = await serveFirst();
    const controller = harness.controller();
    const v2 = harness.release('v2');

    const first = await harness.deploy(controller, v2);
    const second = harness.deploy(controller, harness.release('v3'));
    await expect(second).rejects.toThrow(ConflictError);
    await controller.whenFinished(first.id);

    await expect(harness.deploy(controller, v2)).rejects.toThrow(/already serves/);
    expect(controller.status('shop')[0]).toMatchObject({ servingReleaseId: v2.id });
    expect(instancesOf(v1).map((i) => i.status)).toEqual(['stopped', 'stopped']);
  });
});

describe('DeploymentController: blue/green', () => {
  it('tests green on the test listener, runs the hooks in order, bakes with blue up, then stops blue', async () => {
    const blue = await serveFirst();
    const bluePorts = instancesOf(blue).map((i) => i.port);
    const controller = harness.controller();
    const green = harness.release('v2', recordingHooks());
    const since = harness.router.calls.length;

    const recorded = await harness.deploy(controller, green, BLUE_GREEN);
    const baking = await harness.until(recorded.id, (d) => d.status === 'baking');

    expect(weightCalls(TEST, since)[0]).toMatchObject({
      split: [{ group: 'shop-dev-2', weight: 100 }],
      healthy: { 'shop-dev-2': 2 },
    });
    const testFirst = harness.router.calls.indexOf(weightCalls(TEST, since)[0] as RouterCall);
    const production = harness.router.calls.indexOf(
      weightCalls(PRODUCTION, since)[0] as RouterCall,
    );
    expect(testFirst).toBeLessThan(production);
    expect(harness.router.route(PRODUCTION)).toEqual([
      { group: 'shop-dev-2', weight: 100 },
      { group: 'shop-dev-1', weight: 0 },
    ]);
    expect(await harness.serving()).toBe('v2');
    for (const port of bluePorts) expect(await answers(port)).toBe(true);
    expect(baking.previousReleaseId).toBe('rel_1');

    harness.clock.jump(BAKE_MS);
    const finished = await controller.whenFinished(recorded.id);

    expect(finished).toMatchObject({ status: 'succeeded', servingReleaseId: 'rel_2' });
    expect(statuses(finished)).toEqual([
      'starting',
      'testing',
      'shifting',
      'baking',
      'draining',
      'succeeded',
    ]);
    expect(instancesOf(blue).map((i) => i.status)).toEqual(['stopped', 'stopped']);
    for (const port of bluePorts) expect(await answers(port)).toBe(false);
    expect(harness.router.groupNames()).toEqual(['shop-dev-2']);
    const hooks = readFileSync(`${green.directory}/hooks.log`, 'utf8').trim().split('\n');
    expect(hooks).toEqual([
      `BeforeInstall ${recorded.id} none`,
      `AfterInstall ${recorded.id} none`,
      `AfterAllowTestTraffic ${recorded.id} http://127.0.0.1:18081`,
      `BeforeAllowTraffic ${recorded.id} http://127.0.0.1:18081`,
      `AfterAllowTraffic ${recorded.id} http://127.0.0.1:18081`,
    ]);
    expect(readFileSync(controller.logFile(recorded.id), 'utf8')).toContain(
      'hook AfterAllowTraffic says hello',
    );
  });

  it('rides out a router that is unreachable during the bake: the step runs again, nothing rolls back', async () => {
    const blue = await serveFirst();
    const controller = harness.controller();
    const green = harness.release('v2');
    const recorded = await harness.deploy(controller, green, BLUE_GREEN);
    await harness.until(recorded.id, (d) => d.status === 'baking');

    harness.router.unreachable = true;
    harness.clock.jump(BAKE_MS);
    const waiting = await harness.until(recorded.id, (d) =>
      d.timeline.some((e) => e.type === 'step.retry'),
    );
    harness.router.unreachable = false;
    harness.clock.jump(500);
    const finished = await controller.whenFinished(recorded.id);

    expect(waiting.timeline.find((e) => e.type === 'step.retry')).toMatchObject({
      reason: 'the router is not reachable: connect ECONNREFUSED',
      data: { kind: 'bake', retryInMs: 500 },
    });
    expect(finished).toMatchObject({ status: 'succeeded', servingReleaseId: 'rel_2' });
    expect(statuses(finished)).not.toContain('rolling-back');
    expect(instancesOf(blue).map((i) => i.status)).toEqual(['stopped', 'stopped']);
    expect(await harness.serving()).toBe('v2');
  });

  it('fails a green that never gets healthy: blue keeps serving untouched and green stops', async () => {
    await serveFirst();
    const controller = harness.controller();
    const green = harness.release('v2', { healthy: false });
    const since = harness.router.calls.length;

    const finished = await controller.whenFinished(
      (await harness.deploy(controller, green, BLUE_GREEN)).id,
    );

    expect(finished).toMatchObject({
      status: 'failed',
      outcome: 'failed',
      servingReleaseId: 'rel_1',
    });
    expect(finished.reason).toMatch(
      /^the new release never became healthy: 0 of 2 targets healthy after .*status 503/,
    );
    expect(statuses(finished)).toEqual(['starting', 'rolling-back', 'failed']);
    expect(weightCalls(PRODUCTION, since)).toEqual([]);
    expect(weightCalls(TEST, since)).toEqual([]);
    expect(harness.router.route(PRODUCTION)).toEqual([{ group: 'shop-dev-1', weight: 100 }]);
    expect(harness.router.groupNames()).toEqual(['shop-dev-1']);
    expect(instancesOf(green).map((i) => i.status)).toEqual(['stopped', 'stopped']);
    expect(await harness.serving()).toBe('v1');
    expect(controller.status('shop', 'dev')[0]?.servingReleaseId).toBe('rel_1');
  });

  it('fails a first release whose smoke test fails: no listener is left behind', async () => {
    const controller = harness.controller();
    const v1 = harness.release('v1', recordingHooks('AfterAllowTestTraffic'));

    const finished = await controller.whenFinished(
      (await harness.deploy(controller, v1, BLUE_GREEN)).id,
    );

    expect(finished).toMatchObject({ status: 'failed' });
    expect(finished.servingReleaseId).toBeUndefined();
    expect(weightCalls(TEST).map((call) => call.split)).toEqual([
      [{ group: 'shop-dev-1', weight: 100 }],
    ]);
    // The test listener was made for this release: it goes with it, and so does its group.
    expect(harness.router.route(TEST)).toBeUndefined();
    expect(harness.router.route(PRODUCTION)).toBeUndefined();
    expect(harness.router.groupNames()).toEqual([]);
    expect(finished.timeline.map((e) => e.type)).toContain('listener.removed');
    expect(instancesOf(v1).map((i) => i.status)).toEqual(['stopped', 'stopped']);
  });

  it('fails on a failing AfterAllowTestTraffic hook: production never moves, the test listener goes back', async () => {
    await serveFirst();
    const controller = harness.controller();
    const green = harness.release('v2', recordingHooks('AfterAllowTestTraffic'));
    const since = harness.router.calls.length;

    const finished = await controller.whenFinished(
      (await harness.deploy(controller, green, BLUE_GREEN)).id,
    );

    expect(finished).toMatchObject({ status: 'failed', servingReleaseId: 'rel_1' });
    expect(finished.reason).toBe(
      'hook failed: AfterAllowTestTraffic: ./hook.sh exited with code 3',
    );
    expect(statuses(finished)).toEqual(['starting', 'testing', 'rolling-back', 'failed']);
    expect(weightCalls(PRODUCTION, since)).toEqual([]);
    expect(weightCalls(TEST, since).map((call) => call.split)).toEqual([
      [{ group: 'shop-dev-2', weight: 100 }],
      [{ group: 'shop-dev-1', weight: 100 }],
    ]);
    expect(harness.router.groupNames()).toEqual(['shop-dev-1']);
    expect(instancesOf(green).map((i) => i.status)).toEqual(['stopped', 'stopped']);
    expect(readFileSync(`${green.directory}/hooks.log`, 'utf8')).not.toContain(
      'BeforeAllowTraffic',
    );
    const log = readFileSync(controller.logFile(finished.id), 'utf8');
    expect(log).toContain('smoke test failed');
    expect(log).toContain('Hooks[2].AfterAllowTestTraffic: ./hook.sh exited with code 3 after');
    expect(
      finished.timeline.find((e) => e.type === 'hook.finished' && e.data['ok'] === false),
    ).toMatchObject({
      reason: 'AfterAllowTestTraffic: ./hook.sh exited with code 3',
      data: { event: 'AfterAllowTestTraffic', key: 'Hooks[2].AfterAllowTestTraffic' },
    });
    expect(await harness.serving()).toBe('v1');
  });

  it('refuses an appspec it cannot honour before recording anything', async () => {
    const controller = harness.controller();
    const release = harness.release('v1', {
      appspec:
        'version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - location: scripts/missing.sh\n',
    });

    await expect(harness.deploy(controller, release)).rejects.toThrow(UnsupportedError);
    expect(controller.status('shop')).toEqual([]);
  });
});

describe('DeploymentController: what the environment says', () => {
  it('runs blue/green without test traffic where there is no test listener, and refuses test traffic there', async () => {
    const productionOnly = () => ({ production: LISTENERS.production });
    const controller = harness.controller({ listenersFor: productionOnly });
    await controller.whenFinished((await harness.deploy(controller, harness.release('v1'))).id);
    const green = harness.release('v2');

    const finished = await controller.whenFinished(
      (await harness.deploy(controller, green, { ...BLUE_GREEN, bakeMs: 0, testListener: false }))
        .id,
    );

    expect(finished).toMatchObject({ status: 'succeeded', servingReleaseId: green.id });
    expect(harness.router.route(TEST)).toBeUndefined();
    expect(await harness.serving()).toBe('v2');
    await expect(harness.deploy(controller, harness.release('v3'), BLUE_GREEN)).rejects.toThrow(
      new ConflictError(
        "shop dev has no test listener for blue/green's test traffic (listeners.test)",
      ),
    );
  });

  it("runs as many instances as the environment asks, whatever the release's own count", async () => {
    const controller = harness.controller();
    const release = harness.release('v1');

    const recorded = await controller.deploy({
      service: 'shop',
      environment: 'dev',
      releaseId: release.id,
      config: harness.config,
      trigger: { type: 'manual', actor: 'alice' },
      env: { NODE_BIN: process.execPath, PHOENIX_TEST_RUN: harness.runtimeToken },
      instances: 1,
    });
    const finished = await controller.whenFinished(recorded.id);

    expect(finished).toMatchObject({ status: 'succeeded', target: { instances: 1 } });
    expect(instancesOf(release).map((i) => i.status)).toEqual(['running']);
  });
});

describe('DeploymentController: recovery', () => {
  it('finishes a blue/green deployment after a crash mid-bake: the rest of the bake, then blue stops', async () => {
    const blue = await serveFirst();
    const first = harness.controller();
    const green = harness.release('v2');
    const recorded = await harness.deploy(first, green, BLUE_GREEN);
    await harness.until(recorded.id, (d) => d.status === 'baking');

    await harness.crash(first);
    await harness.restart();
    harness.clock.jump(BAKE_MS / 2);
    const second = harness.controller();
    const report = await second.recover();

    expect(report.decisions).toEqual([
      { deploymentId: recorded.id, decision: expect.objectContaining({ action: 'resume' }) },
    ]);
    expect(await harness.serving()).toBe('v2');
    expect(instancesOf(blue).map((i) => i.status)).toEqual(['running', 'running']);
    expect(harness.store.deployments.get(recorded.id).status).toBe('baking');

    harness.clock.jump(BAKE_MS / 2);
    const finished = await second.whenFinished(recorded.id);

    expect(finished).toMatchObject({ status: 'succeeded', servingReleaseId: 'rel_2' });
    expect(finished.timeline.map((e) => e.type)).toContain('deployment.recovered');
    expect(instancesOf(blue).map((i) => i.status)).toEqual(['stopped', 'stopped']);
    expect(harness.router.route(PRODUCTION)).toEqual([{ group: 'shop-dev-2', weight: 100 }]);
  });

  it('waits for a router that is not up yet before deciding, then finishes the bake', async () => {
    await serveFirst();
    const first = harness.controller();
    const green = harness.release('v2');
    const recorded = await harness.deploy(first, green, BLUE_GREEN);
    await harness.until(recorded.id, (d) => d.status === 'baking');

    await harness.crash(first);
    await harness.restart();
    harness.router.unreachable = true;
    const second = harness.controller();
    const report = await second.recover();
    harness.router.unreachable = false;
    harness.clock.jump(500);
    const resumed = await harness.until(recorded.id, (d) =>
      d.timeline.some((e) => e.type === 'deployment.recovered'),
    );
    harness.clock.jump(BAKE_MS);
    const finished = await second.whenFinished(recorded.id);

    expect(report.decisions).toEqual([
      {
        deploymentId: recorded.id,
        decision: expect.objectContaining({
          action: 'none',
          why: expect.stringMatching(/router cannot be asked .* deciding once it answers/),
        }),
      },
    ]);
    expect(resumed.timeline.find((e) => e.type === 'deployment.recovered')).toMatchObject({
      data: { action: 'resume' },
    });
    expect(finished).toMatchObject({ status: 'succeeded', servingReleaseId: 'rel_2' });
  });

  it('stops hook processes a crashed control plane left running, then undoes the deployment', async () => {
    await serveFirst();
    const first = harness.controller();
    const hooks = recordingHooks();
    const green = harness.release('v2', {
      appspec: hooks.appspec,
      files: {
        // A hook that leaves its process group: only the deployment's mark can find it.
        'hook.sh': [
          '#!/bin/sh',
          '[ "$LIFECYCLE_EVENT" = "BeforeAllowTraffic" ] || exit 0',
          "setsid sh -c 'echo ready > hook-started; exec sleep 300' &",
          'sleep 300',
          '',
        ].join('\n'),
      },
    });
    const recorded = await harness.deploy(first, green, BLUE_GREEN);
    await fileAppears(join(green.directory, 'hook-started'));
    const mark = { variable: HOOK_MARK_VARIABLE, value: recorded.id };

    await harness.crash(first);
    const leftBehind = await findMarkedProcesses(mark);
    await harness.restart();
    const second = harness.controller();
    await second.recover();
    const finished = await second.whenFinished(recorded.id);

    expect(leftBehind.length).toBeGreaterThan(0);
    expect(await findMarkedProcesses(mark)).toEqual([]);
    // Production never moved: the deployment failed, blue serves as before.
    expect(finished.status).toBe('failed');
    // At least the setsid'd one; the hook's own process may die of the crash's kill meanwhile.
    expect(
      finished.timeline.find((e) => e.type === 'hooks.reaped')?.data['processes'],
    ).toBeGreaterThanOrEqual(1);
    expect(await harness.serving()).toBe('v1');
  });

  it('starts again the instances of a serving release that died while the control plane was down', async () => {
    const blue = await serveFirst();
    const [serving] = harness.store.deployments.serving();
    const before = instancesOf(blue);
    const first = harness.controller();

    await harness.crash(first);
    const killed = before[0];
    if (killed?.pid !== undefined) process.kill(-killed.pid, 'SIGKILL');
    // A signal is delivered, not obeyed at once: the restart must find the instance dead.
    await exited(killed?.pid);
    await harness.restart();
    const second = harness.controller();
    await second.recover();
    const restored = await harness.until(serving?.id ?? '', (d) =>
      d.timeline.some((e) => e.type === 'instances.restored'),
    );

    const after = instancesOf(blue).filter((i) => i.status !== 'stopped');
    const started = after.filter((i) => !before.some((b) => b.id === i.id)).map((i) => i.id);
    expect(after.map((i) => i.status)).toEqual(['running', 'running']);
    expect(started).toHaveLength(1);
    expect(restored.timeline.find((e) => e.type === 'instances.restored')).toMatchObject({
      data: { group: 'shop-dev-1', instances: started },
    });
    const registered = harness.router.targetsOf('shop-dev-1');
    expect(registered.map((t) => t.port).sort()).toEqual(after.map((i) => i.port).sort());
    expect(await answers(after[0]?.port ?? 0)).toBe(true);
    expect(await harness.serving()).toBe('v1');
  });

  it('rolls back to blue when green died while the control plane was down', async () => {
    await serveFirst();
    const first = harness.controller();
    const green = harness.release('v2');
    const recorded = await harness.deploy(first, green, BLUE_GREEN);
    await harness.until(recorded.id, (d) => d.status === 'baking');
    const greenPids = instancesOf(green).map((i) => i.pid);

    await harness.crash(first);
    for (const pid of greenPids) if (pid !== undefined) process.kill(-pid, 'SIGKILL');
    await harness.restart();
    const second = harness.controller();
    const since = harness.router.calls.length;
    await second.recover();
    const finished = await second.whenFinished(recorded.id);

    expect(finished).toMatchObject({
      status: 'rolled-back',
      outcome: 'rolled-back',
      servingReleaseId: 'rel_1',
    });
    expect(finished.reason).toMatch(/^no target of the new release is healthy: /);
    expect(harness.router.route(PRODUCTION)).toEqual([{ group: 'shop-dev-1', weight: 100 }]);
    expect(harness.router.route(TEST)).toEqual([{ group: 'shop-dev-1', weight: 100 }]);
    expect(await harness.serving()).toBe('v1');
    const calls = harness.router.calls.slice(since);
    const back = calls.findIndex((c) => c.op === 'applyWeights' && c.listener === PRODUCTION);
    const drain = calls.findIndex((c) => c.op === 'drain' && c.group === 'shop-dev-2');
    const remove = calls.findIndex((c) => c.op === 'removeTargetGroup' && c.group === 'shop-dev-2');
    expect(back).toBeGreaterThanOrEqual(0);
    expect(drain).toBeGreaterThan(back);
    expect(remove).toBeGreaterThan(drain);
    const events = finished.timeline.map((e) => e.type);
    expect(events.indexOf('drained')).toBeGreaterThan(events.indexOf('rollback.started'));
    expect(events.indexOf('instances.stopped')).toBeGreaterThan(events.indexOf('drained'));
  });
});
