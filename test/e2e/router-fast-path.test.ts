import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RouterHarness } from '../../src/router/testing/router-harness.js';
import type { Upstream } from '../../src/router/testing/upstream.js';

// The router reads plain requests itself and hands a connection to Node's HTTP server at
// the first request it does not take as plain. These speak raw HTTP/1.1 on one connection
// to check both paths, and the hand-over between them, byte for byte.

let harness: RouterHarness;
let echo: Upstream;
let url: string;

beforeEach(async () => {
  harness = await RouterHarness.start();
  url = await harness.listener('web');
  echo = await harness.upstream('echo', (req, res) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      if (req.url === '/stream') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('part one;');
        res.end('part two');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain', 'x-host': req.headers.host ?? '' });
      res.end(`${req.method} ${req.url} ${body}`.trim());
    });
  });
  await harness.group('blue', [echo]);
  await harness.client.applyWeights('web', [{ group: 'blue', weight: 100 }]);
});

afterEach(async () => {
  await harness.close();
});

async function open(): Promise<Socket> {
  const socket = connect(Number(new URL(url).port), '127.0.0.1');
  await once(socket, 'connect');
  return socket;
}

/** Reads from `socket` until `count` complete responses (by Content-Length or chunked) came. */
async function responses(socket: Socket, count: number): Promise<RawResponse[]> {
  let text = '';
  const onData = (chunk: Buffer): void => {
    text += chunk.toString('latin1');
  };
  socket.on('data', onData);
  try {
    for (;;) {
      const parsed = parseResponses(text);
      if (parsed.length >= count) return parsed;
      await once(socket, 'data');
    }
  } finally {
    socket.off('data', onData);
  }
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function parseResponses(text: string): RawResponse[] {
  const out: RawResponse[] = [];
  let rest = text;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) return out;
    const [statusLine = '', ...lines] = rest.slice(0, end).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    let body = '';
    let after = rest.slice(end + 4);
    if (headers['transfer-encoding'] === 'chunked') {
      for (;;) {
        const lineEnd = after.indexOf('\r\n');
        if (lineEnd < 0) return out;
        const size = parseInt(after.slice(0, lineEnd), 16);
        if (after.length < lineEnd + 2 + size + 2) return out;
        body += after.slice(lineEnd + 2, lineEnd + 2 + size);
        after = after.slice(lineEnd + 2 + size + 2);
        if (size === 0) break;
      }
    } else {
      const length = Number(headers['content-length'] ?? '0');
      if (after.length < length) return out;
      body = after.slice(0, length);
      after = after.slice(length);
    }
    out.push({ status: Number(statusLine.split(' ')[1]), headers, body });
    rest = after;
  }
}

describe('the router’s fast path', () => {
  it('answers pipelined requests in order on one connection', async () => {
    const socket = await open();

    socket.write(
      'GET /one HTTP/1.1\r\nHost: a\r\n\r\n' +
        'HEAD /two HTTP/1.1\r\nHost: a\r\n\r\n' +
        'DELETE /three HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n',
    );
    const [one, two, three] = await responses(socket, 3);
    socket.destroy();

    expect(one).toMatchObject({ status: 200, body: 'GET /one' });
    expect(one?.headers['connection']).toBe('keep-alive');
    expect(two).toMatchObject({ status: 200, body: '' });
    expect(two?.headers['transfer-encoding']).toBeUndefined();
    expect(three).toMatchObject({ status: 200, body: 'DELETE /three' });
  });

  it('hands the connection to Node’s server at a request with a body, mid-connection', async () => {
    const socket = await open();

    socket.write('GET /first HTTP/1.1\r\nHost: a\r\n\r\n');
    const [first] = await responses(socket, 1);
    socket.write(
      'POST /orders HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello' +
        'GET /after HTTP/1.1\r\nHost: a\r\n\r\n',
    );
    const [post, after] = await responses(socket, 2);
    socket.destroy();

    expect(first?.body).toBe('GET /first');
    expect(post).toMatchObject({ status: 200, body: 'POST /orders hello' });
    expect(after).toMatchObject({ status: 200, body: 'GET /after' });
  });

  it('hands over a head split across writes and answers it whole', async () => {
    const socket = await open();

    socket.write('GET /split HTTP/1.1\r\nHo');
    await new Promise<void>((resolve) => socket.write('st: shop.example\r\n\r\n', () => resolve()));
    const [reply] = await responses(socket, 1);
    socket.destroy();

    expect(reply).toMatchObject({ status: 200, body: 'GET /split' });
    expect(reply?.headers['x-host']).toBe('shop.example');
  });

  it('leaves malformed requests to Node’s server, which refuses them', async () => {
    const socket = await open();

    socket.write('GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\nX-B: 2\r\n\r\n');
    const [reply] = await responses(socket, 1);
    socket.destroy();

    expect(reply?.status).toBe(400);
    expect(echo.served).toBe(0);
  });

  it('re-frames a response of unknown length as chunked', async () => {
    const socket = await open();

    socket.write('GET /stream HTTP/1.1\r\nHost: a\r\n\r\n');
    const [reply] = await responses(socket, 1);
    socket.destroy();

    expect(reply?.headers['transfer-encoding']).toBe('chunked');
    expect(reply?.body).toBe('part one;part two');
  });

  it('closes after the answer when the client asks', async () => {
    const socket = await open();
    const closed = once(socket, 'close');

    socket.write('GET /bye HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    const [reply] = await responses(socket, 1);
    await closed;

    expect(reply).toMatchObject({ status: 200, body: 'GET /bye' });
    expect(reply?.headers['connection']).toBe('close');
  });

  it('answers 503 itself while the listener has no weights, and keeps the connection', async () => {
    const empty = await harness.listener('empty');
    const socket = connect(Number(new URL(empty).port), '127.0.0.1');
    await once(socket, 'connect');

    socket.write('GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n');
    const replies = await responses(socket, 2);
    socket.destroy();

    expect(replies.map((reply) => reply.status)).toEqual([503, 503]);
    expect(replies[0]?.body).toBe('no target is available for listener empty\n');
  });
});
