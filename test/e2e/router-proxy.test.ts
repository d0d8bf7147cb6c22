import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { Agent, request, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RouterHarness, send, tally } from '../../src/router/testing/router-harness.js';
import type { UpstreamHandler } from '../../src/router/testing/upstream.js';

const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

describe('the router proxying to real upstreams', () => {
  let harness: RouterHarness;
  let agents: Agent[];

  beforeEach(async () => {
    harness = await RouterHarness.start();
    agents = [];
  });

  afterEach(async () => {
    for (const agent of agents) agent.destroy();
    await harness.close();
  });

  function keepAlive(maxSockets = 1): Agent {
    const agent = new Agent({ keepAlive: true, maxSockets });
    agents.push(agent);
    return agent;
  }

  it('splits 1000 requests exactly by weight, interleaved', async () => {
    const url = await harness.listener('web');
    await harness.group('blue', [await harness.upstream('blue')]);
    await harness.group('green', [await harness.upstream('green')]);
    await harness.client.applyWeights('web', [
      { group: 'blue', weight: 90 },
      { group: 'green', weight: 10 },
    ]);

    const seen = await tally(url, 1000, { agent: keepAlive() });
    const firstTen = await tally(url, 10, { agent: keepAlive() });

    expect(seen).toEqual({ blue: 900, green: 100 });
    expect(firstTen).toEqual({ blue: 9, green: 1 });
  });

  it('round-robins inside a group and keeps connections alive on both sides', async () => {
    const url = await harness.listener('web');
    const a = await harness.upstream('a');
    const b = await harness.upstream('b');
    await harness.group('blue', [a, b]);
    await harness.client.applyWeights('web', [{ group: 'blue', weight: 100 }]);
    const agent = keepAlive();

    const replies = [];
    for (let i = 0; i < 20; i++) replies.push(await send(url, { agent }));

    expect(replies.map((reply) => reply.body).slice(0, 4)).toEqual(['a', 'b', 'a', 'b']);
    expect(replies.slice(1).every((reply) => reply.reused)).toBe(true);
    expect(replies.every((reply) => reply.headers.connection === 'keep-alive')).toBe(true);
    expect([a.connections, b.connections]).toEqual([1, 1]);
  });

  it('sets X-Forwarded-* and X-Request-Id and drops hop-by-hop headers both ways', async () => {
    const url = await harness.listener('web');
    const echo = await harness.upstream('echo', (req, res) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        'keep-alive': 'timeout=1',
        'x-internal': 'secret',
        connection: 'x-internal',
      });
      res.end(JSON.stringify(req.headers));
    });
    await harness.group('blue', [echo]);
    await harness.client.applyWeights('web', [{ group: 'blue', weight: 100 }]);
    const port = new URL(url).port;

    const generated = await send(url, {
      headers: {
        host: 'shop.example:8443',
        'x-forwarded-for': '203.0.113.9',
        'x-forwarded-proto': 'https',
        connection: 'x-remove-me',
        'x-remove-me': '1',
        'x-kept': 'yes',
      },
    });
    const given = await send(url, { headers: { 'x-request-id': 'req-42' } });

    const seen = JSON.parse(generated.body) as Record<string, string>;
    expect(seen).toMatchObject({
      host: 'shop.example:8443',
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'shop.example:8443',
      'x-forwarded-port': port,
      'x-kept': 'yes',
    });
    expect(seen['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen['x-remove-me']).toBeUndefined();
    expect(generated.headers['x-internal']).toBeUndefined();
    expect(generated.headers['keep-alive']).not.toBe('timeout=1');
    expect((JSON.parse(given.body) as Record<string, string>)['x-request-id']).toBe('req-42');
  });

  it('streams server-sent events without buffering them', async () => {
    const url = await harness.listener('web');
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const events = await harness.upstream('events', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('data: first\n\n');
      void released.then(() => res.end('data: last\n\n'));
    });
    await harness.group('blue', [events]);
    await harness.client.applyWeights('web', [{ group: 'blue', weight: 100 }]);

    const req = request(new URL('/events', url));
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    const [first] = (await once(res, 'data')) as [Buffer];
    const endedBeforeFirst = res.readableEnded;
    release();
    const rest: Buffer[] = [];
    res.on('data', (chunk: Buffer) => rest.push(chunk));
    await once(res, 'end');

    expect(res.headers['content-type']).toBe('text/event-stream');
    expect(first.toString()).toBe('data: first\n\n');
    expect(endedBeforeFirst).toBe(false);
    expect(Buffer.concat(rest).toString()).toBe('data: last\n\n');
  });

  it('passes a WebSocket upgrade through and pipes bytes both ways', async () => {
    const url = await harness.listener('web');
    const ws = await harness.upstream('ws');
    ws.server.on('upgrade', (req, socket) => {
      const key = String(req.headers['sec-websocket-key']);
      const accept = createHash('sha1')
        .update(key + WEBSOCKET_GUID)
        .digest('base64');
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
      );
      socket.on('data', (chunk: Buffer) =>
        socket.write(Buffer.concat([Buffer.from('echo:'), chunk])),
      );
    });
    await harness.group('blue', [ws]);
    await harness.client.applyWeights('web', [{ group: 'blue', weight: 100 }]);
    const key = Buffer.from('0123456789abcdef').toString('base64');

    const socket = connect(Number(new URL(url).port), '127.0.0.1');
    await once(socket, 'connect');
    socket.write(
      'GET /socket HTTP/1.1\r\nHost: shop.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    const head = await readUntil(socket, '\r\n\r\n');
    socket.write('hello');
    const echoed = await readUntil(socket, 'hello');
    socket.destroy();

    expect(head).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(head).toContain(
      `Sec-WebSocket-Accept: ${createHash('sha1')
        .update(key + WEBSOCKET_GUID)
        .digest('base64')}`,
    );
    expect(echoed).toBe('echo:hello');
  });

  it('retries a refused upgrade elsewhere and relays a target that does not upgrade', async () => {
    const url = await harness.listener('web');
    const dead = await harness.upstream('dead');
    const plain = await harness.upstream('plain');
    await harness.group('blue', [dead, plain]);
    await harness.client.applyWeights('web', [{ group: 'blue', weight: 100 }]);
    await dead.kill();

    const socket = await openUpgrade(url);
    const answer = await readUntil(socket, 'plain');
    await once(socket, 'close');

    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(answer).toContain('Connection: close');
    expect((await harness.client.health('blue'))[0]).toMatchObject({
      id: 'dead',
      state: 'unhealthy',
    });
  });

  it('closes upgraded connections when their target is drained', async () => {
    const url = await harness.listener('web');
    const ws = await harness.upstream('ws');
    ws.server.on('upgrade', (_req, socket) => {
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
      );
      socket.on('error', () => undefined);
    });
    await harness.group('blue', [ws]);
    await harness.client.applyWeights('web', [{ group: 'blue', weight: 100 }]);
    const socket = await openUpgrade(url);
    await readUntil(socket, '\r\n\r\n');

    const closed = once(socket, 'close');
    const drained = await harness.client.drain('blue', 'all', 30_000);
    await closed;

    expect(drained).toEqual({ drained: 1, abandoned: 1 });
  });

  it('fails no request when a target is killed between requests', async () => {
    const url = await harness.listener('web');
    const a = await harness.upstream('a');
    const b = await harness.upstream('b');
    await harness.group('blue', [a, b]);
    await harness.client.applyWeights('web', [{ group: 'blue', weight: 100 }]);
    const agent = keepAlive(4);
    const before = await tally(url, 10, { agent });

    const unhealthy = harness.targetsReach('blue', ['a'], 'unhealthy');
    await a.kill();
    const after = await tally(url, 50, { agent });
    await unhealthy;

    expect(before).toEqual({ a: 5, b: 5 });
    expect(after).toEqual({ b: 50 });
    expect((await harness.client.counters('blue')).retries).toBeGreaterThanOrEqual(1);
  });

  it('sends a POST refused by a dead target to another one, body intact', async () => {
    const url = await harness.listener('web');
    const lengthOf: UpstreamHandler = (req, res, self) => {
      const hash = createHash('sha256');
      req.on('data', (chunk: Buffer) => hash.update(chunk));
      req.on('end', () => res.end(`${self.name}:${hash.digest('hex')}`));
    };
    const a = await harness.upstream('a', lengthOf);
    const b = await harness.upstream('b', lengthOf);
    await harness.group('blue', [a, b]);
    await harness.client.applyWeights('web', [{ group: 'blue', weight: 100 }]);
    const body = Buffer.alloc(3 * 1024 * 1024, 'x');
    const digest = createHash('sha256').update(body).digest('hex');

    await a.kill();
    const reply = await send(url, { method: 'POST', body, path: '/orders' });

    expect(reply).toMatchObject({ status: 200, body: `b:${digest}` });
    expect(await harness.client.health('blue')).toMatchObject([
      { id: 'a', state: 'unhealthy', reason: 'connection refused (seen by live traffic)' },
      { id: 'b', state: 'healthy' },
    ]);
    expect(await harness.client.counters('blue')).toMatchObject({ retries: 1, upstreamErrors: 1 });
  });

  it('answers 502 when every target refuses, and 503 before any weights', async () => {
    const url = await harness.listener('web');
    const before = await send(url);
    const a = await harness.upstream('a');
    await harness.group('blue', [a]);
    await harness.client.applyWeights('web', [{ group: 'blue', weight: 100 }]);

    await a.kill();
    const after = await send(url);

    expect(before.status).toBe(503);
    expect(before.body).toBe('no target is available for listener web\n');
    expect(after.status).toBe(502);
    expect(after.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('passes the final answer on after informational ones (103 Early Hints)', async () => {
    const url = await harness.listener('web');
    const a = await harness.upstream('a', (_req, res) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      res.writeHead(201, { 'content-type': 'text/plain' });
      res.end('created');
    });
    await harness.group('blue', [a]);
    await harness.client.applyWeights('web', [{ group: 'blue', weight: 100 }]);

    const reply = await send(url, { path: '/things' });

    expect(reply.status).toBe(201);
    expect(reply.body).toBe('created');
  });

  it('answers 400 for a request it cannot forward as it is, and blames no target', async () => {
    const url = await harness.listener('web');
    const a = await harness.upstream('a');
    await harness.group('blue', [a]);
    await harness.client.applyWeights('web', [{ group: 'blue', weight: 100 }]);
    const socket = connect(Number(new URL(url).port), '127.0.0.1');
    await once(socket, 'connect');

    socket.write('GET / HTTP/1.1\r\nHost: one.example\r\nHost: two.example\r\n\r\n');
    const reply = await readUntil(socket, 'cannot be forwarded');
    socket.destroy();

    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(reply).toContain('the request cannot be forwarded: ');
    expect(a.served).toBe(0);
    expect(await harness.client.counters('blue')).toMatchObject({
      upstreamErrors: 0,
      retries: 0,
      status4xx: 1,
    });
  });

  it('fails no request while weights flip under 200 concurrent keep-alive requests', async () => {
    const url = await harness.listener('web');
    const blue = await harness.upstream('blue');
    const green = await harness.upstream('green');
    await harness.group('blue', [blue]);
    await harness.group('green', [green]);
    await harness.client.applyWeights('web', [{ group: 'blue', weight: 100 }]);
    const agent = keepAlive(200);
    let flipping = true;
    const failures: string[] = [];
    let answered = 0;

    const worker = async (): Promise<void> => {
      while (flipping) {
        try {
          const reply = await send(url, { agent });
          if (reply.status !== 200) failures.push(`status ${reply.status}`);
          answered++;
        } catch (error) {
          failures.push(String(error));
        }
      }
    };
    const workers = Array.from({ length: 200 }, () => worker());
    for (let flip = 0; flip < 50; flip++) {
      const toGreen = flip % 2 === 0;
      await harness.client.applyWeights('web', [
        { group: 'blue', weight: toGreen ? 0 : 100 },
        { group: 'green', weight: toGreen ? 100 : 0 },
      ]);
    }
    flipping = false;
    await Promise.all(workers);

    expect(failures).toEqual([]);
    expect(answered).toBeGreaterThan(200);
    expect(blue.served).toBeGreaterThan(0);
    expect(green.served).toBeGreaterThan(0);
  });
});

/** A raw connection to the router that has sent a WebSocket upgrade request. */
async function openUpgrade(url: string): Promise<Socket> {
  const socket = connect(Number(new URL(url).port), '127.0.0.1');
  await once(socket, 'connect');
  socket.write(
    'GET /socket HTTP/1.1\r\nHost: shop.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  return socket;
}

/** Reads from `socket` until the text read so far contains `marker`. */
async function readUntil(socket: Socket, marker: string): Promise<string> {
  let text = '';
  while (!text.includes(marker)) {
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    text += chunk.toString('utf8');
  }
  return text;
}
