import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock, systemClock, type Clock, type TimerHandle } from '../shared/clock.js';
import { silentLogger } from '../shared/logger.js';
import { DataPlane } from './data-plane.js';
import { CLIENT_HEADERS_TIMEOUT_MS } from './proxy.js';
import type { RouterState } from './router-state.js';
import { StateFile } from './state-file.js';
import { QUIET_CHECK, send } from './testing/router-harness.js';
import { freePort, startUpstream, type Upstream } from './testing/upstream.js';

/** A real StateFile that counts its saves. */
class CountingStateFile extends StateFile {
  saves = 0;

  override save(state: RouterState): void {
    this.saves++;
    super.save(state);
  }
}

/** An upstream that holds every request until `release` is called. */
interface HeldUpstream {
  upstream: Upstream;
  /** Resolves when the first request reaches the upstream. */
  arrived: Promise<void>;
  release(): void;
}

/** What a TCP connection to the port meets: `connected`, or the error code. */
function dial(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** A keep-alive connection that has had one answer (chunked: it ends with the last chunk). */
async function idleConnection(port: number, request: string): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  const answered = new Promise<void>((resolve) =>
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.endsWith('0\r\n\r\n')) resolve();
    }),
  );
  socket.write(request);
  await answered;
  return socket;
}

/** Resolves when the plane reports a listener's port closed. */
function listenerRemoved(plane: DataPlane): Promise<void> {
  return new Promise((resolve) => {
    const unsubscribe = plane.subscribe((event) => {
      if (event.type !== 'listener-removed') return;
      unsubscribe();
      resolve();
    });
  });
}

describe('DataPlane.removeListener', () => {
  let directory: string;
  let planes: DataPlane[];
  let upstreams: Upstream[];

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'phoenix-data-plane-'));
    planes = [];
    upstreams = [];
  });

  afterEach(async () => {
    for (const plane of planes) await plane.close(0);
    for (const upstream of upstreams) await upstream.kill();
    rmSync(directory, { recursive: true, force: true });
  });

  function newPlane(options: { stateFile?: StateFile; clock?: Clock } = {}): DataPlane {
    const plane = new DataPlane({
      stateFile: options.stateFile ?? StateFile.in(directory),
      clock: options.clock ?? systemClock(),
      logger: silentLogger(),
    });
    planes.push(plane);
    return plane;
  }

  async function heldUpstream(): Promise<HeldUpstream> {
    const held: ServerResponse[] = [];
    let arrive = (): void => undefined;
    const arrived = new Promise<void>((resolve) => (arrive = resolve));
    const upstream = await startUpstream('blue', (request, response) => {
      request.resume();
      held.push(response);
      arrive();
    });
    upstreams.push(upstream);
    const release = (): void => {
      for (const response of held.splice(0)) response.writeHead(200).end('blue');
    };
    return { upstream, arrived, release };
  }

  /** Listener `web` on a free port, routing everything to `upstream`; answers the port. */
  async function route(plane: DataPlane, upstream?: Upstream): Promise<number> {
    const target = upstream ?? (await startUpstream('blue'));
    if (upstream === undefined) upstreams.push(target);
    const port = await freePort();
    await plane.putListener({ name: 'web', port, host: '127.0.0.1' });
    await plane.putTargetGroup({
      name: 'blue',
      targets: [{ id: 'blue', host: '127.0.0.1', port: target.port }],
      healthCheck: QUIET_CHECK,
    });
    await plane.applyWeights('web', [{ group: 'blue', weight: 100 }]);
    return port;
  }

  it('closes the port: a new connection is refused, and the port is free for another listener', async () => {
    const plane = newPlane();
    const port = await route(plane);
    const before = await send(`http://127.0.0.1:${port}`);

    await plane.removeListener('web');
    const after = await dial(port);
    await plane.putListener({ name: 'api', port, host: '127.0.0.1' });

    expect(before).toMatchObject({ status: 200, body: 'blue' });
    expect(after).toBe('ECONNREFUSED');
    expect(await dial(port)).toBe('connected');
  });

  it.each([
    { path: 'the fast path', method: 'GET', body: undefined },
    { path: 'node:http', method: 'POST', body: 'order' },
  ])(
    'lets a request in flight on $path finish, resolving after it, without holding up other changes',
    async ({ method, body }) => {
      const plane = newPlane();
      const held = await heldUpstream();
      const port = await route(plane, held.upstream);
      const reply = send(`http://127.0.0.1:${port}`, {
        method,
        ...(body === undefined ? {} : { body }),
      });
      await held.arrived;
      const portClosed = listenerRemoved(plane);
      let settled = false;

      const removing = plane.removeListener('web').then(() => (settled = true));
      await portClosed;
      const during = await dial(port);
      await plane.putTargetGroup({ name: 'green', targets: [], healthCheck: QUIET_CHECK });
      const settledBeforeRelease = settled;
      held.release();

      expect(during).toBe('ECONNREFUSED');
      expect(settledBeforeRelease).toBe(false);
      expect(await reply).toMatchObject({ status: 200, body: 'blue' });
      await removing;
      expect(settled).toBe(true);
    },
  );

  it.each([
    { path: 'the fast path', request: 'GET / HTTP/1.1\r\nHost: web\r\n\r\n' },
    {
      path: 'node:http',
      request: 'POST / HTTP/1.1\r\nHost: web\r\nContent-Length: 5\r\n\r\norder',
    },
  ])('closes idle keep-alive connections on $path at once', async ({ request }) => {
    const plane = newPlane();
    const port = await route(plane);
    const socket = await idleConnection(port, request);
    const closed = once(socket, 'close');

    await plane.removeListener('web');

    await closed;
    expect(socket.destroyed).toBe(true);
  });

  it.each([
    { path: 'the fast path', method: 'GET', body: undefined },
    { path: 'node:http', method: 'POST', body: 'order' },
  ])(
    'cuts a removed listener’s requests on $path off when the plane closes with no grace',
    async ({ method, body }) => {
      // A clock that never moves: the removal's own grace never ends, only close(0) ends it.
      const plane = newPlane({ clock: new FakeClock() });
      const held = await heldUpstream();
      const port = await route(plane, held.upstream);
      const reply = send(`http://127.0.0.1:${port}`, {
        method,
        ...(body === undefined ? {} : { body }),
      }).catch((error: unknown) => error);
      await held.arrived;
      const portClosed = listenerRemoved(plane);
      const removing = plane.removeListener('web');
      await portClosed;

      await plane.close(0);
      await removing;

      expect(await reply).toMatchObject({ code: 'ECONNRESET' });
    },
  );

  it('persists the removal: routes.json drops it and a restarted plane does not open it', async () => {
    const first = newPlane();
    const port = await route(first);

    await first.removeListener('web');
    const saved = JSON.parse(readFileSync(join(directory, 'routes.json'), 'utf8')) as RouterState;
    await first.close(0);
    const second = newPlane();
    await second.restore();

    expect(saved.listeners).toEqual([]);
    expect(saved.targetGroups.map((group) => group.name)).toEqual(['blue']);
    expect(second.snapshot().listeners).toEqual([]);
    expect(await dial(port)).toBe('ECONNREFUSED');
  });

  it('removes twice, or a listener it never had, without a word and without writing', async () => {
    const stateFile = new CountingStateFile(join(directory, 'routes.json'));
    const plane = newPlane({ stateFile });
    await route(plane);

    await plane.removeListener('web');
    const saves = stateFile.saves;
    await plane.removeListener('web');
    await plane.removeListener('never-was');

    expect(plane.snapshot().listeners).toEqual([]);
    expect(stateFile.saves).toBe(saves);
  });
});

