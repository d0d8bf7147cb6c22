import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RequiredRole } from '../../src/server/auth.js';
import type { ServerDeps } from '../../src/server/http-server.js';
import type { TokenRole } from '../../src/store/token-repository.js';
import { PHOENIX_YML } from '../support/pipeline-fixture.js';
import { ServerFixture } from '../support/server-fixture.js';

const PASSING =
  'version: 0.2\nphases:\n  build:\n    commands:\n      - echo "built $PHOENIX_RUN_NUMBER"\n';
const FAILING = 'version: 0.2\nphases:\n  build:\n    commands:\n      - echo failing; exit 3\n';
const PUBLIC_URL = 'http://phoenix.test:8800';

interface Sent {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

describe('HTTP API', () => {
  let f: ServerFixture;
  let app: FastifyInstance;
  let admin: string;
  let watched: string[];
  let unwatched: string[];
  let logLines: string[];

  function start(overrides: Partial<ServerDeps> = {}): FastifyInstance {
    watched = [];
    unwatched = [];
    logLines = [];
    const capture = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString('utf8'));
        done();
      },
    });
    return f.start({
      sources: {
        watch: (service) => watched.push(service.name),
        unwatch: (name) => unwatched.push(name),
      },
      publicUrl: () => `${PUBLIC_URL}/`,
      logger: pino({ level: 'error' }, capture),
      version: '1.2.3-test',
      ...overrides,
    });
  }

  function send(request: Sent) {
    const headers: Record<string, string> = { ...request.headers };
    if (request.token !== undefined) headers['authorization'] = `Bearer ${request.token}`;
    if (request.body === undefined)
      return app.inject({ method: request.method, url: request.url, headers });
    headers['content-type'] ??= 'application/json';
    const payload = typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
    return app.inject({ method: request.method, url: request.url, headers, payload });
  }

  beforeEach(async () => {
    f = new ServerFixture();
    app = start();
    admin = f.token('admin', 'root');
    await app.ready();
  });

  afterEach(async () => {
    await f.close();
  });

  it('answers /health without a token', async () => {
    const response = await send({ method: 'GET', url: '/health' });

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok', version: '1.2.3-test' });
  });

  it("tells a token's holder who they are", async () => {
    const viewer = f.token('viewer', 'ci-dashboard');

    const response = await send({ method: 'GET', url: '/api/me', token: viewer });

    expect(response.json()).toMatchObject({ name: 'ci-dashboard', role: 'viewer' });
  });

  describe('authentication and roles', () => {
    /** Every route that changes something, with the least role it needs. */
    const MUTATING: (Sent & { role: RequiredRole })[] = [
      { method: 'POST', url: '/api/tokens', body: { name: 'x', role: 'viewer' }, role: 'admin' },
      { method: 'DELETE', url: '/api/tokens/tok_0000', role: 'admin' },
      {
        method: 'POST',
        url: '/api/services',
        body: { name: 'billing', repository: { url: '/srv/git/billing' } },
        role: 'admin',
      },
      { method: 'DELETE', url: '/api/services/shop', role: 'admin' },
      { method: 'POST', url: '/api/repos', body: { name: 'billing' }, role: 'admin' },
      { method: 'POST', url: '/api/services/shop/trigger', body: {}, role: 'developer' },
      { method: 'POST', url: '/api/runs/r_000000000000/cancel', role: 'developer' },
      { method: 'POST', url: '/api/runs/r_000000000000/retry', role: 'developer' },
    ];
    const READING: Sent[] = [
      { method: 'GET', url: '/api/me' },
      { method: 'GET', url: '/api/services' },
      { method: 'GET', url: '/api/runs' },
      { method: 'GET', url: '/api/runs/r_000000000000/logs' },
      { method: 'GET', url: '/api/runs/r_000000000000/events' },
      { method: 'GET', url: '/metrics' },
    ];
    const BELOW: Record<RequiredRole, TokenRole[]> = {
      viewer: [],
      developer: ['viewer', 'approver'],
      admin: ['viewer', 'approver', 'developer'],
    };

    it.each([...MUTATING, ...READING])('$method $url: 401 without a token', async (request) => {
      const response = await send(request);

      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer realm="Phoenix"');
      expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(response.json()).toMatchObject({
        type: 'urn:phoenix:problem:unauthorized',
        status: 401,
        detail: expect.stringContaining('needs an API token'),
      });
    });

    it.each(MUTATING)(
      '$method $url: 401 for an unknown or revoked token, alike',
      async (request) => {
        const revoked = f.store.tokens.create({ name: 'old', role: 'admin' });
        f.store.tokens.revoke(revoked.record.id);

        const unknown = await send({ ...request, token: 'phx_not-a-token' });
        const wasRevoked = await send({ ...request, token: revoked.token });

        expect(unknown.statusCode).toBe(401);
        expect(wasRevoked.statusCode).toBe(401);
        expect(wasRevoked.json().detail).toBe(unknown.json().detail);
      },
    );

    it.each(MUTATING.flatMap((route) => BELOW[route.role].map((role) => ({ ...route, as: role }))))(
      '$method $url: 403 for a $as token',
      async (request) => {
        const response = await send({ ...request, token: f.token(request.as) });

        expect(response.statusCode).toBe(403);
        expect(response.json()).toMatchObject({
          type: 'urn:phoenix:problem:forbidden',
          detail: expect.stringContaining(`needs the ${request.role} role`),
        });
      },
    );

    it('authenticates before reading the body, so a stranger cannot make it parse 1 MiB', async () => {
      const response = await send({ method: 'POST', url: '/api/tokens', body: '{"name":' });

      expect(response.statusCode).toBe(401);
    });

    it('accepts the token as a basic-auth password too', async () => {
      const basic = Buffer.from(`anyone:${admin}`).toString('base64');

      const response = await send({
        method: 'GET',
        url: '/api/me',
        headers: { authorization: `Basic ${basic}` },
      });

      expect(response.json()).toMatchObject({ name: 'root', role: 'admin' });
    });
  });

  describe('bad input', () => {
    it('refuses an oversize JSON body with 413', async () => {
      await app.close();
      app = start({ maxJsonBytes: 1024 });

      const response = await send({
        method: 'POST',
        url: '/api/tokens',
        token: admin,
        body: { name: 'big', role: 'viewer', padding: 'x'.repeat(2000) },
      });

      expect(response.statusCode).toBe(413);
      expect(response.json()).toMatchObject({
        type: 'urn:phoenix:problem:payload-too-large',
        detail: 'the request body is larger than the limit of 1 KiB',
      });
    });

    it('names the problem in malformed JSON', async () => {
      const response = await send({
        method: 'POST',
        url: '/api/tokens',
        token: admin,
        body: '{"name": "ci",\n "role": }',
      });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({
        type: 'urn:phoenix:problem:malformed-json',
        title: 'Malformed JSON',
        detail: expect.stringMatching(/^the request body is not valid JSON: Unexpected token '}'/),
        instance: '/api/tokens',
      });
    });

    it.each([
      [{ name: 'ci' }, 'role', 'is required'],
      [
        { name: 'ci', role: 'owner' },
        'role',
        "Invalid enum value. Expected 'admin' | 'developer' | 'viewer' | 'approver', received 'owner'",
      ],
      [{ name: 'has space', role: 'viewer' }, 'name', 'is 1 to 64 letters'],
      [{ name: 'ci', role: 'viewer', rol: 'x' }, '', 'unknown field rol'],
    ])('names the field of a body that does not fit: %j', async (body, field, message) => {
      const response = await send({ method: 'POST', url: '/api/tokens', token: admin, body });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({
        type: 'urn:phoenix:problem:validation',
        errors: [{ location: 'body', field, message: expect.stringContaining(message) }],
      });
    });

    it('refuses bodies that are not JSON with 415', async () => {
      const response = await send({
        method: 'POST',
        url: '/api/tokens',
        token: admin,
        body: 'name=ci',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });

      expect(response.statusCode).toBe(415);
    });

    it('refuses a "__proto__" key', async () => {
      const response = await send({
        method: 'POST',
        url: '/api/tokens',
        token: admin,
        body: '{"name":"ci","role":"viewer","__proto__":{"admin":true}}',
      });

      expect(response.statusCode).toBe(400);
      expect(response.json().detail).toContain('__proto__');
    });

    it('answers unknown routes with a 404 problem', async () => {
      const response = await send({ method: 'GET', url: '/api/nothing-here?x=1', token: admin });

      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({
        type: 'urn:phoenix:problem:not-found',
        title: 'Not Found',
        status: 404,
        detail: 'no route GET /api/nothing-here',
        instance: '/api/nothing-here',
      });
    });

    it('answers an unknown service with 404', async () => {
      const get = await send({ method: 'GET', url: '/api/services/nope', token: admin });
      const trigger = await send({
        method: 'POST',
        url: '/api/services/nope/trigger',
        token: admin,
        body: {},
      });
      const runs = await send({ method: 'GET', url: '/api/runs?service=nope', token: admin });

      expect([get.statusCode, trigger.statusCode, runs.statusCode]).toEqual([404, 404, 404]);
      expect(get.json().detail).toBe('service nope not found');
    });

    it('names a bad query parameter', async () => {
      const response = await send({ method: 'GET', url: '/api/runs?limit=500', token: admin });

      expect(response.statusCode).toBe(400);
      expect(response.json().errors).toEqual([
        { location: 'query', field: 'limit', message: 'Number must be less than or equal to 200' },
      ]);
    });

    it('hides unexpected failures behind a generic 500, logged once with the error', async () => {
      await app.close();
      app = start({
        sources: {
          watch: () => {
            throw new Error('poller exploded at /secret/path');
          },
          unwatch: () => undefined,
        },
      });

      const response = await send({
        method: 'POST',
        url: '/api/services',
        token: admin,
        body: { name: 'billing', repository: { url: 'https://git.example.com/billing.git' } },
      });

      expect(response.statusCode).toBe(500);
      const problem = response.json();
      expect(problem).toMatchObject({ type: 'urn:phoenix:problem:internal', status: 500 });
      expect(JSON.stringify(problem)).not.toContain('/secret/path');
      const logged = logLines.filter((line) => line.includes('poller exploded'));
      expect(logged).toHaveLength(1);
      expect(logged[0]).toContain(problem.requestId);
      expect(f.store.services.list()).toEqual([]);
    });
  });

  describe('tokens', () => {
    it('shows a new token once and never again', async () => {
      const created = await send({
        method: 'POST',
        url: '/api/tokens',
        token: admin,
        body: { name: 'deployer', role: 'developer' },
      });
      const listed = await send({ method: 'GET', url: '/api/tokens', token: admin });

      expect(created.statusCode).toBe(201);
      const body = created.json();
      expect(body).toMatchObject({
        name: 'deployer',
        role: 'developer',
        token: expect.stringMatching(/^phx_/),
      });
      expect(f.store.tokens.verify(body.token)?.name).toBe('deployer');
      expect(listed.json().tokens.map((t: { name: string }) => t.name)).toEqual([
        'root',
        'deployer',
      ]);
      expect(listed.body).not.toContain(body.token);
      expect(listed.body).not.toMatch(/hash/i);
    });

    it('revokes a token, but never the last admin token', async () => {
      const other = f.store.tokens.create({ name: 'viewer', role: 'viewer' });
      const rootId = f.store.tokens.list()[0]?.id ?? '';

      const revoked = await send({
        method: 'DELETE',
        url: `/api/tokens/${other.record.id}`,
        token: admin,
      });
      const last = await send({ method: 'DELETE', url: `/api/tokens/${rootId}`, token: admin });
      const missing = await send({ method: 'DELETE', url: '/api/tokens/tok_nope', token: admin });

      expect(revoked.json().token.revokedAt).toBeDefined();
      expect(f.store.tokens.verify(other.token)).toBeUndefined();
      expect(last.statusCode).toBe(409);
      expect(last.json().detail).toContain('last admin token');
      expect(missing.statusCode).toBe(404);
    });
  });

  describe('services and repositories', () => {
    it('creates an external service, polls it, and never shows its secret', async () => {
      const response = await send({
        method: 'POST',
        url: '/api/services',
        token: admin,
        body: {
          name: 'billing',
          repository: { url: 'https://ci:hunter2@git.example.com/acme/billing.git' },
          pollInterval: '30s',
          webhookSecret: 'a-webhook-secret-of-length',
        },
      });
      const listed = await send({ method: 'GET', url: '/api/services', token: admin });

      expect(response.statusCode).toBe(201);
      expect(response.json().service).toEqual({
        name: 'billing',
        repository: { kind: 'external', url: 'https://***@git.example.com/acme/billing.git' },
        defaultBranch: 'main',
        pollIntervalMs: 30_000,
        webhook: { url: `${PUBLIC_URL}/hooks/github`, secretConfigured: true },
        createdAt: expect.any(String),
      });
      expect(watched).toEqual(['billing']);
      expect(listed.body).not.toContain('hunter2');
      expect(listed.body).not.toContain('a-webhook-secret-of-length');
    });

    it.each([
      [{ name: 'Bad_Name', repository: { url: '/srv/x' } }, 'name'],
      [{ name: 'billing', repository: { url: '--upload-pack=evil' } }, 'repository.url'],
      [{ name: 'billing', repository: { url: 'ext::sh -c evil' } }, 'repository.url'],
      [{ name: 'billing', repository: { url: '/srv/x' }, pollInterval: '1s' }, 'pollInterval'],
      [{ name: 'billing', repository: { url: '/srv/x' }, webhookSecret: 'short' }, 'webhookSecret'],
      [{ name: 'billing', repository: { url: '/srv/x' }, defaultBranch: '-x' }, 'defaultBranch'],
    ])('refuses a bad service: %j', async (body, field) => {
      const response = await send({ method: 'POST', url: '/api/services', token: admin, body });

      expect(response.statusCode).toBe(400);
      expect(response.json().errors).toEqual([
        expect.objectContaining({ location: 'body', field }),
      ]);
      expect(watched).toEqual([]);
    });

    it('creates a hosted repository with its push URL, and deletes services', async () => {
      const created = await send({
        method: 'POST',
        url: '/api/repos',
        token: admin,
        body: { name: 'billing' },
      });
      const again = await send({
        method: 'POST',
        url: '/api/repos',
        token: admin,
        body: { name: 'billing' },
      });
      const deleted = await send({ method: 'DELETE', url: '/api/services/billing', token: admin });
      const adopted = await send({
        method: 'POST',
        url: '/api/repos',
        token: admin,
        body: { name: 'billing' },
      });

      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({
        name: 'billing',
        pushUrl: `${PUBLIC_URL}/git/billing.git`,
        service: { repository: { kind: 'hosted', pushUrl: `${PUBLIC_URL}/git/billing.git` } },
      });
      expect(again.statusCode).toBe(409);
      expect(deleted.json()).toEqual({
        deleted: 'billing',
        cancelledRuns: 0,
        takenDown: { environments: [], listeners: 0, targetGroups: 0, instances: 0 },
      });
      expect(unwatched).toEqual([]);
      expect(adopted.statusCode).toBe(201);
    });
  });

  describe('runs', () => {
    it('triggers a branch by hand, then shows, lists and logs the run', async () => {
      const commit = await f.init({ 'phoenix.yml': PHOENIX_YML(), 'buildspec.yml': PASSING });
      const developer = f.token('developer', 'alice');

      const triggered = await send({
        method: 'POST',
        url: '/api/services/shop/trigger',
        token: developer,
        body: { branch: 'main' },
      });
      expect(triggered.statusCode).toBe(201);
      const run = triggered.json().run;
      await f.orchestrator.whenFinished(run.id);
      const byId = await send({ method: 'GET', url: `/api/runs/${run.id}`, token: admin });
      const byNumber = await send({
        method: 'GET',
        url: '/api/services/shop/runs/1',
        token: admin,
      });
      const byReference = await send({ method: 'GET', url: '/api/runs/shop%231', token: admin });
      const listed = await send({
        method: 'GET',
        url: '/api/runs?service=shop&status=succeeded,failed',
        token: admin,
      });
      const logs = await send({ method: 'GET', url: `/api/runs/${run.id}/logs`, token: admin });
      const services = await send({ method: 'GET', url: '/api/services', token: admin });

      expect(run).toMatchObject({ service: 'shop', number: 1, commit, ref: 'refs/heads/main' });
      expect(run.trigger).toEqual({ type: 'manual', actor: 'alice' });
      expect(byId.json().run).toMatchObject({ id: run.id, status: 'succeeded' });
      expect(byId.json().run.stages[1]).toMatchObject({
        name: 'build',
        logUrl: `/api/runs/${run.id}/logs?stage=1`,
      });
      expect(byId.body).not.toContain(f.home);
      expect(byNumber.json().run.id).toBe(run.id);
      expect(byReference.json().run.id).toBe(run.id);
      expect(listed.json().runs.map((r: { id: string }) => r.id)).toEqual([run.id]);
      expect(logs.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(logs.body).toContain('built 1');
      expect(services.json().services[0].lastRun).toMatchObject({
        id: run.id,
        status: 'succeeded',
      });
    });

    it('pages through runs with limit and next', async () => {
      const commit = await f.init({ 'phoenix.yml': PHOENIX_YML(), 'buildspec.yml': PASSING });
      for (let i = 0; i < 3; i++) await f.finished(await f.submit(commit));

      const first = await send({ method: 'GET', url: '/api/runs?limit=2', token: admin });
      const second = await send({
        method: 'GET',
        url: `/api/runs?limit=2&before=${first.json().next}`,
        token: admin,
      });

      expect(first.json().runs.map((r: { number: number }) => r.number)).toEqual([3, 2]);
      expect(second.json().runs.map((r: { number: number }) => r.number)).toEqual([1]);
      expect(second.json().next).toBeUndefined();
    });

    it('refuses refs that are not refs and commits the repository lacks', async () => {
      await f.init({ 'phoenix.yml': PHOENIX_YML(), 'buildspec.yml': PASSING });

      const badBranch = await send({
        method: 'POST',
        url: '/api/services/shop/trigger',
        token: admin,
        body: { branch: 'a..b' },
      });
      const option = await send({
        method: 'POST',
        url: '/api/services/shop/trigger',
        token: admin,
        body: { ref: '--upload-pack=x' },
      });
      const both = await send({
        method: 'POST',
        url: '/api/services/shop/trigger',
        token: admin,
        body: { ref: 'refs/heads/main', branch: 'main' },
      });
      const noBranch = await send({
        method: 'POST',
        url: '/api/services/shop/trigger',
        token: admin,
        body: { branch: 'nope' },
      });
      const noCommit = await send({
        method: 'POST',
        url: '/api/services/shop/trigger',
        token: admin,
        body: { commit: 'a'.repeat(40) },
      });

      expect(badBranch.statusCode).toBe(400);
      expect(badBranch.json().errors).toEqual([
        { location: 'body', field: 'branch', message: 'contains ".."' },
      ]);
      expect(option.statusCode).toBe(400);
      expect(both.statusCode).toBe(400);
      expect(noBranch.statusCode).toBe(404);
      expect(noBranch.json().detail).toBe('service shop has no branch nope (push it first)');
      expect(noCommit.statusCode).toBe(404);
      expect(f.store.runs.list({ limit: 10 })).toEqual([]);
    });

    it('records a run for an invalid phoenix.yml and shows its errors', async () => {
      await f.init({
        'phoenix.yml': 'service: shop\nexecution-mode: fastest\n',
        'buildspec.yml': PASSING,
      });

      const response = await send({
        method: 'POST',
        url: '/api/services/shop/trigger',
        token: admin,
        body: {},
      });

      expect(response.statusCode).toBe(201);
      expect(response.json().run).toMatchObject({
        status: 'failed',
        reason: expect.stringContaining('execution-mode'),
      });
    });

    it('cancels and retries through the API, with 409 for what cannot be done', async () => {
      await f.init({ 'phoenix.yml': PHOENIX_YML(), 'buildspec.yml': FAILING });
      const run = await f.finished(await f.submit(f.push({ 'x.txt': '1' })));

      const cancel = await send({
        method: 'POST',
        url: `/api/runs/${run.id}/cancel`,
        token: admin,
      });
      const retry = await send({ method: 'POST', url: `/api/runs/${run.id}/retry`, token: admin });
      await f.orchestrator.whenFinished(run.id);
      const missing = await send({
        method: 'POST',
        url: '/api/runs/r_000000000000/cancel',
        token: admin,
      });

      expect(run.status).toBe('failed');
      expect(cancel.statusCode).toBe(409);
      expect(cancel.json()).toMatchObject({
        type: 'urn:phoenix:problem:conflict',
        detail: 'run shop #1 is already failed',
      });
      expect(retry.statusCode).toBe(200);
      expect(retry.json().run.status).toBe('queued');
      expect(f.store.runs.get(run.id).stages[1]?.attempt).toBe(2);
      expect(missing.statusCode).toBe(404);
    });

    it('404s the log of a run whose build has not started', async () => {
      await f.init({
        'phoenix.yml': 'service: shop\nexecution-mode: fastest\n',
        'buildspec.yml': PASSING,
      });
      const run = await f.finished(await f.submit(f.push({ 'x.txt': '1' })));

      const response = await send({ method: 'GET', url: `/api/runs/${run.id}/logs`, token: admin });

      expect(response.statusCode).toBe(404);
      expect(response.json().detail).toBe('run shop #1 has no log for its source stage yet');
    });
  });

  it('exposes Prometheus metrics from its own registry', async () => {
    await app.close();
    app = start({ processMetrics: true });
    await f.init({ 'phoenix.yml': PHOENIX_YML(), 'buildspec.yml': PASSING });
    await f.finished(await f.submit(f.push({ 'x.txt': '1' })));
    await send({ method: 'GET', url: '/api/services', token: admin });

    const response = await send({ method: 'GET', url: '/metrics', token: f.token('viewer') });

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/plain');
    expect(response.body).toContain('phoenix_runs{status="succeeded"} 1');
    expect(response.body).toContain('phoenix_runs{status="queued"} 0');
    expect(response.body).toContain('phoenix_queue_depth 0');
    expect(response.body).toContain('phoenix_stages_running 0');
    expect(response.body).toContain('phoenix_run_duration_seconds_count{status="succeeded"} 1');
    expect(response.body).toContain(
      'phoenix_http_requests_total{method="GET",route="/api/services",status="200"} 1',
    );
    expect(response.body).toContain('process_cpu_user_seconds_total');
  });
});

describe('createHttpServer', () => {
  it('refuses to register a route that does not say who may call it', async () => {
    const f = new ServerFixture();
    const app = f.start();

    expect(() => app.get('/open', async () => 'anyone')).toThrow(
      'GET /open does not declare its access',
    );
    await f.close();
  });

  it('listens to the bus for metrics until it is closed', async () => {
    const f = new ServerFixture();
    // The fixture turns process metrics off; this server keeps the default.
    const app = f.start({ processMetrics: true });
    const listeners = f.bus.size;

    await app.ready();
    await app.close();
    await f.close();

    expect(listeners).toBe(1);
    expect(f.bus.size).toBe(0);
  });
});
