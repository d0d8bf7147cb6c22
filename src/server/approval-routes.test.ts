import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../approval/approval.js';
import type { RunEvent } from '../pipeline/run-events.js';
import { freePort } from '../router/testing/upstream.js';
import { silentLogger } from '../shared/logger.js';
import { DeployFixture, shopFiles } from '../../test/support/deploy-fixture.js';
import { createHttpServer } from './http-server.js';

/** Approval gates over HTTP, with the real pipeline, runtime and router and the example shop. */
describe('approval gates over HTTP', () => {
  let f: DeployFixture;
  let app: FastifyInstance;
  const tokens: Record<string, string> = {};
  const ports: Record<string, number> = {};

  beforeAll(async () => {
    f = await DeployFixture.start();
    for (const name of ['dev', 'prod']) ports[name] = await freePort();
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
      approvals: f.approvals,
      listeners: f.deployments.listeners,
    });
    await app.ready();
    for (const [name, role] of [
      ['dave', 'developer'],
      ['amy', 'approver'],
      ['carol', 'developer'],
      ['vera', 'viewer'],
    ] as const) {
      tokens[name] = f.pipeline.store.tokens.create({ name, role }).token;
    }
    await f.pipeline.init({
      ...shopFiles(),
      'phoenix.yml': [
        'service: shop',
        'build: { retries: 0 }',
        'release:',
        '  start: node src/server.js',
        '  health-check: { interval: 500ms, timeout: 400ms, healthy-threshold: 1 }',
        'environments:',
        '  - name: dev',
        `    listeners: { production: ${ports['dev']} }`,
        '  - name: prod',
        '    branches: [main]',
        `    listeners: { production: ${ports['prod']} }`,
        '    approval:',
        '      approvers: [role:approver, carol]',
        '      count: 2',
        '      review-url: https://review.example.com/shop',
        '',
      ].join('\n'),
    });
  });

  afterAll(async () => {
    await app.close();
    await f.close();
  });

  function call(method: 'GET' | 'POST', url: string, token: string, payload?: object) {
    return app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload === undefined ? {} : { payload }),
    });
  }

  /** Resolves once the run waits at its gate (the stage has said so in its log). */
  function gateOpens(): Promise<RunEvent> {
    return f.pipeline.next(
      (event) => event.type === 'log' && event.line.text.startsWith('Waiting for 2 approvals'),
    );
  }

  it('promotes a run through dev, waits at the gate before prod, and deploys once approved', async () => {
    const opened = gateOpens();
    const run = await f.pipeline.submit(f.pipeline.push({ 'CHANGES.md': 'one\n' }));
    await opened;

    const waiting = (await call('GET', '/api/approvals', tokens['vera'] ?? '')).json<{
      approvals: Approval[];
    }>().approvals;
    const status = (await call('GET', '/api/services/shop/status', tokens['vera'] ?? '')).json<{
      undeployed: unknown[];
    }>();
    const byDeveloper = await call('POST', '/api/services/shop/approve', tokens['dave'] ?? '', {
      environment: 'prod',
    });
    const first = await call('POST', '/api/services/shop/approve', tokens['amy'] ?? '', {
      environment: 'prod',
      comment: 'dashboards green',
    });
    const twice = await call('POST', '/api/services/shop/approve', tokens['amy'] ?? '', {
      environment: 'prod',
    });
    const second = await call('POST', '/api/services/shop/approve', tokens['carol'] ?? '', {
      environment: 'prod',
    });
    const finished = await f.pipeline.finished(run);

    expect(run.stages.map((stage) => stage.name)).toEqual([
      'source',
      'build',
      'release',
      'deploy:dev',
      'approve:prod',
      'deploy:prod',
    ]);
    // phoenix status shows prod, never deployed, waiting at its gate.
    expect(status.undeployed).toEqual([
      {
        environment: 'prod',
        listeners: expect.objectContaining({ production: expect.any(Number) }),
        waitingApproval: {
          id: waiting[0]?.id,
          runId: run.id,
          runNumber: run.number,
          approvals: 0,
          required: 2,
          expiresAt: waiting[0]?.expiresAt,
        },
      },
    ]);
    expect(waiting).toEqual([
      expect.objectContaining({
        service: 'shop',
        environment: 'prod',
        status: 'waiting',
        required: 2,
        approvers: ['role:approver', 'carol'],
        reviewUrl: 'https://review.example.com/shop',
        votes: [],
      }),
    ]);
    expect(byDeveloper.statusCode).toBe(403);
    expect(byDeveloper.json().detail).toMatch(/dave \(developer\) is not among the approvers/);
    expect(first.json().approval).toMatchObject({
      status: 'waiting',
      votes: [{ actor: 'amy', decision: 'approve', comment: 'dashboards green' }],
    });
    expect(twice.statusCode).toBe(409);
    expect(second.json().approval).toMatchObject({ status: 'granted' });
    expect(finished.status, finished.reason).toBe('succeeded');
    expect(finished.stages[4]).toMatchObject({
      status: 'succeeded',
      reason: 'approved by amy, carol',
    });
    const prod = await fetch(`http://127.0.0.1:${ports['prod']}/health`);
    expect(prod.status).toBe(200);
  });

  it('fails the run at the gate on one rejection, with who and why', async () => {
    const opened = gateOpens();
    const run = await f.pipeline.submit(f.pipeline.push({ 'CHANGES.md': 'two\n' }));
    await opened;

    const rejected = await call('POST', '/api/services/shop/reject', tokens['carol'] ?? '', {
      environment: 'prod',
      comment: 'not during the sale',
    });
    const finished = await f.pipeline.finished(run);
    const nothingWaits = await call('POST', '/api/services/shop/approve', tokens['amy'] ?? '', {
      environment: 'prod',
    });

    expect(rejected.json().approval).toMatchObject({
      status: 'rejected',
      reason: 'rejected by carol: not during the sale',
    });
    expect(finished.status).toBe('failed');
    expect(finished.stages.map((s) => `${s.name}:${s.status}`).slice(4)).toEqual([
      'approve:prod:failed',
      'deploy:prod:pending',
    ]);
    expect(nothingWaits.statusCode).toBe(409);
  });

  it('refuses a bad decision body, naming the field', async () => {
    const response = await call('POST', '/api/services/shop/approve', tokens['amy'] ?? '', {
      environment: 'Prod!',
    });

    expect(response.statusCode).toBe(400);
    expect(JSON.stringify(response.json())).toMatch(/environment/);
  });
});
