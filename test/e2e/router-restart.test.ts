import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { adminTokenPath } from '../../src/router/admin-token.js';
import { HttpTrafficRouter } from '../../src/router/http-traffic-router.js';
import { startRouter } from '../../src/router/router.js';
import { ListenerBindError } from '../../src/router/route-errors.js';
import { StateFile } from '../../src/router/state-file.js';
import {
  ADMIN_TOKEN,
  QUIET_CHECK,
  RouterHarness,
  send,
  tally,
} from '../../src/router/testing/router-harness.js';
import { freePort, startUpstream, type Upstream } from '../../src/router/testing/upstream.js';
import { FakeClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { RouterProcess } from '../support/router-process.js';
import { CLI } from '../support/server-process.js';

describe('a router restarted on the same state directory', () => {
  let stateDirectory: string;
  let upstreams: Upstream[];
  let harnesses: RouterHarness[];

  beforeEach(() => {
    stateDirectory = mkdtempSync(join(tmpdir(), 'phoenix-router-restart-'));
    upstreams = [];
    harnesses = [];
  });

  afterEach(async () => {
    for (const harness of harnesses) await harness.close();
    for (const upstream of upstreams) await upstream.kill();
    rmSync(stateDirectory, { recursive: true, force: true });
  });

  async function start(clock?: FakeClock): Promise<RouterHarness> {
    const harness = await RouterHarness.start({
      stateDirectory,
      ...(clock === undefined ? {} : { clock }),
    });
    harnesses.push(harness);
    return harness;
  }

  async function upstream(name: string): Promise<Upstream> {
    const started = await startUpstream(name);
    upstreams.push(started);
    return started;
  }

  it('routes again as soon as it starts, with the weights and drains it had', async () => {
    const first = await start();
    const url = await first.listener('web');
    const blue = await upstream('blue');
    const green = await upstream('green');
    const old = await upstream('old');
    await first.group('blue', [blue, old]);
    await first.group('green', [green]);
    await first.client.applyWeights('web', [
      { group: 'blue', weight: 50 },
      { group: 'green', weight: 50 },
    ]);
    await first.client.drain('blue', ['old'], 1000);
    const before = await tally(url, 10);

    await first.close();
    harnesses.length = 0;
    const second = await start();
    const after = await tally(url, 10);

    expect(before).toEqual({ blue: 5, green: 5 });
    expect(after).toEqual({ blue: 5, green: 5 });
    expect(await second.client.verifyWeights('web')).toEqual([
      { group: 'blue', weight: 50 },
      { group: 'green', weight: 50 },
    ]);
    expect((await second.client.health('blue')).find((t) => t.id === 'old')?.state).toBe(
      'draining',
    );
  });

  it('keeps routes.json whole: it holds the last table the admin API acknowledged', async () => {
    const harness = await start();
    await harness.listener('web');
    await harness.group('blue', [await upstream('blue')]);

    await harness.client.applyWeights('web', [{ group: 'blue', weight: 100 }]);
    const saved: unknown = JSON.parse(readFileSync(join(stateDirectory, 'routes.json'), 'utf8'));

    expect(saved).toMatchObject({
      version: 1,
      listeners: [{ name: 'web', split: [{ group: 'blue', weight: 100 }] }],
      targetGroups: [{ name: 'blue', healthCheck: QUIET_CHECK, draining: [] }],
    });
    expect(await new StateFile(join(stateDirectory, 'routes.json')).load()).toEqual(saved);
  });

  it('refuses to start when a listener port is taken, naming the listener and the port', async () => {
    const port = await freePort();
    const first = await start();
    await first.listener('web', port);
    await first.close();
    harnesses.length = 0;
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));

    const starting = startRouter({
      stateDirectory,
      adminPort: 0,
      adminToken: ADMIN_TOKEN,
      logger: silentLogger(),
    });

    await expect(starting).rejects.toBeInstanceOf(ListenerBindError);
    await expect(starting).rejects.toThrow(
      `listener web cannot listen on 127.0.0.1 port ${port}: the port is in use by another process`,
    );
    await new Promise<void>((resolve) => squatter.close(() => resolve()));
  });

  it('answers requests that arrive before the first health checks by failing open', async () => {
    const first = await start();
    const url = await first.listener('web');
    await first.group('blue', [await upstream('blue')]);
    await first.client.applyWeights('web', [{ group: 'blue', weight: 100 }]);
    await first.close();
    harnesses.length = 0;

    // A clock that never moves: no health check runs in this router.
    const second = await start(new FakeClock());
    const reply = await send(url);

    expect(await second.client.health('blue')).toMatchObject([{ id: 'blue', state: 'initial' }]);
    expect(reply).toMatchObject({ status: 200, body: 'blue' });
  });
});

describe('a phoenix router process restarted on the same PHOENIX_HOME', () => {
  let home: string;
  let routers: RouterProcess[];

  beforeAll(() => {
    if (!existsSync(CLI))
      throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
  });

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'phoenix-router-process-'));
    routers = [];
  });

  afterEach(async () => {
    for (const router of routers) await router.stop('SIGTERM');
    rmSync(home, { recursive: true, force: true });
  });

  async function start(adminPort: number): Promise<HttpTrafficRouter> {
    const router = new RouterProcess({ PHOENIX_HOME: home }, adminPort);
    routers.push(router);
    const url = await router.url;
    const token = readFileSync(adminTokenPath(home), 'utf8').trim();
    return new HttpTrafficRouter({ url, token });
  }

  it('does not open a listener again once it was removed', async () => {
    const adminPort = await freePort();
    const [webPort, apiPort] = [await freePort(), await freePort()];
    const first = await start(adminPort);
    await first.putListener({ name: 'web', port: webPort, host: '127.0.0.1' });
    await first.putListener({ name: 'api', port: apiPort, host: '127.0.0.1' });

    await first.removeListener('web');
    const removed = await send(`http://127.0.0.1:${webPort}`).catch((error: unknown) => error);
    const stopped = await routers[0]?.stop('SIGTERM');
    const second = await start(adminPort);

    expect(removed).toMatchObject({ code: 'ECONNREFUSED' });
    expect(stopped).toEqual({ code: 0, signal: null });
    await expect(send(`http://127.0.0.1:${webPort}`)).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
    expect((await send(`http://127.0.0.1:${apiPort}`)).status).toBe(503);
    await expect(second.verifyWeights('web')).rejects.toThrow('there is no listener web');
    expect(await second.verifyWeights('api')).toEqual([]);
  });
});
