import type { ServerResponse } from 'node:http';
import { FINISHED_RUN_STATUSES, type Run } from '../pipeline/run.js';
import type { RunEvent as LiveEvent, RunEventBus } from '../pipeline/run-events.js';
import type { EventRepository } from '../store/event-repository.js';
import type { RunRepository } from '../store/run-repository.js';
import { runView } from './views.js';

export const DEFAULT_HEARTBEAT_MS = 15_000;
/** Unsent output a slow client may hold up before live log lines are dropped for it. */
export const MAX_STREAM_BACKLOG_BYTES = 1024 * 1024;
const REPLAY_PAGE = 500;
/** Stored event types are dotted names; anything else is sent as a plain `message`. */
const EVENT_NAME = /^[a-z][a-z0-9._-]{0,63}$/;

export interface RunEventStreamOptions {
  runId: string;
  /** Stored events up to this id are not replayed (SSE `Last-Event-ID`). */
  afterEventId: number;
  runs: RunRepository;
  events: EventRepository;
  bus: RunEventBus;
  response: ServerResponse;
  heartbeatMs: number;
}

/**
 * One client following one run over Server-Sent Events:
 * - `run`: the run as it is when the stream opens (no id);
 * - the run's stored events (`run.created`, `stage.status`, `stage.started`, `run.finished`,
 *   ...), with `id:` = the event's id, replayed first and then as they are recorded — so a
 *   client reconnecting with `Last-Event-ID` misses none of them;
 * - `run.status` (no id) when the run changes status, `log` (no id) for each build log line
 *   — live only; the full log stays at /logs;
 * - `end` once the run is finished, then the stream closes.
 *
 * Subscribing and replaying happen in one synchronous step and the orchestrator records an
 * event before it emits it, so nothing falls between the replay and the live part.
 */
export class RunEventStream {
  private lastEventId: number;
  private unsubscribe: (() => void) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private droppedLines = 0;
  private closed = false;

  constructor(private readonly o: RunEventStreamOptions) {
    this.lastEventId = o.afterEventId;
  }

  /** Writes the head and the replay, then follows; `onClose` runs once when it stops. */
  start(onClose: () => void): void {
    const { response } = this.o;
    response.on('close', () => {
      this.stop();
      // A client that went away may leave its socket half-open; free it.
      if (!response.writableFinished) response.destroy();
      onClose();
    });
    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      // nginx buffers responses unless told not to; a live log must not wait for a buffer.
      'X-Accel-Buffering': 'no',
    });
    this.unsubscribe = this.o.bus.subscribe((event) => this.onLive(event));
    const run = this.o.runs.get(this.o.runId);
    this.send('run', runView(run));
    this.replay();
    if (FINISHED_RUN_STATUSES.includes(run.status)) {
      this.end(run);
      return;
    }
    this.heartbeat = setInterval(() => this.write(': ping\n\n'), this.o.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Ends the stream without an `end` event (the server is shutting down). */
  close(): void {
    if (this.closed) return;
    this.stop();
    this.o.response.end();
  }

  private onLive(event: LiveEvent): void {
    if (this.closed) return;
    if (event.type === 'log') {
      if (event.runId === this.o.runId) this.sendLog(event.index, event.line);
      return;
    }
    if (event.run.id !== this.o.runId) return;
    this.replay();
    if (event.type !== 'run.status') return;
    this.send('run.status', { status: event.status, reason: event.reason });
    if (FINISHED_RUN_STATUSES.includes(event.status)) this.end(event.run);
  }

  private sendLog(index: number, line: { time: number; stream: string; text: string }): void {
    if (this.o.response.writableLength > MAX_STREAM_BACKLOG_BYTES) {
      this.droppedLines++;
      return;
    }
    if (this.droppedLines > 0) {
      this.send('log.dropped', { lines: this.droppedLines });
      this.droppedLines = 0;
    }
    this.send('log', { index, time: line.time, stream: line.stream, text: line.text });
  }

  private replay(): void {
    for (;;) {
      const page = this.o.events.listSince(this.o.runId, this.lastEventId, REPLAY_PAGE);
      for (const event of page) {
        this.lastEventId = event.id;
        const name = EVENT_NAME.test(event.type) ? event.type : 'message';
        this.send(name, event, event.id);
      }
      if (page.length < REPLAY_PAGE) return;
    }
  }

  private end(run: Run): void {
    this.send('end', { status: run.status, reason: run.reason });
    this.close();
  }

  private send(event: string, data: unknown, id?: number): void {
    const idLine = id === undefined ? '' : `id: ${id}\n`;
    // JSON.stringify escapes newlines, so the data is always one `data:` line.
    this.write(`${idLine}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private write(text: string): void {
    if (!this.closed) this.o.response.write(text);
  }

  private stop(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
  }
}

/** `Last-Event-ID` (header, or `lastEventId` in the query for clients that cannot set headers). */
export function lastEventIdOf(value: string | undefined): number {
  if (value === undefined || !/^\d{1,15}$/.test(value.trim())) return 0;
  return Number(value.trim());
}
