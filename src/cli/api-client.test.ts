import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient, ApiError, ServerUnreachableError } from './api-client.js';
import type { RunStreamEvent } from './api-types.js';
import { parseEventStream, type ServerSentEvent } from './event-stream.js';

type Handler = (request: IncomingMessage, body: string, response: ServerResponse) => void;

interface TestServer {
  url: string;
  requests: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[];
  close(): Promise<void>;
}

const servers: TestServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A real HTTP server on 127.0.0.1, port 0, answering with `handler`. */
async function serve(handler: Handler): Promise<TestServer> {
  const requests: TestServer['requests'] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      requests.push({
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body,
      });
      handler(request, body, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const test: TestServer = {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(test);
  return test;
}

function json(response: ServerResponse, status: number, value: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(value));
}

function problem(response: ServerResponse, status: number, value: unknown): void {
  response.writeHead(status, { 'content-type': 'application/problem+json; charset=utf-8' });
  response.end(JSON.stringify(value));
}

/** A stream that exercises the parser: BOM, comments, CRLF and CR, multi-line data, UTF-8. */
const STREAM = Buffer.from(
  [
    '\uFEFF: connected\n',
    '\n',
    'event: run\n',
    'data: {"id":"r_1","note":"héllo € 🚀"}\n',
    '\n',
    'id: 7\n',
    'event: stage.status\r\n',
    'data: {"data":{"index":1,\r\n',
    'data: "status":"running"}}\r\n',
    '\r\n',
    ': ping\n\n',
    'event: log\r',
    'data:{"index":1,"time":1,"stream":"stdout","text":"a:b"}\r',
    '\r',
    'event: ignored-without-data\n\n',
    'retry: 3000\n',
    'event: end\n',
    'data: {"status":"succeeded"}\n',
    '\n',
  ].join(''),
  'utf8',
);

const EXPECTED: ServerSentEvent[] = [
  { event: 'run', data: '{"id":"r_1","note":"héllo € 🚀"}' },
  { id: '7', event: 'stage.status', data: '{"data":{"index":1,\n"status":"running"}}' },
  { event: 'log', data: '{"index":1,"time":1,"stream":"stdout","text":"a:b"}' },
  { event: 'end', data: '{"status":"succeeded"}', retry: 3000 },
];

async function* chunksOf(buffer: Buffer, cuts: readonly number[]): AsyncGenerator<Uint8Array> {
  let start = 0;
  for (const cut of [...cuts, buffer.length]) {
    yield buffer.subarray(start, cut);
    start = cut;
  }
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

describe('parseEventStream', () => {
  it('parses the same events however the bytes are split in two', async () => {
    for (let cut = 0; cut <= STREAM.length; cut++) {
      const events = await collect(parseEventStream(chunksOf(STREAM, [cut])));

      expect(events, `split at byte ${cut}`).toEqual(EXPECTED);
    }
  });

  it('parses the same events from one byte at a time', async () => {
    const cuts = Array.from({ length: STREAM.length - 1 }, (_, index) => index + 1);

    const events = await collect(parseEventStream(chunksOf(STREAM, cuts)));

    expect(events).toEqual(EXPECTED);
  });

  it('drops an event the stream ended before dispatching', async () => {
    const text = Buffer.from('event: a\ndata: 1\n\nevent: b\ndata: 2\n');

    const events = await collect(parseEventStream(chunksOf(text, [])));

    expect(events).toEqual([{ event: 'a', data: '1' }]);
  });
});

describe('ApiClient', () => {
  it('sends the bearer token and reads JSON', async () => {
    const server = await serve((request, _body, response) =>
      request.headers.authorization === 'Bearer phx_good'
        ? json(response, 200, { id: 'tok_1', name: 'alice', role: 'developer' })
        : problem(response, 401, { title: 'Unauthorized', status: 401, detail: 'no token' }),
    );
    const client = new ApiClient({ url: `${server.url}/`, token: 'phx_good' });

    const me = await client.me();

    expect(me).toEqual({ id: 'tok_1', name: 'alice', role: 'developer' });
    expect(server.requests[0]).toMatchObject({ method: 'GET', url: '/api/me' });
    expect(server.requests[0]?.headers.accept).toBe('application/json');
  });

  it('turns problem+json into an ApiError with its field errors', async () => {
    const server = await serve((_request, _body, response) =>
      problem(response, 400, {
        type: 'urn:phoenix:problem:validation',
        title: 'Invalid request',
        status: 400,
        detail: 'body.repository.url: is required',
        errors: [
          { location: 'body', field: 'repository.url', message: 'is required' },
          { location: 'phoenix.yml:3:5', field: 'build.timeout', message: 'is not a duration' },
        ],
      }),
    );
    const client = new ApiClient({ url: server.url, token: 't' });

    const error = await client
      .createService({ name: 'shop', repository: { url: '' } })
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      status: 400,
      title: 'Invalid request',
      detail: 'body.repository.url: is required',
      message: 'Invalid request: body.repository.url: is required',
      errors: [
        { location: 'body', field: 'repository.url', message: 'is required' },
        { location: 'phoenix.yml:3:5', field: 'build.timeout', message: 'is not a duration' },
      ],
    });
    expect(server.requests[0]?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(server.requests[0]?.body ?? '')).toEqual({
      name: 'shop',
      repository: { url: '' },
    });
  });

  it('turns an error that is not problem+json into an ApiError from the status', async () => {
    const server = await serve((_request, _body, response) => {
      response.writeHead(502, 'Bad Gateway', { 'content-type': 'text/html' });
      response.end('<h1>proxy says no</h1>');
    });
    const client = new ApiClient({ url: server.url, token: 't' });

    const error = await client.listServices().catch((caught: unknown) => caught);

    expect(error).toMatchObject({
      status: 502,
      title: 'Bad Gateway',
      detail: '<h1>proxy says no</h1>',
      errors: [],
    });
  });

  it('encodes path segments and builds run queries', async () => {
    const server = await serve((request, _body, response) =>
      json(response, 200, request.url?.startsWith('/api/runs?') ? { runs: [] } : { run: {} }),
    );
    const client = new ApiClient({ url: server.url, token: 't' });

    await client.getRun('shop#12');
    await client.listRuns({ service: 'shop', status: 'failed,cancelled', limit: 5 });
    await client.listRuns();
    await client.cancelRun('r_abc');

    expect(server.requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      'GET /api/runs/shop%2312',
      'GET /api/runs?service=shop&status=failed%2Ccancelled&limit=5',
      'GET /api/runs',
      'POST /api/runs/r_abc/cancel',
    ]);
  });

  it('deploys, reads status and one deployment at the deployment routes', async () => {
    const server = await serve((_request, _body, response) => json(response, 200, {}));
    const client = new ApiClient({ url: server.url, token: 't' });

    await client.deploy('my shop', { environment: 'dev', release: 'shop#3' });
    await client.serviceStatus('shop', { environment: 'dev' });
    await client.serviceStatus('shop');
    await client.getDeployment('dep_1');

    expect(server.requests.map((r) => `${r.method} ${r.url} ${r.body}`)).toEqual([
      'POST /api/services/my%20shop/deployments {"environment":"dev","release":"shop#3"}',
      'GET /api/services/shop/status?environment=dev ',
      'GET /api/services/shop/status ',
      'GET /api/deployments/dep_1 ',
    ]);
  });

  it('reads logs as text', async () => {
    const server = await serve((_request, _body, response) => {
      response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      response.end('2024-01-01T00:00:00.000Z hello\n');
    });
    const client = new ApiClient({ url: server.url, token: 't' });

    const text = await client.logs('r_1', { stage: 1 });

    expect(text).toBe('2024-01-01T00:00:00.000Z hello\n');
    expect(server.requests[0]?.url).toBe('/api/runs/r_1/logs?stage=1');
  });

  it('names the URL and the server command when nothing listens', async () => {
    const server = await serve(() => undefined);
    const url = server.url;
    await server.close();
    servers.length = 0;
    const client = new ApiClient({ url, token: 't' });

    const error = await client.me().catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ServerUnreachableError);
    expect((error as Error).message).toBe(
      `cannot reach the Phoenix server at ${url} (ECONNREFUSED): is \`phoenix server\` running?`,
    );
  });

  it('gives up on a server that does not answer', async () => {
    const server = await serve(() => undefined);
    const client = new ApiClient({ url: server.url, token: 't', requestTimeoutMs: 50 });

    const error = await client.me().catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ServerUnreachableError);
    expect((error as Error).message).toContain('(no answer within 0.05s)');
  });
});

