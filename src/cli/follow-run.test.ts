import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient } from './api-client.js';
import { plainColors } from './api-command.js';
import type { RunView, StageView } from '../pipeline/run-view.js';
import { followRun } from './follow-run.js';
import { storedForm } from './log-catch-up.js';

const T0 = Date.parse('2030-01-02T03:04:05.000Z');

function stage(index: number, name: string, fields: Partial<StageView> = {}): StageView {
  return {
    index,
    name,
    kind: index === 0 ? 'source' : 'build',
    status: 'pending',
    attempt: 0,
    ...fields,
  };
}

function runView(fields: Partial<RunView> = {}): RunView {
  return {
    id: 'r_1',
    service: 'shop',
    number: 3,
    status: 'running',
    commit: 'a'.repeat(40),
    ref: 'refs/heads/main',
    trigger: { type: 'push', actor: 'alice' },
    createdAt: new Date(T0).toISOString(),
    stages: [stage(0, 'source'), stage(1, 'build')],
    url: '/api/runs/r_1',
    ...fields,
  };
}

const line = (offset: number, text: string) =>
  ({ time: T0 + offset, stream: 'stdout', text }) as const;

function sse(event: string, data: unknown, id?: number): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A stored event as the server replays it. */
function stored(id: number, type: string, data: Record<string, unknown>): string {
  return sse(type, { id, runId: 'r_1', time: new Date(T0 + id).toISOString(), type, data }, id);
}

