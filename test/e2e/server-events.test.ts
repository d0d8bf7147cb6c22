import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { gatedBuildspec, PHOENIX_YML } from '../support/pipeline-fixture.js';
import { ServerFixture } from '../support/server-fixture.js';

interface Message {
  id?: string;
  event: string;
  data: unknown;
}

/** Reads Server-Sent Events from a fetch body, one message at a time. */
class EventReader {
  private buffer = '';
  private readonly decoder = new TextDecoder();
  readonly comments: string[] = [];

  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {}

  /** The next message, or undefined when the server closed the stream. */
  async next(): Promise<Message | undefined> {
    for (;;) {
      const block = await this.block();
      if (block === undefined) return undefined;
      const message = this.parse(block);
      if (message !== undefined) return message;
    }
  }

  /** Reads on until a comment line (a heartbeat) arrives; messages on the way are dropped. */
  async nextComment(): Promise<string> {
    const seen = this.comments.length;
    while (this.comments.length === seen) {
      const block = await this.block();
      if (block === undefined) throw new Error('stream ended before a comment');
      this.parse(block);
    }
    return this.comments[seen] ?? '';
  }

  private async block(): Promise<string | undefined> {
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end !== -1) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        return block;
      }
      const { done, value } = await this.reader.read();
      if (done) return undefined;
      this.buffer += this.decoder.decode(value, { stream: true });
    }
  }

  /** Messages until (and including) the first one `until` accepts. */
  async readUntil(until: (message: Message) => boolean): Promise<Message[]> {
    const messages: Message[] = [];
    for (;;) {
      const message = await this.next();
      if (message === undefined) throw new Error(`stream ended after ${messages.length} messages`);
      messages.push(message);
      if (until(message)) return messages;
    }
  }

  private parse(block: string): Message | undefined {
    let id: string | undefined;
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) this.comments.push(line);
      else if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length === 0) return undefined;
    return { ...(id === undefined ? {} : { id }), event, data: JSON.parse(data.join('\n')) };
  }
}

describe('GET /api/runs/:id/events', () => {
  let f: ServerFixture;
  let app: FastifyInstance;
  let base: string;
  let viewer: string;
  let gate: string;

  async function open(runId: string, headers: Record<string, string> = {}, signal?: AbortSignal) {
    const response = await fetch(`${base}/api/runs/${runId}/events`, {
      headers: { authorization: `Bearer ${viewer}`, ...headers },
      ...(signal === undefined ? {} : { signal }),
    });
    if (response.body === null) throw new Error('no body');
    return { response, events: new EventReader(response.body.getReader()) };
  }

  async function startGatedRun(): Promise<string> {
    const commit = await f.init({
      'phoenix.yml': PHOENIX_YML(),
      'buildspec.yml': gatedBuildspec(gate),
    });
    const waiting = f.next((event) => event.type === 'log' && event.line.text === 'waiting');
    const run = await f.submit(commit);
    await waiting;
    return run.id;
  }

  beforeEach(async () => {
    f = new ServerFixture();
    gate = join(f.dir.path, 'gate');
    viewer = f.token('viewer', 'watcher');
    ({ app, base } = await f.listen({ heartbeatMs: 20 }));
  });

  afterEach(async () => {
    writeFileSync(gate, '');
    await f.close();
  });

  it('replays the stored events, then streams live status and log lines until the end', async () => {
    const runId = await startGatedRun();

    const { response, events } = await open(runId);
    const replayed = await events.readUntil((m) => m.event === 'stage.started');
    writeFileSync(gate, '');
    const live = await events.readUntil((m) => m.event === 'end');
    const after = await events.next();

    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(replayed[0]).toMatchObject({ event: 'run', data: { id: runId, status: 'running' } });
    expect(replayed[0]?.id).toBeUndefined();
    expect(replayed.slice(1).map((m) => m.event)).toEqual([
      'run.created',
      'stage.status',
      'stage.status',
      'stage.status',
      'stage.started',
    ]);
    const ids = replayed.slice(1).map((m) => Number(m.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(live).toContainEqual({
      event: 'log',
      data: { index: 1, time: expect.any(Number), stream: 'stdout', text: 'built' },
    });
    expect(live.filter((m) => m.event === 'run.finished')).toHaveLength(1);
    expect(live.find((m) => m.event === 'run.status')?.data).toEqual({ status: 'succeeded' });
    expect(live.at(-1)).toEqual({ event: 'end', data: { status: 'succeeded' } });
    expect(after).toBeUndefined();
  });

  it('resumes after Last-Event-ID and ends at once for a finished run', async () => {
    const runId = await startGatedRun();
    writeFileSync(gate, '');
    await f.orchestrator.whenFinished(runId);
    const stored = f.store.events.listSince(runId, 0, 100);
    const cut = stored[2]?.id ?? 0;

    const { events } = await open(runId, { 'last-event-id': String(cut) });
    const messages = await events.readUntil((m) => m.event === 'end');

    expect(messages.filter((m) => m.id !== undefined).map((m) => Number(m.id))).toEqual(
      stored.slice(3).map((event) => event.id),
    );
    expect(await events.next()).toBeUndefined();
  });

  it('sends heartbeats and lets go of the bus when the client leaves', async () => {
    const runId = await startGatedRun();
    const listeners = f.bus.size;
    const controller = new AbortController();

    const { events } = await open(runId, {}, controller.signal);
    await events.readUntil((m) => m.event === 'stage.started');
    const heartbeat = await events.nextComment();
    expect(f.bus.size).toBe(listeners + 1);
    controller.abort();

    expect(heartbeat).toBe(': ping');
    await vi.waitFor(() => expect(f.bus.size).toBe(listeners));
    // fetch opens a spare connection after an abort and holds it for its keep-alive time.
    app.server.closeAllConnections();
  });

  it('ends open streams when the server closes', async () => {
    const runId = await startGatedRun();
    const { events } = await open(runId);
    await events.readUntil((m) => m.event === 'stage.started');

    await app.close();

    expect(await events.next()).toBeUndefined();
  });

  it('404s the events of an unknown run before streaming', async () => {
    const response = await fetch(`${base}/api/runs/r_000000000000/events`, {
      headers: { authorization: `Bearer ${viewer}` },
    });

    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
  });
});
