import { Writable } from 'node:stream';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SECRET_KEY_BYTES } from '../secrets/secret-box.js';
import { SecretStore } from '../secrets/secret-store.js';
import { openScratchStore, type ScratchStore } from '../store/testing/scratch-store.js';
import type { TokenRole } from '../store/token-repository.js';
import { registerAccessControl } from './auth.js';
import { DEFAULT_MAX_JSON_BYTES, registerJsonBody } from './json-body.js';
import { registerProblemHandlers } from './problem.js';
import { registerSecretRoutes, type SecretRouteDeps } from './secret-routes.js';

const START = Date.UTC(2026, 0, 1);
const VALUE = 'pa55-w0rd-never-shown';

/** The secret routes in a minimal app: problems, access control, JSON bodies, a real store. */
describe('secret routes', () => {
  let scratch: ScratchStore;
  let secrets: SecretStore;
  let app: FastifyInstance;
  let logged: string[];
  const tokens: Partial<Record<TokenRole, string>> = {};

  function start(deps: SecretRouteDeps): FastifyInstance {
    logged = [];
    const capture = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged.push(chunk.toString('utf8'));
        done();
      },
    });
    const logger: FastifyBaseLogger = pino({ level: 'trace' }, capture);
    const instance = Fastify({ loggerInstance: logger });
    registerProblemHandlers(instance);
    registerAccessControl(instance, scratch.store.tokens);
    registerJsonBody(instance, DEFAULT_MAX_JSON_BYTES);
    registerSecretRoutes(instance, deps);
    return instance;
  }

  beforeEach(async () => {
    scratch = await openScratchStore({
      prefix: 'phoenix-secret-routes-',
      now: () => START,
      services: ['shop'],
    });
    secrets = new SecretStore({
      repository: scratch.store.secrets,
      key: Buffer.alloc(SECRET_KEY_BYTES, 1),
    });
    for (const role of ['admin', 'developer', 'viewer', 'approver'] as const) {
      tokens[role] = scratch.store.tokens.create({ name: `${role}-token`, role }).token;
    }
    app = start({ secrets });
    await app.ready();
  });

  afterEach(async () => {
    await app.close();
    await scratch.close();
  });

  function send(
    method: 'GET' | 'PUT' | 'DELETE',
    url: string,
    options: { role?: TokenRole; body?: unknown } = {},
  ) {
    const token = tokens[options.role ?? 'admin'];
    return app.inject({
      method,
      url,
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      ...(options.body === undefined ? {} : { payload: options.body as object }),
    });
  }

  it('creates (201), replaces (200) and never echoes the value', async () => {
    const created = await send('PUT', '/api/secrets/prod%2Fdb', {
      body: { value: VALUE, service: 'shop', environment: 'prod' },
    });
    const replaced = await send('PUT', '/api/secrets/prod%2Fdb', {
      body: { value: `${VALUE}-2`, service: 'shop', environment: 'prod' },
    });

    expect(created.statusCode).toBe(201);
    expect(created.json()).toEqual({
      secret: {
        name: 'prod/db',
        scope: 'shop',
        environment: 'prod',
        createdAt: new Date(START).toISOString(),
        updatedAt: new Date(START).toISOString(),
        updatedBy: 'admin-token',
      },
    });
    expect(replaced.statusCode).toBe(200);
    expect(created.body + replaced.body).not.toContain(VALUE);
    expect(secrets.resolve('prod/db', { service: 'shop', environment: 'prod' })).toBe(`${VALUE}-2`);
  });

  it('lists without values, all or those that apply to a service', async () => {
    await send('PUT', '/api/secrets/DB', { body: { value: VALUE } });
    await send('PUT', '/api/secrets/DB', { body: { value: VALUE, service: 'shop' } });

    const all = await send('GET', '/api/secrets');
    const shop = await send('GET', '/api/secrets?service=shop');
    const other = await send('GET', '/api/secrets?service=billing');

    expect(all.statusCode).toBe(200);
    expect(all.json<{ secrets: unknown[] }>().secrets).toEqual([
      expect.objectContaining({ name: 'DB', scope: '*' }),
      expect.objectContaining({ name: 'DB', scope: 'shop' }),
    ]);
    expect(shop.json<{ secrets: unknown[] }>().secrets).toHaveLength(2);
    expect(other.json<{ secrets: unknown[] }>().secrets).toEqual([
      expect.objectContaining({ scope: '*' }),
    ]);
    expect(all.body).not.toContain(VALUE);
  });

  it('removes the secret at one address, and 404s when there is none', async () => {
    await send('PUT', '/api/secrets/DB', { body: { value: VALUE, service: 'shop' } });
    await send('PUT', '/api/secrets/DB', { body: { value: VALUE } });

    const removed = await send('DELETE', '/api/secrets/DB?service=shop');
    const again = await send('DELETE', '/api/secrets/DB?service=shop');

    expect(removed.statusCode).toBe(200);
    expect(removed.json()).toMatchObject({ secret: { name: 'DB', scope: 'shop' } });
    expect(again.statusCode).toBe(404);
    expect(again.json()).toMatchObject({
      type: 'urn:phoenix:problem:not-found',
      detail: 'secret DB (service shop) not found',
    });
    expect(secrets.list().map((s) => s.scope)).toEqual(['*']);
  });

  it('never logs a value', async () => {
    await send('PUT', '/api/secrets/DB', { body: { value: VALUE, service: 'shop' } });
    await send('PUT', '/api/secrets/DB', { body: { value: 'x', service: 'shop' } });
    await send('DELETE', '/api/secrets/DB?service=shop');

    const log = logged.join('');

    expect(log).toContain('"msg":"secret set"');
    expect(log).toContain('"msg":"secret removed"');
    expect(log).not.toContain(VALUE);
  });

  const ROUTES = [
    { method: 'PUT', url: '/api/secrets/DB', body: { value: VALUE } },
    { method: 'GET', url: '/api/secrets' },
    { method: 'DELETE', url: '/api/secrets/DB' },
  ] as const;

  it.each(ROUTES)('$method $url: 401 without a token', async (route) => {
    const response = await app.inject({
      method: route.method,
      url: route.url,
      ...('body' in route ? { payload: route.body } : {}),
    });

    expect(response.statusCode).toBe(401);
  });

  it.each(
    ROUTES.flatMap((route) =>
      (['viewer', 'approver', 'developer'] as const).map((role) => ({ ...route, role })),
    ),
  )('$method $url: 403 for a $role token, and nothing changes', async (route) => {
    await send('PUT', '/api/secrets/DB', { body: { value: 'original-value' } });

    const response = await send(route.method, route.url, {
      role: route.role,
      ...('body' in route ? { body: route.body } : {}),
    });

    expect(response.statusCode).toBe(403);
    expect(response.json().detail).toMatch(/needs the admin role/);
    expect(secrets.resolve('DB')).toBe('original-value');
  });

  it.each([
    ['PUT', '/api/secrets/1DB', { value: VALUE }, 'path', 'name'],
    ['PUT', '/api/secrets/a%3Ab', { value: VALUE }, 'path', 'name'],
    ['PUT', '/api/secrets/DB', {}, 'body', 'value'],
    ['PUT', '/api/secrets/DB', { value: 'abc' }, 'body', 'value'],
    ['PUT', '/api/secrets/DB', { value: VALUE, service: 'Shop' }, 'body', 'service'],
    ['PUT', '/api/secrets/DB', { value: VALUE, environment: '' }, 'body', 'environment'],
    ['PUT', '/api/secrets/DB', { value: VALUE, scope: '*' }, 'body', ''],
    ['GET', '/api/secrets?service=', undefined, 'query', 'service'],
    ['DELETE', '/api/secrets/DB?environment=PROD', undefined, 'query', 'environment'],
  ] as const)('%s %s %j: 400 naming %s.%s', async (method, url, body, part, field) => {
    const response = await send(method, url, body === undefined ? {} : { body });

    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toEqual([expect.objectContaining({ location: part, field })]);
    expect(response.body).not.toContain(VALUE);
    expect(secrets.list()).toEqual([]);
  });

  it('404s a secret for a service that does not exist', async () => {
    const response = await send('PUT', '/api/secrets/DB', {
      body: { value: VALUE, service: 'nope' },
    });

    expect(response.statusCode).toBe(404);
    expect(response.json().detail).toBe('service nope not found');
  });

  it('409s every route when the server keeps no secrets', async () => {
    await app.close();
    app = start({});

    const responses = await Promise.all(
      ROUTES.map((route) =>
        send(route.method, route.url, 'body' in route ? { body: route.body } : {}),
      ),
    );

    expect(responses.map((r) => r.statusCode)).toEqual([409, 409, 409]);
  });
});
