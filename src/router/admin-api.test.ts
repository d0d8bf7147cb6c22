import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, QUIET_CHECK, RouterHarness, send } from './testing/router-harness.js';
import { freePort, type Upstream } from './testing/upstream.js';

interface Answer {
  status: number;
  contentType: string | null;
  body: unknown;
  text: string;
  challenge: string | null;
}

describe('the router admin API', () => {
  let harness: RouterHarness;

  beforeEach(async () => {
    harness = await RouterHarness.start();
  });

  afterEach(async () => {
    await harness.close();
  });

  async function call(
    method: string,
    path: string,
    body?: unknown,
    token: string | null = ADMIN_TOKEN,
  ): Promise<Answer> {
    const response = await fetch(`${harness.router.adminUrl}${path}`, {
      method,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined
        ? {}
        : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return {
      status: response.status,
      contentType: response.headers.get('content-type'),
      body: parsed,
      text,
      challenge: response.headers.get('www-authenticate'),
    };
  }

  async function blueGroup(): Promise<Upstream> {
    const upstream = await harness.upstream('blue');
    await harness.group('blue', [upstream]);
    return upstream;
  }

  it.each([
    { case: 'no token', token: null },
    { case: 'a wrong token', token: 'phx-router-test-token-0123456789abcdeX' },
    { case: 'a short token', token: 'x' },
  ])('answers 401 with a bearer challenge to $case', async ({ token }) => {
    const answer = await call('GET', '/state', undefined, token);

    expect(answer.status).toBe(401);
    expect(answer.contentType).toBe('application/problem+json; charset=utf-8');
    expect(answer.challenge).toBe('Bearer realm="Phoenix router"');
    expect(answer.body).toMatchObject({ type: 'urn:phoenix:problem:unauthorized', status: 401 });
  });

  it('answers GET /health without a token', async () => {
    const answer = await call('GET', '/health', undefined, null);

    expect(answer).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('refuses weights that do not add up to 100, naming the field', async () => {
    await harness.listener('web');
    await blueGroup();

    const answer = await call('PUT', '/listeners/web/weights', {
      split: [{ group: 'blue', weight: 90 }],
    });

    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({
      type: 'urn:phoenix:problem:validation',
      instance: '/listeners/web/weights',
      errors: [
        {
          location: 'body',
          field: 'split',
          message: 'weights add up to 90; they must add up to 100',
        },
      ],
    });
  });

  it.each([
    {
      case: 'a weight out of range',
      body: { split: [{ group: 'blue', weight: 101 }] },
      field: 'split.0.weight',
    },
    {
      case: 'a group named twice',
      body: {
        split: [
          { group: 'blue', weight: 50 },
          { group: 'blue', weight: 50 },
        ],
      },
      field: 'split.1.group',
    },
    {
      case: 'a group that does not exist',
      body: { split: [{ group: 'nope', weight: 100 }] },
      field: 'split.0.group',
    },
    {
      case: 'an unknown field',
      body: { split: [{ group: 'blue', weight: 100 }], extra: 1 },
      field: '',
    },
    {
      case: 'a 5xx retry from a group outside the split',
      body: {
        split: [{ group: 'blue', weight: 100 }],
        serverErrorRetry: { from: 'x', to: 'blue' },
      },
      field: 'serverErrorRetry.from',
    },
  ])('refuses $case with 400 naming $field', async ({ body, field }) => {
    await harness.listener('web');
    await blueGroup();

    const answer = await call('PUT', '/listeners/web/weights', body);

    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({
      errors: expect.arrayContaining([expect.objectContaining({ field })]),
    });
  });

  it.each([
    { case: 'a port out of range', path: '/listeners/web', body: { port: 70000 }, field: 'port' },
    {
      case: 'a bad name in the path',
      path: '/listeners/-web',
      body: { port: 8080 },
      field: 'name',
    },
    {
      case: 'a body name contradicting the path',
      path: '/listeners/web',
      body: { name: 'api', port: 8080 },
      field: 'name',
    },
    {
      case: 'duplicate target ids',
      path: '/target-groups/blue',
      body: {
        targets: [
          { id: 'a', host: '127.0.0.1', port: 3001 },
          { id: 'a', host: '127.0.0.1', port: 3002 },
        ],
        healthCheck: QUIET_CHECK,
      },
      field: 'targets.1.id',
    },
    {
      case: 'a health check path without a slash',
      path: '/target-groups/blue',
      body: { targets: [], healthCheck: { ...QUIET_CHECK, path: 'health' } },
      field: 'healthCheck.path',
    },
  ])('refuses $case with 400 naming $field', async ({ path, body, field }) => {
    const answer = await call('PUT', path, body);

    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ errors: [expect.objectContaining({ field })] });
  });

  it.each([
    { method: 'GET', path: '/target-groups/nope/health' },
    { method: 'GET', path: '/target-groups/nope/counters' },
    { method: 'GET', path: '/target-groups/nope/window' },
    { method: 'DELETE', path: '/target-groups/nope' },
    { method: 'POST', path: '/target-groups/nope/drain', body: { targets: 'all', timeoutMs: 10 } },
    { method: 'GET', path: '/listeners/nope/weights' },
    { method: 'GET', path: '/no-such-route' },
  ])('answers 404 to $method $path', async ({ method, path, body }) => {
    const answer = await call(method, path, body);

    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({ type: 'urn:phoenix:problem:not-found', status: 404 });
  });

  it('answers 413 to an oversize body', async () => {
    const huge = JSON.stringify({ port: 8080, padding: 'x'.repeat(2 * 1024 * 1024) });

    const answer = await call('PUT', '/listeners/web', huge);

    expect(answer.status).toBe(413);
    expect(answer.body).toMatchObject({ type: 'urn:phoenix:problem:payload-too-large' });
  });

  it('answers 400 to malformed JSON', async () => {
    const answer = await call('PUT', '/listeners/web', '{"port":');

    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ type: 'urn:phoenix:problem:malformed-json' });
  });

  it('answers 409 naming the listener and the port when the port is taken', async () => {
    const port = await freePort();
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));

    const answer = await call('PUT', '/listeners/web', { port, host: '127.0.0.1' });
    await new Promise<void>((resolve) => squatter.close(() => resolve()));

    expect(answer.status).toBe(409);
    expect(answer.body).toMatchObject({
      detail: `listener web cannot listen on 127.0.0.1 port ${port}: the port is in use by another process`,
    });
    expect((await call('GET', '/state')).body).toMatchObject({ listeners: [] });
  });

  it('answers 409 to a port another listener has, and to removing a weighted group', async () => {
    const url = await harness.listener('web');
    await blueGroup();
    await call('PUT', '/listeners/web/weights', { split: [{ group: 'blue', weight: 100 }] });

    const clash = await call('PUT', '/listeners/api', { port: Number(new URL(url).port) });
    const removal = await call('DELETE', '/target-groups/blue');

    expect(clash.status).toBe(409);
    expect(clash.body).toMatchObject({
      detail: expect.stringContaining('already used by listener web'),
    });
    expect(removal.status).toBe(409);
    expect(removal.body).toMatchObject({
      detail:
        'target group blue still has weight 100 on listener web: shift it away before removing the group',
    });
  });

  it('reads state, weights, health, counters, the rolling window and Prometheus metrics', async () => {
    const url = await harness.listener('web');
    await blueGroup();
    await call('PUT', '/listeners/web/weights', { split: [{ group: 'blue', weight: 100 }] });
    const since = Date.now() - 1000;
    await send(url);
    await send(url, { path: '/again' });

    const state = await call('GET', '/state');
    const weights = await call('GET', '/listeners/web/weights');
    const health = await call('GET', '/target-groups/blue/health');
    const counters = await call('GET', '/target-groups/blue/counters');
    const window = await call('GET', `/target-groups/blue/window?since=${since}`);
    const metrics = await call('GET', '/metrics');

    expect(state.body).toMatchObject({
      listeners: [{ name: 'web', split: [{ group: 'blue', weight: 100 }] }],
      targetGroups: [{ name: 'blue', draining: [] }],
    });
    expect(weights.body).toEqual({ listener: 'web', split: [{ group: 'blue', weight: 100 }] });
    expect(health.body).toMatchObject({
      group: 'blue',
      targets: [{ id: 'blue', state: 'healthy' }],
    });
    expect(counters.body).toMatchObject({ group: 'blue', requests: 2, status2xx: 2, retries: 0 });
    const buckets = (window.body as { buckets: { requests: number }[] }).buckets;
    expect(buckets.reduce((sum, bucket) => sum + bucket.requests, 0)).toBe(2);
    expect(metrics.contentType).toContain('text/plain');
    expect(metrics.text).toContain(
      'phoenix_router_requests_total{target_group="blue",status_class="2xx"} 2',
    );
    expect(metrics.text).toContain('phoenix_router_targets{target_group="blue",state="healthy"} 1');
  });

  it('removes a listener with 204, a listener it does not have too, and closes its port', async () => {
    const url = await harness.listener('web');

    const removed = await call('DELETE', '/listeners/web');
    const again = await call('DELETE', '/listeners/web');
    const unknown = await call('DELETE', '/listeners/never-was');
    const state = await call('GET', '/state');

    expect([removed, again, unknown].map((answer) => [answer.status, answer.text])).toEqual([
      [204, ''],
      [204, ''],
      [204, ''],
    ]);
    expect(state.body).toMatchObject({ listeners: [] });
    await expect(send(url)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('refuses to remove a listener with a bad name (400) or without the token (401)', async () => {
    const url = await harness.listener('web');

    const badName = await call('DELETE', '/listeners/-web');
    const noToken = await call('DELETE', '/listeners/web', undefined, null);

    expect(badName.status).toBe(400);
    expect(badName.body).toMatchObject({
      errors: [expect.objectContaining({ location: 'path', field: 'name' })],
    });
    expect(noToken.status).toBe(401);
    expect(noToken.challenge).toBe('Bearer realm="Phoenix router"');
    expect((await call('GET', '/state')).body).toMatchObject({ listeners: [{ name: 'web' }] });
    expect((await send(url)).status).toBe(503);
  });

  it('removes a group that has no weight, dropping it from splits', async () => {
    await harness.listener('web');
    await blueGroup();
    const green = await harness.upstream('green');
    await harness.group('green', [green]);
    await call('PUT', '/listeners/web/weights', {
      split: [
        { group: 'blue', weight: 100 },
        { group: 'green', weight: 0 },
      ],
    });

    const removed = await call('DELETE', '/target-groups/green');
    const weights = await call('GET', '/listeners/web/weights');
    const metrics = await call('GET', '/metrics');

    expect(removed.status).toBe(204);
    expect(weights.body).toMatchObject({ split: [{ group: 'blue', weight: 100 }] });
    expect(metrics.text).not.toContain('target_group="green"');
  });
});