describe('ApiClient.events', () => {
  /** Writes the stream in pieces of 1 to 7 bytes, each flushed before the next. */
  async function writeAwkwardly(response: ServerResponse, bytes: Buffer): Promise<void> {
    let offset = 0;
    for (let piece = 0; offset < bytes.length; piece++) {
      const size = (piece % 7) + 1;
      const chunk = bytes.subarray(offset, offset + size);
      offset += size;
      await new Promise<void>((resolve) => response.write(chunk, () => setImmediate(resolve)));
    }
  }

  it('parses a stream split at awkward byte boundaries into events with JSON data', async () => {
    const server = await serve((_request, _body, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      void writeAwkwardly(response, STREAM).then(() => response.end());
    });
    const client = new ApiClient({ url: server.url, token: 't' });

    const events = await collect(client.events('r_1', { lastEventId: '6' }));

    expect(events).toEqual([
      { event: 'run', data: { id: 'r_1', note: 'héllo € 🚀' } },
      { id: '7', event: 'stage.status', data: { data: { index: 1, status: 'running' } } },
      { event: 'log', data: { index: 1, time: 1, stream: 'stdout', text: 'a:b' } },
      { event: 'end', data: { status: 'succeeded' } },
    ] satisfies RunStreamEvent[]);
    expect(server.requests[0]?.url).toBe('/api/runs/r_1/events');
    expect(server.requests[0]?.headers['last-event-id']).toBe('6');
    expect(server.requests[0]?.headers.accept).toBe('text/event-stream');
  });

  it('ends quietly when its signal aborts mid-stream', async () => {
    const server = await serve((_request, _body, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('event: run\ndata: {}\n\n');
    });
    const client = new ApiClient({ url: server.url, token: 't' });
    const controller = new AbortController();
    const seen: RunStreamEvent[] = [];

    for await (const event of client.events('r_1', { signal: controller.signal })) {
      seen.push(event);
      controller.abort();
    }

    expect(seen).toEqual([{ event: 'run', data: {} }]);
  });

  it('reports a stream that breaks off as the server being unreachable', async () => {
    const server = await serve((request, _body, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('event: run\ndata: {}\n\n', () => request.socket.destroy());
    });
    const client = new ApiClient({ url: server.url, token: 't' });
    const seen: RunStreamEvent[] = [];

    const error = await (async () => {
      for await (const event of client.events('r_1')) seen.push(event);
    })().catch((caught: unknown) => caught);

    expect(seen).toEqual([{ event: 'run', data: {} }]);
    expect(error).toBeInstanceOf(ServerUnreachableError);
  });

  it('turns a refused stream into an ApiError', async () => {
    const server = await serve((_request, _body, response) =>
      problem(response, 404, { title: 'Not Found', status: 404, detail: 'run r_9 not found' }),
    );
    const client = new ApiClient({ url: server.url, token: 't' });

    const error = await collect(client.events('r_9')).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ status: 404, message: 'Not Found: run r_9 not found' });
  });
});
