import type { ServerResponse } from 'node:http';

export const DEFAULT_HEARTBEAT_MS = 15_000;

/**
 * One Server-Sent Events response: the head, named events with optional ids, heartbeat
 * comments while idle, and a single stop however it ends (the client leaving, or the server
 * closing it). The streams (RunEventStream, DeploymentEventStream) say what to send.
 */
export class SseResponse {
  private heartbeat: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly onStopHandlers: (() => void)[] = [];

  constructor(
    readonly response: ServerResponse,
    private readonly heartbeatMs: number,
  ) {}

  get closed(): boolean {
    return this.stopped;
  }

  /** Bytes written but not yet taken by the client. */
  get backlog(): number {
    return this.response.writableLength;
  }

  /** Writes the head; `onClose` runs once when the stream stops, whoever stops it. */
  open(onClose: () => void): void {
    const { response } = this;
    this.onStopHandlers.push(onClose);
    response.on('close', () => {
      this.stop();
      // A client that went away may leave its socket half-open; free it.
      if (!response.writableFinished) response.destroy();
    });
    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      // nginx buffers responses unless told not to; a live stream must not wait for a buffer.
      'X-Accel-Buffering': 'no',
    });
  }

  /** Sends a comment every heartbeat period, so that proxies keep an idle stream open. */
  keepAlive(): void {
    if (this.stopped || this.heartbeat !== undefined) return;
    this.heartbeat = setInterval(() => this.write(': ping\n\n'), this.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Runs `handler` once when the stream stops (before the `open` callback's turn ends). */
  onStop(handler: () => void): void {
    this.onStopHandlers.push(handler);
  }

  send(event: string, data: unknown, id?: number): void {
    const idLine = id === undefined ? '' : `id: ${id}\n`;
    // JSON.stringify escapes newlines, so the data is always one `data:` line.
    this.write(`${idLine}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** Ends the response; the client sees the stream end. */
  close(): void {
    if (this.stopped) return;
    this.stop();
    this.response.end();
  }

  private write(text: string): void {
    if (!this.stopped) this.response.write(text);
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    for (const handler of this.onStopHandlers.splice(0)) handler();
  }
}

/** `Last-Event-ID` (header, or `lastEventId` in the query for clients that cannot set headers). */
export function lastEventIdOf(value: string | undefined): number {
  if (value === undefined || !/^\d{1,15}$/.test(value.trim())) return 0;
  return Number(value.trim());
}
