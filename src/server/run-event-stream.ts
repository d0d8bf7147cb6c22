import type { ServerResponse } from 'node:http';
import { SseResponse } from './sse.js';
import { FINISHED_RUN_STATUSES, type Run } from '../pipeline/run.js';
import type { RunEvent as LiveEvent, RunEventBus } from '../pipeline/run-events.js';
import type { EventRepository } from '../store/event-repository.js';
import type { RunRepository } from '../store/run-repository.js';
import { runView } from './views.js';

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
  private droppedLines = 0;
  private readonly sse: SseResponse;

  constructor(private readonly o: RunEventStreamOptions) {
    this.lastEventId = o.afterEventId;
    this.sse = new SseResponse(o.response, o.heartbeatMs);
  }

  /** Writes the head and the replay, then follows; `onClose` runs once when it stops. */
  start(onClose: () => void): void {
    this.sse.open(onClose);
    this.sse.onStop(() => this.unsubscribe?.());
    this.unsubscribe = this.o.bus.subscribe((event) => this.onLive(event));
    const run = this.o.runs.get(this.o.runId);
    this.sse.send('run', runView(run));
    this.replay();
    if (FINISHED_RUN_STATUSES.includes(run.status)) {
      this.end(run);
      return;
    }
    this.sse.keepAlive();
  }

  /** Ends the stream without an `end` event (the server is shutting down). */
  close(): void {
    this.sse.close();
  }

  private onLive(event: LiveEvent): void {
    if (this.sse.closed) return;
    if (event.type === 'log') {
      if (event.runId === this.o.runId) this.sendLog(event.index, event.line);
      return;
    }
    if (event.run.id !== this.o.runId) return;
    this.replay();
    if (event.type !== 'run.status') return;
    this.sse.send('run.status', { status: event.status, reason: event.reason });
    if (FINISHED_RUN_STATUSES.includes(event.status)) this.end(event.run);
  }

  private sendLog(index: number, line: { time: number; stream: string; text: string }): void {
    if (this.sse.backlog > MAX_STREAM_BACKLOG_BYTES) {
      this.droppedLines++;
      return;
    }
    if (this.droppedLines > 0) {
      this.sse.send('log.dropped', { lines: this.droppedLines });
      this.droppedLines = 0;
    }
    this.sse.send('log', { index, time: line.time, stream: line.stream, text: line.text });
  }

  private replay(): void {
    for (;;) {
      const page = this.o.events.listSince(this.o.runId, this.lastEventId, REPLAY_PAGE);
      for (const event of page) {
        this.lastEventId = event.id;
        const name = EVENT_NAME.test(event.type) ? event.type : 'message';
        this.sse.send(name, event, event.id);
      }
      if (page.length < REPLAY_PAGE) return;
    }
  }

  private end(run: Run): void {
    this.sse.send('end', { status: run.status, reason: run.reason });
    this.close();
  }
}
