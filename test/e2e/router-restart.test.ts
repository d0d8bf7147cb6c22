import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