interface Script {
  /** What each connection to /events gets; a connection without `end` breaks off. */
  connections: string[][];
  storedLog: string;
  /** Sent on the open event stream once the client has fetched the stored log. */
  afterLogFetched?: string;
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function serveRun(script: Script): Promise<{ url: string; seen: IncomingMessage[] }> {
  const seen: IncomingMessage[] = [];
  let connection = 0;
  let stream: ServerResponse | undefined;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    seen.push(request);
    if (request.url?.startsWith('/api/runs/r_1/logs')) {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end(script.storedLog);
      if (script.afterLogFetched !== undefined) stream?.end(script.afterLogFetched);
      return;
    }
    if (request.url === '/api/runs/r_1/events') {
      const parts = script.connections[connection++] ?? [];
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      stream = response;
      const last = parts.at(-1) ?? '';
      response.write(parts.join(''), () => {
        if (last.startsWith('event: end')) response.end();
        else if (script.afterLogFetched === undefined) request.socket.destroy();
      });
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

async function follow(url: string, run: RunView) {
  const lines: string[] = [];
  const result = await followRun({
    client: new ApiClient({ url, token: 't' }),
    run,
    write: (text) => lines.push(text),
    signal: new AbortController().signal,
    colors: plainColors(),
    wait: async () => undefined,
  });
  // Status lines of live events carry the time they were shown: drop it.
  return { result, lines: lines.map((text) => text.replace(/^\d\d:\d\d:\d\d\.\d{3} (?===>)/, '')) };
}

describe('followRun', () => {
  it('joins the stored log and the live lines without gaps or repeats', async () => {
    const running = runView({
      stages: [
        stage(0, 'source', { status: 'succeeded', attempt: 1 }),
        stage(1, 'build', { status: 'running', attempt: 1, logUrl: '/api/runs/r_1/logs?stage=1' }),
      ],
    });
    const { url } = await serveRun({
      storedLog:
        [line(1, 'one'), line(2, 'two'), line(3, 'three')].map(storedForm).join('\n') + '\n',
      connections: [
        [
          sse('run', running),
          stored(1, 'run.created', {}),
          stored(2, 'stage.status', { index: 0, status: 'running' }),
          stored(3, 'stage.status', { index: 0, status: 'succeeded' }),
          stored(4, 'stage.status', { index: 1, status: 'running' }),
          // Live: sent while the stored log was fetched, so also in it.
          sse('log', { index: 1, ...line(2, 'two') }),
          sse('log', { index: 1, ...line(3, 'three') }),
          sse('log', { index: 1, ...line(4, 'four') }),
          stored(5, 'stage.status', { index: 1, status: 'failed', reason: 'exit status 1' }),
          stored(6, 'run.finished', { status: 'failed', reason: 'build failed' }),
          sse('run.status', { status: 'failed', reason: 'build failed' }),
          sse('end', { status: 'failed', reason: 'build failed' }),
        ],
      ],
    });

    const { result, lines } = await follow(url, runView());

    expect(result).toEqual({ stopped: false, status: 'failed', reason: 'build failed' });
    expect(lines).toEqual([
      `==> shop #3 created for aaaaaaaaaaaa (main), push by alice`,
      '==> stage source running',
      '==> stage source succeeded',
      '==> stage build running',
      '03:04:05.001 one',
      '03:04:05.002 two',
      '03:04:05.003 three',
      '03:04:05.004 four',
      '==> stage build failed: exit status 1',
      '==> shop #3 failed: build failed',
    ]);
  });

  it('shows the log of a stage running quietly without waiting for a live event', async () => {
    const quiet = runView({
      stages: [
        stage(0, 'source', { status: 'succeeded', attempt: 1 }),
        stage(1, 'build', { status: 'running', attempt: 1, logUrl: '/api/runs/r_1/logs?stage=1' }),
      ],
    });
    const { url } = await serveRun({
      storedLog: `${storedForm(line(1, 'sleeping'))}\n`,
      connections: [
        [sse('run', quiet), stored(1, 'stage.status', { index: 1, status: 'running' })],
      ],
      afterLogFetched: sse('end', { status: 'cancelled' }),
    });

    const { result, lines } = await follow(url, quiet);

    expect(result.status).toBe('cancelled');
    expect(lines).toEqual(['==> stage build running', '03:04:05.001 sleeping']);
  }, 10_000);

  it("shows a finished run's log between its stage's start and end", async () => {
    const finished = runView({
      status: 'succeeded',
      stages: [
        stage(0, 'source', { status: 'succeeded', attempt: 1 }),
        stage(1, 'build', {
          status: 'succeeded',
          attempt: 2,
          logUrl: '/api/runs/r_1/logs?stage=1',
        }),
      ],
    });
    const { url, seen } = await serveRun({
      storedLog: `${storedForm(line(1, 'second attempt'))}\n`,
      connections: [
        [
          sse('run', finished),
          stored(1, 'stage.status', { index: 1, status: 'running' }),
          stored(2, 'stage.status', { index: 1, status: 'failed', reason: 'killed' }),
          stored(3, 'stage.status', { index: 1, status: 'running' }),
          stored(4, 'stage.status', { index: 1, status: 'succeeded' }),
          stored(5, 'run.finished', { status: 'succeeded' }),
          sse('end', { status: 'succeeded' }),
        ],
      ],
    });

    const { result, lines } = await follow(url, finished);

    expect(result.status).toBe('succeeded');
    expect(lines).toEqual([
      '==> stage build running',
      '==> stage build failed: killed',
      '==> stage build running',
      '03:04:05.001 second attempt',
      '==> stage build succeeded',
      '==> shop #3 succeeded',
    ]);
    expect(seen.filter((request) => request.url?.includes('/logs'))).toHaveLength(1);
  });

  it('reconnects from the last event id when the stream breaks off', async () => {
    const run = runView({ stages: [stage(0, 'source'), stage(1, 'build')] });
    const { url, seen } = await serveRun({
      storedLog: '',
      connections: [
        [sse('run', run), stored(1, 'stage.status', { index: 0, status: 'running' })],
        [
          sse('run', run),
          stored(2, 'stage.status', { index: 0, status: 'succeeded' }),
          sse('end', { status: 'succeeded' }),
        ],
      ],
    });

    const { result, lines } = await follow(url, run);

    expect(result.status).toBe('succeeded');
    expect(lines).toEqual([
      '==> stage source running',
      'connection to the server lost; reconnecting...',
      '==> stage source succeeded',
    ]);
    const streams = seen.filter((request) => request.url?.endsWith('/events'));
    expect(streams.map((request) => request.headers['last-event-id'])).toEqual([undefined, '1']);
  });
});
