import { createServer } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, ExternalServiceError, NotFoundError } from '../shared/errors.js';
import { HttpTrafficRouter } from './http-traffic-router.js';
import { RouteValidationError } from './route-errors.js';
import { QUIET_CHECK, RouterHarness, send } from './testing/router-harness.js';
import { freePort, portOf } from './testing/upstream.js';

describe('HttpTrafficRouter against a real router', () => {
  let harness: RouterHarness;

  beforeEach(async () => {
    harness = await RouterHarness.start();
  });

  afterEach(async () => {
    await harness.close();
  });

  it('drives a blue/green switch with idempotent desired-state calls', async () => {
    const router = harness.client;
    const port = await freePort();
    const blue = await harness.upstream('blue');
    const green = await harness.upstream('green');
    const listener = { name: 'web', port, host: '127.0.0.1' };

    await router.putListener(listener);
    await router.putListener(listener);
    await harness.group('blue', [blue]);
    await harness.group('green', [green]);
    await router.applyWeights('web', [{ group: 'blue', weight: 100 }]);
    const before = await send(`http://127.0.0.1:${port}`);
    await router.applyWeights('web', [
      { group: 'blue', weight: 0 },
      { group: 'green', weight: 100 },
    ]);
    const after = await send(`http://127.0.0.1:${port}`);
    const drained = await router.drain('blue', 'all', 1000);
    await router.applyWeights('web', [{ group: 'green', weight: 100 }]);
    await router.removeTargetGroup('blue');
    await router.removeTargetGroup('blue');

    expect([before.body, after.body]).toEqual(['blue', 'green']);
    expect(drained).toEqual({ drained: 1, abandoned: 0 });
    expect(await router.verifyWeights('web')).toEqual([{ group: 'green', weight: 100 }]);
    expect(await router.health('green')).toMatchObject([{ id: 'green', state: 'healthy' }]);
    expect(await router.counters('green')).toMatchObject({ requests: 1, status2xx: 1 });
    const window = await router.window('green', Date.now() - 5000);
    expect(window.reduce((sum, slice) => sum + slice.requests, 0)).toBe(1);
  });

  it('turns the router’s problems into typed errors', async () => {
    const router = harness.client;
    await router.putListener({ name: 'web', port: await freePort(), host: '127.0.0.1' });
    await router.putTargetGroup({ name: 'blue', targets: [], healthCheck: QUIET_CHECK });
    await router.applyWeights('web', [{ group: 'blue', weight: 100 }]);

    const unknown = await router.verifyWeights('nope').catch((error: unknown) => error);
    const invalid = await router
      .applyWeights('web', [{ group: 'blue', weight: 50 }])
      .catch((error: unknown) => error);
    const weighted = await router.removeTargetGroup('blue').catch((error: unknown) => error);

    expect(unknown).toBeInstanceOf(NotFoundError);
    expect(invalid).toBeInstanceOf(RouteValidationError);
    expect(invalid).toMatchObject({
      issues: [{ field: 'split', message: 'weights add up to 50; they must add up to 100' }],
    });
    expect(weighted).toBeInstanceOf(ConflictError);
  });

  it('removes a listener, again without complaint, and its port closes', async () => {
    const router = harness.client;
    const url = await harness.listener('web');

    await router.removeListener('web');
    await router.removeListener('web');

    await expect(send(url)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(router.verifyWeights('web')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('does not take a 404 to a listener removal for success: the router lacks the route', async () => {
    const old = createServer((_request, response) => {
      response.writeHead(404, { 'content-type': 'application/problem+json' });
      response.end(JSON.stringify({ detail: 'no route DELETE /listeners/web' }));
    });
    await new Promise<void>((resolve) => old.listen(0, '127.0.0.1', resolve));
    const client = new HttpTrafficRouter({
      url: `http://127.0.0.1:${portOf(old)}`,
      token: 'whatever-0123456789',
    });

    const removal = await client.removeListener('web').catch((error: unknown) => error);
    old.closeAllConnections();
    await new Promise<void>((resolve) => old.close(() => resolve()));

    expect(removal).toBeInstanceOf(NotFoundError);
    expect(removal).toMatchObject({ message: 'no route DELETE /listeners/web' });
  });

  it('reports a wrong token and an unreachable router as external service errors', async () => {
    const wrongToken = new HttpTrafficRouter({
      url: harness.router.adminUrl,
      token: 'not-the-token-0123456789',
    });
    const nobody = new HttpTrafficRouter({
      url: `http://127.0.0.1:${await freePort()}`,
      token: 'whatever-0123456789',
    });

    await expect(wrongToken.health('blue')).rejects.toThrow(
      /answered GET \/target-groups\/blue\/health with 401: the router admin token is not valid/,
    );
    await expect(nobody.health('blue')).rejects.toBeInstanceOf(ExternalServiceError);
    await expect(nobody.health('blue')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('is ready only when the router answers and takes the token, and says what to do otherwise', async () => {
    const wrongToken = new HttpTrafficRouter({
      url: harness.router.adminUrl,
      token: 'not-the-token-0123456789',
    });
    const nobody = new HttpTrafficRouter({
      url: `http://127.0.0.1:${await freePort()}`,
      token: 'whatever-0123456789',
    });

    await expect(harness.client.ready()).resolves.toBeUndefined();
    await expect(wrongToken.ready()).rejects.toThrow(
      /^the router at http:\/\/127\.0\.0\.1:\d+ refused the control plane: .*401.*same PHOENIX_HOME\/router\/admin-token\)$/,
    );
    await expect(nobody.ready()).rejects.toThrow(ExternalServiceError);
    await expect(nobody.ready()).rejects.toThrow(
      /^router not reachable at http:\/\/127\.0\.0\.1:\d+: start `phoenix router` \(ECONNREFUSED\)$/,
    );
  });
});
