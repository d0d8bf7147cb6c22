import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { Agent, request, type IncomingMessage } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RouterHarness, send, tally } from '../../src/router/testing/router-harness.js';
import type { UpstreamHandler } from '../../src/router/testing/upstream.js';

/** Answers `name:<sha256 of the body>`; on a kept-alive connection it resets instead, once the body is in. */
function resetsReusedConnections(): UpstreamHandler {
  const used = new WeakSet<object>();
  return (req, res, self) => {
    const hash = createHash('sha256');
    req.on('data', (chunk: Buffer) => hash.update(chunk));
    req.on('end', () => {
      if (used.has(req.socket)) {
        req.socket.destroy();
        return;
      }
      used.add(req.socket);
      res.end(`${self.name}:${hash.digest('hex')}`);
    });
  };
}

const bodyHash: UpstreamHandler = (req, res, self) => {
  const hash = createHash('sha256');
  req.on('data', (chunk: Buffer) => hash.update(chunk));
  req.on('end', () => res.end(`${self.name}:${hash.digest('hex')}`));
};

function sha(body: string | Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

describe('router retries and streaming edge cases', () => {
  let harness: RouterHarness;

  beforeEach(async () => {
    harness = await RouterHarness.start();
  });

  afterEach(async () => {
    await harness.close();
  });

  /** Listener `web` on group `blue` with targets a (resets kept-alive connections) and b. */
  async function flakyAndSteady(): Promise<string> {
    const url = await harness.listener('web');
    await harness.group('blue', [
      await harness.upstream('a', resetsReusedConnections()),
      await harness.upstream('b', bodyHash),
    ]);
    await harness.client.applyWeights('web', [{ group: 'blue', weight: 100 }]);
    // a, b: each target now has one kept-alive connection from the router.
    await tally(url, 2);
    return url;
  }

  it('retries an idempotent request reset on a reused connection, replaying its body', async () => {
    const url = await flakyAndSteady();
    const body = 'x'.repeat(200_000);

    const reply = await send(url, { method: 'PUT', body, path: '/items/1' });

    expect(reply).toMatchObject({ status: 200, body: `b:${sha(body)}` });
    expect(await harness.client.counters('blue')).toMatchObject({ retries: 1, upstreamErrors: 1 });
    expect((await harness.client.health('blue'))[0]?.state).toBe('healthy');
  });

  it('does not retry a POST reset on a reused connection: it may have been acted on', async () => {
    const url = await flakyAndSteady();

    const reply = await send(url, { method: 'POST', body: 'order', path: '/orders' });

    expect(reply.status).toBe(502);
    expect(reply.body).toMatch(
      /^the upstream failed: (ECONNRESET|the target closed the connection)/,
    );
    expect(await harness.client.counters('blue')).toMatchObject({ retries: 0, status5xx: 1 });
  });

  it('does not retry an idempotent request whose body was too large to keep', async () => {
    const url = await flakyAndSteady();
    const body = Buffer.alloc(2 * 1024 * 1024, 'y');

    const reply = await send(url, { method: 'PUT', body, path: '/items/1' });

    expect(reply.status).toBe(502);
  });

  it('streams a chunked upload sent with Expect: 100-continue', async () => {
    const url = await harness.listener('web');
    await harness.group('blue', [await harness.upstream('a', bodyHash)]);
    await harness.client.applyWeights('web', [{ group: 'blue', weight: 100 }]);
    const parts = ['first part,', 'second part,', 'last part'];

    const req = request(new URL('/upload', url), {
      method: 'POST',
      headers: { expect: '100-continue', 'transfer-encoding': 'chunked' },
    });
    await once(req, 'continue');
    for (const part of parts) req.write(part);
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    let text = '';
    for await (const chunk of res) text += String(chunk);

    expect(res.statusCode).toBe(200);
    expect(text).toBe(`a:${sha(parts.join(''))}`);
  });

  it('retries a canary’s 5xx on the stable group when the listener asks for it', async () => {
    const url = await harness.listener('web');
    await harness.group('blue', [await harness.upstream('blue')]);
    await harness.group('green', [
      await harness.upstream('green', (req, res) => {
        req.resume();
        res.writeHead(500).end('canary broke');
      }),
    ]);
    await harness.client.applyWeights(
      'web',
      [
        { group: 'blue', weight: 50 },
        { group: 'green', weight: 50 },
      ],
      { serverErrorRetry: { from: 'green', to: 'blue' } },
    );

    const gets = await tally(url, 20);
    const posts = await tally(url, 4, { method: 'POST', body: 'x' });

    expect(gets).toEqual({ blue: 20 });
    expect(posts).toEqual({ blue: 2, 'status 500': 2 });
    expect(await harness.client.counters('green')).toMatchObject({ status5xx: 12, retries: 10 });
    expect(await harness.client.counters('blue')).toMatchObject({ status2xx: 22 });
  });

  it('still retries a canary’s 5xx whose answer comes after the canary was rolled back', async () => {
    const url = await harness.listener('web');
    let answer: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => {
      answer = resolve;
    });
    let respond: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (respond = resolve));
    await harness.group('blue', [await harness.upstream('blue')]);
    await harness.group('green', [
      await harness.upstream('green', (req, res) => {
        req.resume();
        answer();
        void released.then(() => res.writeHead(500).end('canary broke'));
      }),
    ]);
    await harness.client.applyWeights(
      'web',
      [
        { group: 'green', weight: 100 },
        { group: 'blue', weight: 0 },
      ],
      { serverErrorRetry: { from: 'green', to: 'blue' } },
    );

    const reply = send(url);
    await arrived;
    await harness.client.applyWeights('web', [{ group: 'blue', weight: 100 }]);
    respond();

    expect(await reply).toMatchObject({ status: 200, body: 'blue' });
  });

  it('retries a request caught by a weight swap on the group that has the weight now', async () => {
    const url = await harness.listener('web');
    await harness.group('blue', [await harness.upstream('blue', bodyHash)]);
    await harness.group('green', [
      await harness.upstream('green', (req) => {
        req.resume();
        // The weights move while this request is on green, which then fails it.
        void harness.client
          .applyWeights('web', [{ group: 'blue', weight: 100 }])
          .then(() => req.socket.destroy());
      }),
    ]);
    await harness.client.applyWeights('web', [{ group: 'green', weight: 100 }]);

    const reply = await send(url, { path: '/items/1' });

    expect(reply).toMatchObject({ status: 200, body: `blue:${sha('')}` });
    expect(await harness.client.counters('green')).toMatchObject({ retries: 1 });
  });

  it('frees the target when the client goes away mid-request', async () => {
    const url = await harness.listener('web');
    let arrived: () => void = () => undefined;
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    const hanging = await harness.upstream('a', (req) => {
      req.resume();
      arrived();
    });
    await harness.group('blue', [hanging]);
    await harness.client.applyWeights('web', [{ group: 'blue', weight: 100 }]);
    const agent = new Agent({ keepAlive: false });

    const req = request(new URL('/hang', url), { agent });
    req.on('error', () => undefined);
    req.end();
    await arrival;
    req.destroy();
    const drained = await harness.client.drain('blue', 'all', 30_000);

    expect(drained).toEqual({ drained: 1, abandoned: 0 });
    agent.destroy();
  });
});
