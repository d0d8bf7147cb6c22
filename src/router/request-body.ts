import type { IncomingMessage } from 'node:http';
import type { Writable } from 'node:stream';

/** Largest request body kept in memory so that an idempotent request can be sent again. */
export const DEFAULT_REPLAY_LIMIT_BYTES = 1024 * 1024;

/**
 * A client's request body, streamed to one upstream attempt at a time and never buffered
 * whole. Nothing is read until an attempt asks for it (the proxy asks once the upstream
 * socket is connected), so a refused attempt leaves the body untouched for the next one.
 * When `replayLimit` is above 0 (idempotent methods) the bytes read are also kept, up to
 * that limit, so that an attempt cut off by a reset can be replayed; past the limit the
 * copy is dropped and the body can no longer be replayed.
 */
export class RequestBody {
  private kept: Buffer[] | undefined;
  private keptBytes = 0;
  private consumed = 0;
  private ended = false;
  private detachCurrent: (() => void) | undefined;

  constructor(
    private readonly source: IncomingMessage,
    private readonly replayLimit: number,
  ) {
    this.kept = replayLimit > 0 ? [] : undefined;
  }

  /** Whether a new attempt can send the whole body from its first byte. */
  get replayable(): boolean {
    return this.consumed === 0 || this.kept !== undefined;
  }

  get bytesRead(): number {
    return this.consumed;
  }

  /**
   * Streams the body into `sink`: first what earlier attempts read, then the rest as it
   * arrives, pausing the client while the sink is full. Detaches from any earlier sink.
   */
  sendTo(sink: Writable): void {
    this.detach();
    if (!this.replayable) throw new Error('the request body was partly sent and not kept');
    for (const chunk of this.kept ?? []) sink.write(chunk);
    if (this.ended) {
      sink.end();
      return;
    }
    const onData = (chunk: Buffer): void => {
      this.consumed += chunk.length;
      this.keep(chunk);
      if (!sink.write(chunk)) {
        this.source.pause();
        sink.once('drain', onDrain);
      }
    };
    const onDrain = (): void => {
      this.source.resume();
    };
    const onEnd = (): void => {
      this.ended = true;
      sink.end();
    };
    this.source.on('data', onData);
    this.source.once('end', onEnd);
    this.detachCurrent = () => {
      this.source.off('data', onData);
      this.source.off('end', onEnd);
      sink.off('drain', onDrain);
      this.source.pause();
    };
    this.source.resume();
  }

  /** Stops feeding the current sink; the client is paused until the next `sendTo`. */
  detach(): void {
    this.detachCurrent?.();
    this.detachCurrent = undefined;
  }

  private keep(chunk: Buffer): void {
    if (this.kept === undefined) return;
    this.keptBytes += chunk.length;
    if (this.keptBytes > this.replayLimit) {
      this.kept = undefined;
      return;
    }
    this.kept.push(chunk);
  }
}
