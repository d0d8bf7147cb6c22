import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentView, ServiceStatusView } from '../deploy/deployment-view.js';
import { freePort } from '../router/testing/upstream.js';
import { silentLogger } from '../shared/logger.js';
import { DeployFixture, shopFiles } from '../../test/support/deploy-fixture.js';
import { createHttpServer } from './http-server.js';

/** The deployment API over the real pipeline, runtime and router, with the example shop. */
describe('deployments over HTTP', () => {
  let f: DeployFixture;
  let app: FastifyInstance;
  let viewer: string;
  let developer: string;
  const ports: Record<string, number> = {};

  beforeAll(async () => {
    f = await DeployFixture.start();
    for (const name of ['dev', 'dev-test', 'staging']) ports[name] = await freePort();
    app = createHttpServer({
      store: f.pipeline.store,
      orchestrator: f.pipeline.orchestrator,
      bus: f.pipeline.bus,
      repositoriesRoot: f.pipeline.repositories,
      sources: { watch: () => undefined, unwatch: () => undefined },
      publicUrl: () => 'http://127.0.0.1',
      logger: silentLogger(),
      now: Date.now,
      version: 'test',
      processMetrics: false,
      deployer: f.deployments.deployer,
      deployments: f.deployments.controller,
      deploymentChanges: f.deployments.changes,
      listeners: f.deployments.listeners,
    });
    await app.ready();
    viewer = f.pipeline.store.tokens.create({ name: 'vera', role: 'viewer' }).token;
    developer = f.pipeline.store.tokens.create({ name: 'dave', role: 'developer' }).token;
  });

  afterAll(async () => {
    await app.close();
    await f.close();
  });

  function phoenixYml(stagingStrategy: string): string {
    return [
      'service: shop',
      'build: { retries: 0 }',
      'release:',
      '  start: node src/server.js',
      '  health-check: { interval: 500ms, timeout: 400ms, healthy-threshold: 1 }',
      'environments:',
      '  - name: dev',
      `    listeners: { production: ${ports['dev']}, test: ${ports['dev-test']} }`,
      '  - name: staging',
      // Runs of main deploy to dev only: staging is deployed by hand here.
      '    branches: [release/*]',
      `    listeners: { production: ${ports['staging']} }`,
      `    strategy: ${stagingStrategy}`,
      '    variables: { NODE_ENV: staging }',
      '  - name: qa',
      '',
    ].join('\n');
  }

  function call(method: 'GET' | 'POST' | 'DELETE', url: string, token: string, payload?: object) {
    return app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload === undefined ? {} : { payload }),
    });
  }

  async function finished(id: string): Promise<DeploymentView> {
    const deployment = await f.deployments.controller.whenFinished(id);
    return (await call('GET', `/api/deployments/${deployment.id}`, viewer)).json().deployment;
  }

  it('has nothing to show, and nothing to deploy, before the first run', async () => {
    await f.pipeline.init({
      ...shopFiles(),
      'phoenix.yml': phoenixYml('blue-green'),
    });

    const status = await call('GET', '/api/services/shop/status', viewer);
    const deploy = await call('POST', '/api/services/shop/deployments', developer, {
      environment: 'dev',
    });

    // Nothing deployed; phoenix.yml's environments, in its order, say where they will listen.
    expect(status.json()).toEqual({
      service: 'shop',
      environments: [],
      undeployed: [
        { environment: 'dev', listeners: { production: ports['dev'], test: ports['dev-test'] } },
        { environment: 'staging', listeners: { production: ports['staging'] } },
        { environment: 'qa' },
      ],
    });
    expect(deploy.statusCode).toBe(404);
    expect(deploy.json().detail).toMatch(/^shop has no releases yet/);
  });

  it('deploys the latest release by hand, 202 at once, and shows every environment', async () => {
    const run = await f.pipeline.finished(
      await f.pipeline.submit(f.pipeline.push({ 'CHANGES.md': 'one\n' })),
    );
    expect(run.status, run.reason).toBe('succeeded');

    const response = await call('POST', '/api/services/shop/deployments', developer, {
      environment: 'staging',
    });
    const accepted = response.json<{ deployment: DeploymentView }>().deployment;
    const done = await finished(accepted.id);
    const status = (
      await call('GET', '/api/services/shop/status', viewer)
    ).json<ServiceStatusView>();

    expect(response.statusCode).toBe(202);
    expect(accepted).toMatchObject({
      service: 'shop',
      environment: 'staging',
      releaseNumber: 1,
      status: 'pending',
      strategy: { kind: 'blue-green', testListener: false },
      trigger: { type: 'manual', actor: 'dave' },
      url: `/api/deployments/${accepted.id}`,
    });
    expect(accepted).not.toHaveProperty('target');
    expect(done).toMatchObject({ status: 'succeeded', servingReleaseId: accepted.releaseId });
    expect(done.steps).toContain('shift 100% of production to the new release');
    expect(status.environments.map((e) => [e.environment, e.servingRelease, e.listeners])).toEqual([
      [
        'dev',
        { id: accepted.releaseId, number: 1 },
        { production: ports['dev'], test: ports['dev-test'] },
      ],
      ['staging', { id: accepted.releaseId, number: 1 }, { production: ports['staging'] }],
    ]);
    expect(status.environments[1]?.latest.timeline.at(-1)).toMatchObject({
      type: 'deployment.finished',
      data: { to: 'succeeded' },
    });
    const answer = await fetch(`http://127.0.0.1:${ports['staging']}/health`);
    expect(await answer.json()).toEqual({ status: 'ok', version: accepted.releaseId });
  });

  it('shows one environment, and one deployment, to a viewer', async () => {
    const status = await call('GET', '/api/services/shop/status?environment=dev', viewer);
    const [dev] = status.json<ServiceStatusView>().environments;
    const deployment = await call('GET', `/api/deployments/${dev?.latest.id ?? ''}`, viewer);

    expect(status.json<ServiceStatusView>().environments.map((e) => e.environment)).toEqual([
      'dev',
    ]);
    expect(dev?.latest.trigger).toMatchObject({ type: 'pipeline', detail: 'run shop #1' });
    expect(deployment.json()).toEqual({ deployment: dev?.latest });
  });

  it.each([
    ['a viewer', () => viewer, { environment: 'dev' }, 403, /needs the developer role/],
    ['a bad environment name', () => developer, { environment: 'Dev!' }, 400, /environment/],
    ['an unknown field', () => developer, { environment: 'dev', force: true }, 400, /force/],
    [
      'an unknown release',
      () => developer,
      { environment: 'dev', release: 'shop#9' },
      404,
      /release shop#9 not found/,
    ],
    [
      'the release that serves',
      () => developer,
      { environment: 'dev', release: 'shop#1' },
      409,
      /already serves shop in dev/,
    ],
    [
      'an environment phoenix.yml lacks',
      () => developer,
      { environment: 'prod' },
      404,
      /shop has no environment prod/,
    ],
  ])('refuses %s', async (_name, token, payload, code, detail) => {
    const response = await call('POST', '/api/services/shop/deployments', token(), payload);

    expect(response.statusCode).toBe(code);
    expect(JSON.stringify(response.json())).toMatch(detail);
  });

  it('refuses an environment without listeners, naming phoenix.yml’s line and key', async () => {
    const response = await call('POST', '/api/services/shop/deployments', developer, {
      environment: 'qa',
    });

    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toEqual([
      {
        location: 'phoenix.yml:14:5',
        field: 'environments[2].listeners',
        message: expect.stringMatching(/^qa has no listeners, so it cannot be deployed/),
      },
    ]);
  });

  it('rolls staging back to the release before, all at once, and says so', async () => {
    const nothingEarlier = await call('POST', '/api/services/shop/rollback', developer, {
      environment: 'staging',
    });
    const run = await f.pipeline.finished(
      await f.pipeline.submit(
        f.pipeline.push({
          'CHANGES.md': 'two\n',
          // No bake, here: the test would wait out blue/green's five minutes.
          'phoenix.yml': phoenixYml('{ type: blue-green, bake: 0s }'),
        }),
      ),
    );
    expect(run.status, run.reason).toBe('succeeded');
    const second = await call('POST', '/api/services/shop/deployments', developer, {
      environment: 'staging',
    });
    await finished(second.json().deployment.id);

    const response = await call('POST', '/api/services/shop/rollback', developer, {
      environment: 'staging',
    });
    const done = await finished(response.json().deployment.id);

    expect(nothingEarlier.statusCode).toBe(409);
    expect(nothingEarlier.json().detail).toMatch(/no earlier release to roll back to/);
    expect(response.statusCode).toBe(202);
    expect(response.json().action).toBe('deployed');
    expect(done).toMatchObject({
      status: 'succeeded',
      releaseNumber: 1,
      strategy: { kind: 'all-at-once', bakeMs: 0 },
      trigger: { type: 'rollback', actor: 'dave' },
    });
  });

  it.each([
    ['promote', 409, /waits for no promotion/],
    ['abort', 409, /nothing to abort/],
    ['pause', 409, /cannot be paused/],
    ['resume', 409, /is not paused/],
  ])('refuses to %s a finished deployment', async (action, code, detail) => {
    const status = await call('GET', '/api/services/shop/status?environment=dev', viewer);
    const id = status.json<ServiceStatusView>().environments[0]?.latest.id ?? '';

    const byViewer = await call('POST', `/api/deployments/${id}/${action}`, viewer);
    const response = await call('POST', `/api/deployments/${id}/${action}`, developer);

    expect(byViewer.statusCode).toBe(403);
    expect(response.statusCode).toBe(code);
    expect(response.json().detail).toMatch(detail);
  });

  it("streams a deployment's timeline as it happens, and again from Last-Event-ID", async () => {
    const run = await f.pipeline.finished(
      await f.pipeline.submit(f.pipeline.push({ 'CHANGES.md': 'streamed\n' })),
    );
    expect(run.status, run.reason).toBe('succeeded');
    const accepted = (
      await call('POST', '/api/services/shop/deployments', developer, { environment: 'staging' })
    ).json<{ deployment: DeploymentView }>().deployment;

    // The stream ends with the deployment, so the whole response is its story.
    const live = parseSse(
      (await call('GET', `/api/deployments/${accepted.id}/events`, viewer)).body,
    );
    const done = await finished(accepted.id);
    const middle = live.filter((e) => e.id !== undefined)[2]?.id ?? '';
    const resumed = await app.inject({
      method: 'GET',
      url: `/api/deployments/${accepted.id}/events`,
      headers: { authorization: `Bearer ${viewer}`, 'last-event-id': middle },
    });
    const replayed = parseSse(resumed.body);

    expect(resumed.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(live[0]).toMatchObject({ event: 'deployment' });
    expect(JSON.parse(live[0]?.data ?? '{}')).toMatchObject({ id: accepted.id });
    const timeline = live.filter((e) => e.id !== undefined);
    expect(timeline.map((e) => Number(e.id))).toEqual(done.timeline.map((e) => e.id));
    expect(timeline.map((e) => e.event)).toEqual(done.timeline.map((e) => e.type));
    expect(
      live.filter((e) => e.event === 'deployment.status').map((e) => JSON.parse(e.data).status),
    ).toContain('succeeded');
    expect(live.at(-1)).toMatchObject({ event: 'end' });
    expect(JSON.parse(live.at(-1)?.data ?? '{}')).toMatchObject({
      status: 'succeeded',
      servingReleaseId: done.releaseId,
    });
    // The shop's ValidateService hook wrote to the deployment's log.
    const log = await call('GET', `/api/deployments/${accepted.id}/logs`, viewer);
    expect(log.statusCode).toBe(200);
    expect(log.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(log.body).toContain('smoke test');
    const missing = await call('GET', '/api/deployments/dep_0000000000000000/logs', viewer);
    expect(missing.statusCode).toBe(404);
    expect(replayed.map((e) => e.event)).toEqual([
      'deployment',
      ...done.timeline.filter((e) => e.id > Number(middle)).map((e) => e.type),
      'end',
    ]);
  });

  it('answers 404 for a deployment that does not exist, 400 for what is not a deployment id', async () => {
    const missing = await call('GET', '/api/deployments/dep_0000000000000000', viewer);
    const malformed = await call('GET', '/api/deployments/nope', viewer);

    expect(missing.statusCode).toBe(404);
    expect(malformed.statusCode).toBe(400);
  });

  // Last: it deletes the service.
  it('deleting the service takes down what it serves: listeners closed, instances stopped, ports freed', async () => {
    const admin = f.pipeline.store.tokens.create({ name: 'ada', role: 'admin' }).token;
    const before = await fetch(`http://127.0.0.1:${ports['dev']}/health`);
    expect(before.status).toBe(200);

    const response = await call('DELETE', '/api/services/shop', admin);

    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({
      deleted: 'shop',
      takenDown: { environments: ['dev', 'staging'], listeners: 3 },
    });
    await expect(fetch(`http://127.0.0.1:${ports['dev']}/health`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${ports['staging']}/health`)).rejects.toThrow();
    expect(
      f.deployments.runtime.list({ service: 'shop' }).filter((i) => i.status !== 'stopped'),
    ).toEqual([]);
    expect(f.deployments.listeners.list().filter((e) => e.service === 'shop')).toEqual([]);
  });
});

/** The events of a whole `text/event-stream` body (single-line data, as Phoenix sends). */
function parseSse(body: string): { id?: string; event: string; data: string }[] {
  return body
    .split('\n\n')
    .filter((block) => block.trim() !== '' && !block.startsWith(':'))
    .map((block) => {
      const fields = new Map(
        block.split('\n').map((line) => {
          const colon = line.indexOf(': ');
          return [line.slice(0, colon), line.slice(colon + 2)] as const;
        }),
      );
      const id = fields.get('id');
      return {
        ...(id === undefined ? {} : { id }),
        event: fields.get('event') ?? 'message',
        data: fields.get('data') ?? '',
      };
    });
}