/** A FakeClock that says when a request-head deadline is set. */
class HeadWatchClock extends FakeClock {
  private armed: (() => void)[] = [];

  override setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle = super.setTimeout(fn, ms);
    if (ms === CLIENT_HEADERS_TIMEOUT_MS) for (const resolve of this.armed.splice(0)) resolve();
    return handle;
  }

  /** Resolves at the next head deadline set. */
  nextDeadline(): Promise<void> {
    return new Promise((resolve) => this.armed.push(resolve));
  }
}

describe('request heads that never finish (slowloris)', () => {
  let directory: string;
  let plane: DataPlane;
  let upstream: Upstream;
  let clock: HeadWatchClock;
  let port: number;

  beforeEach(async () => {
    directory = mkdtempSync(join(tmpdir(), 'phoenix-data-plane-'));
    clock = new HeadWatchClock();
    plane = new DataPlane({ stateFile: StateFile.in(directory), clock, logger: silentLogger() });
    upstream = await startUpstream('blue');
    port = await freePort();
    await plane.putListener({ name: 'web', port, host: '127.0.0.1' });
    await plane.putTargetGroup({
      name: 'blue',
      targets: [{ id: 'blue', host: '127.0.0.1', port: upstream.port }],
      healthCheck: QUIET_CHECK,
    });
    await plane.applyWeights('web', [{ group: 'blue', weight: 100 }]);
  });

  afterEach(async () => {
    await plane.close(0);
    await upstream.kill();
    rmSync(directory, { recursive: true, force: true });
  });

  it('closes a connection whose head is still incomplete after the headers timeout', async () => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    const armed = clock.nextDeadline();
    // Split across writes: the fast path hands it to node:http, which has no timer of its own here.
    socket.write('GET / HTTP/1.1\r\nHost: web\r\n');
    await armed;
    const closed = once(socket, 'close');

    clock.advance(CLIENT_HEADERS_TIMEOUT_MS);
    await closed;

    expect(socket.destroyed).toBe(true);
  });

  it('serves a head that completes before the deadline, and gives the next head a deadline of its own', async () => {
    const socket = connect(port, '127.0.0.1');
    // The router resets the connection when it cuts it off.
    socket.on('error', () => undefined);
    let received = '';
    const answered = new Promise<void>((resolve) =>
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
        // Chunked or not, the answer ends with its body or its last chunk.
        if (/blue(\r\n0\r\n\r\n)?$/.test(received)) resolve();
      }),
    );
    const armed = clock.nextDeadline();
    socket.write('GET / HTTP/1.1\r\nHost: web\r\n');
    await armed;
    clock.advance(CLIENT_HEADERS_TIMEOUT_MS - 1);
    const next = clock.nextDeadline();

    socket.write('X-Slow: but in time\r\n\r\n');
    await Promise.all([answered, next]);

    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\n[\s\S]*blue/);
    expect(socket.destroyed).toBe(false);
    const closed = once(socket, 'close');
    clock.advance(CLIENT_HEADERS_TIMEOUT_MS);
    await closed;
  });
});
