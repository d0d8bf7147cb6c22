import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../router/testing/upstream.js';
import { DeployFixture, shopFiles } from '../../test/support/deploy-fixture.js';
import type { Run } from './run.js';

interface Health {
  status: string;
  version: string;
}

async function health(port: number): Promise<Health> {
  const response = await fetch(`http://127.0.0.1:${port}/health`);
  return (await response.json()) as Health;
}

function statuses(run: Run): string[] {
  return [`run:${run.status}`, ...run.stages.map((stage) => `${stage.name}:${stage.status}`)];
}

function releaseIdOf(run: Run): string {
  const id = run.stages[2]?.output?.['releaseId'];
  if (typeof id !== 'string') throw new Error(`run ${run.number} made no release`);
  return id;
}

/**
 * Pushes of the example shop through the real orchestrator, build, release and deploy
 * stages, the real local runtime and the real router: one story, each step building on the
 * one before (what serves in dev).
 */
describe('the deploy stage', () => {
  let f: DeployFixture;
  let production: number;
  let test: number;

  function phoenixYml(
    options: { strategy?: string; listeners?: boolean; healthPath?: string } = {},
  ): string {
    return [
      'service: shop',
      'build:',
      '  buildspec: buildspec.yml',
      '  retries: 0',
      'release:',
      '  start: node src/server.js',
      '  instances: 2',
      '  health-check:',
      `    path: ${options.healthPath ?? '/health'}`,
      '    interval: 500ms',
      '    timeout: 400ms',
      '    healthy-threshold: 1',
      '    unhealthy-threshold: 2',
      'environments:',
      '  - name: dev',
      options.listeners === false
        ? ''
        : `    listeners: { production: ${production}, test: ${test} }`,
      options.strategy === undefined ? '' : `    strategy: ${options.strategy}`,
      '',
    ].join('\n');
  }

  async function push(yml: string): Promise<Run> {
    const commit = f.pipeline.push({ 'phoenix.yml': yml, 'CHANGES.md': `${yml.length}\n` });
    return f.pipeline.submit(commit);
  }

  function instancesOf(releaseId: string): string[] {
    return f.deployments.runtime.list({ releaseId }).map((instance) => instance.status);
  }

  beforeAll(async () => {
    f = await DeployFixture.start();
    production = await freePort();
    test = await freePort();
  });

  afterAll(async () => {
    await f.close();
  });

  it('deploys a successful run to the first environment: its production listener serves the release', async () => {
    const logs: string[] = [];
    const unsubscribe = f.pipeline.bus.subscribe((event) => {
      if (event.type === 'log' && event.index === 3) logs.push(event.line.text);
    });

    const commit = await f.pipeline.init({ ...shopFiles(), 'phoenix.yml': phoenixYml() });
    const run = await f.pipeline.finished(await f.pipeline.submit(commit));
    unsubscribe();

    expect(statuses(run), run.reason).toEqual([
      'run:succeeded',
      'source:succeeded',
      'build:succeeded',
      'release:succeeded',
      'deploy:dev:succeeded',
    ]);
    const releaseId = releaseIdOf(run);
    const stage = run.stages[3];
    expect(stage).toMatchObject({
      kind: 'deploy',
      externalId: expect.stringMatching(/^dep_/),
      output: { status: 'succeeded', releaseId, servingReleaseId: releaseId },
    });
    expect(stage?.output?.['deploymentId']).toBe(stage?.externalId);
    expect(f.pipeline.store.deployments.get(stage?.externalId ?? '')).toMatchObject({
      strategy: { kind: 'all-at-once' },
      trigger: { type: 'pipeline', actor: 'pipeline', runId: run.id, detail: 'run shop #1' },
    });
    expect(await health(production)).toEqual({ status: 'ok', version: releaseId });
    expect(instancesOf(releaseId)).toEqual(['running', 'running']);
    expect(logs[0]).toMatch(
      new RegExp(`^Deploying release #1 \\(${releaseId}\\) to dev, all-at-once: dep_`),
    );
    expect(logs).toContain(`shop-dev → shop-dev-1 100%`);
    expect(logs.at(-1)).toBe('succeeded');
  });

  it('deploys the next release blue/green: green is tested, takes production, and blue is retired', async () => {
    const blue = await health(production);

    const run = await f.pipeline.finished(
      await push(phoenixYml({ strategy: '{ type: blue-green, bake: 0s }' })),
    );

    expect(statuses(run).at(-1), run.reason).toBe('deploy:dev:succeeded');
    const green = releaseIdOf(run);
    const deployment = f.pipeline.store.deployments.get(run.stages[3]?.externalId ?? '');
    expect(deployment).toMatchObject({
      previousReleaseId: blue.version,
      strategy: { kind: 'blue-green', bakeMs: 0, testListener: true },
    });
    expect(deployment.timeline.map((e) => e.data['to']).filter(Boolean)).toEqual([
      'starting',
      'testing',
      'shifting',
      'baking',
      'draining',
      'succeeded',
    ]);
    expect(await health(production)).toEqual({ status: 'ok', version: green });
    expect(await health(test)).toEqual({ status: 'ok', version: green });
    expect(instancesOf(blue.version)).toEqual(['stopped', 'stopped']);
  });

  it('fails the stage with the reason of a deployment that failed, and production keeps its release', async () => {
    const serving = await health(production);

    const run = await f.pipeline.finished(await push(phoenixYml({ healthPath: '/nope' })));

    expect(statuses(run)).toEqual([
      'run:failed',
      'source:succeeded',
      'build:succeeded',
      'release:succeeded',
      'deploy:dev:failed',
    ]);
    expect(run.stages[3]?.reason).toMatch(/^the new release never became healthy: 0 of 2 targets/);
    expect(run.reason).toMatch(/^deploy:dev failed: the new release never became healthy/);
    expect(run.stages[3]?.output).toMatchObject({ status: 'failed' });
    expect(await health(production)).toEqual(serving);
    expect(instancesOf(releaseIdOf(run))).toEqual(['stopped', 'stopped']);
  });

  it('aborts the deployment when the run is cancelled: production stays on the release before', async () => {
    const first = await f.pipeline.finished(await push(phoenixYml()));
    const serving = await health(production);
    const baking = new Promise<void>((resolve) => {
      const unsubscribe = f.deployments.changes.subscribe((deployment) => {
        if (deployment.status !== 'baking') return;
        unsubscribe();
        resolve();
      });
    });
    const submitted = await push(phoenixYml({ strategy: '{ type: blue-green, bake: 1h }' }));
    await baking;

    const cancelled = await f.pipeline.orchestrator.cancel(submitted.id, 'alice');
    const deploymentId = cancelled.stages[3]?.externalId ?? '';
    const deployment = await f.deployments.controller.whenFinished(deploymentId);

    expect(first.status).toBe('succeeded');
    expect(statuses(cancelled).at(-1)).toBe('deploy:dev:cancelled');
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.stages[3]?.reason).toBe(
      `cancelled by alice; deployment ${deploymentId} aborted: production goes back to ${releaseIdOf(first)}`,
    );
    expect(deployment).toMatchObject({ status: 'aborted', servingReleaseId: releaseIdOf(first) });
    expect(deployment.timeline.map((e) => e.type)).toContain('rollback.started');
    expect(await health(production)).toEqual(serving);
    expect(instancesOf(releaseIdOf(cancelled))).toEqual(['stopped', 'stopped']);
  });

  it('follows the same deployment again after a control plane restart, instead of starting another', async () => {
    const baking = new Promise<string>((resolve) => {
      const unsubscribe = f.deployments.changes.subscribe((deployment) => {
        if (deployment.status !== 'baking') return;
        unsubscribe();
        resolve(deployment.id);
      });
    });
    const submitted = await push(phoenixYml({ strategy: '{ type: blue-green, bake: 2s }' }));
    const deploymentId = await baking;

    await f.restart();
    const run = await f.pipeline.finished(submitted);

    expect(statuses(run).at(-1), run.reason).toBe('deploy:dev:succeeded');
    expect(run.stages[3]).toMatchObject({ attempt: 2, externalId: deploymentId });
    expect(f.pipeline.store.deployments.list({ service: 'shop', limit: 1 })[0]).toMatchObject({
      id: deploymentId,
      status: 'succeeded',
    });
    expect((await health(production)).version).toBe(releaseIdOf(run));
  });

  it('fails the stage of an environment without listeners, naming the file, line and key', async () => {
    const run = await f.pipeline.finished(await push(phoenixYml({ listeners: false })));

    expect(statuses(run).at(-1)).toBe('deploy:dev:failed');
    expect(run.stages[3]?.reason).toMatch(
      /^phoenix\.yml:15:5: environments\[0\]\.listeners: dev has no listeners, so it cannot be deployed: add listeners: \{ production: PORT \}/,
    );
  });

  it('fails the stage, saying what to do, when the router is not running', async () => {
    await f.stopRouter();

    const run = await f.pipeline.finished(await push(phoenixYml()));

    expect(statuses(run).at(-1)).toBe('deploy:dev:failed');
    expect(run.stages[3]).toMatchObject({ platformFailure: true });
    expect(run.stages[3]?.reason).toMatch(
      /^router not reachable at http:\/\/127\.0\.0\.1:\d+: start `phoenix router` \(ECONNREFUSED\)$/,
    );
  });
});
