import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ClientResponse } from './client-response.js';
import { parseFastRequest, type FastRequestHead } from './fast-request.js';

const HEAD_END = Buffer.from('\r\n\r\n');
/** A head and body up to this size leave in one write (one syscall, one TCP segment). */
const COALESCE_LIMIT_BYTES = 64 * 1024;

/** What a fast connection asks of the listener that accepted it. */
export interface FastConnectionHandlers {
  /** Serves one request; answers what to tell when the client goes away mid-request. */
  request(head: FastRequestHead, response: FastClientResponse, socket: Socket): InFlightRequest;
  /** The request finished (answered, or the client went away during it). */
  requestDone(): void;
  /** Gives the connection, with the bytes read and not used, to Node's HTTP server. */
  handOver(socket: Socket, unread: Buffer | undefined): void;
}

export interface InFlightRequest {
  clientClosed(): void;
}

/**
 * A client connection on the router's fast path: it reads request heads itself (only plain,
 * body-less HTTP/1.1 ones: see fast-request.ts) and writes the answers on the socket, one
 * request at a time, keeping the connection alive between them. The first request it does
 * not take as plain (a body, an upgrade, a head split across reads...) and everything after
 * it go to Node's HTTP server, which gets the connection with the unread bytes. That costs
 * nothing but speed, and keeps every hard case on Node's validated code.
 */
export class FastConnection {
  private unread: Buffer | undefined;
  private current: InFlightRequest | undefined;
  private parsing = false;
  private again = false;
  private closing = false;
  private handedOver = false;

  constructor(
    readonly socket: Socket,
    private readonly handlers: FastConnectionHandlers,
    private readonly idleTimeoutMs: number,
  ) {
    socket.setNoDelay(true);
    socket.setTimeout(idleTimeoutMs);
    socket.on('data', this.onData);
    socket.on('timeout', this.onTimeout);
    socket.on('close', this.onClose);
    socket.on('error', this.onError);
  }

  /** Whether a request is being served now. */
  get busy(): boolean {
    return this.current !== undefined;
  }

  /** Closes the connection once idle: at once when it is, or after the current answer. */
  closeWhenIdle(): void {
    this.closing = true;
    if (!this.busy && !this.handedOver) this.socket.destroy();
  }

  private readonly onData = (chunk: Buffer): void => {
    this.unread = this.unread === undefined ? chunk : Buffer.concat([this.unread, chunk]);
    if (this.busy) {
      // Pipelined requests wait their turn; a client that floods them waits too.
      if (this.unread.length > COALESCE_LIMIT_BYTES) this.socket.pause();
      return;
    }
    this.next();
  };

  private readonly onTimeout = (): void => {
    if (!this.busy) this.socket.destroy();
  };

  private readonly onClose = (): void => {
    const current = this.current;
    if (current === undefined) return;
    this.current = undefined;
    current.clientClosed();
    this.handlers.requestDone();
  };

  private readonly onError = (): void => {
    this.socket.destroy();
  };

  /** Serves the requests read so far, one at a time (a loop, not recursion, for pipelining). */
  private next(): void {
    if (this.parsing) {
      this.again = true;
      return;
    }
    this.parsing = true;
    do {
      this.again = false;
      this.serveOne();
    } while (this.again && !this.busy && !this.handedOver);
    this.parsing = false;
  }

  private serveOne(): void {
    const unread = this.unread;
    if (unread === undefined || this.closing || this.socket.destroyed) return;
    const end = unread.indexOf(HEAD_END);
    const head = end < 0 ? undefined : parseFastRequest(unread.toString('latin1', 0, end));
    if (head === undefined) {
      this.handOver();
      return;
    }
    this.unread = end + 4 < unread.length ? unread.subarray(end + 4) : undefined;
    this.socket.setTimeout(0);
    const response = new FastClientResponse(this.socket, {
      head: head.method === 'HEAD',
      close: head.close,
      keepAliveSeconds: Math.floor(this.idleTimeoutMs / 1000),
      finished: () => this.finished(head.close),
    });
    // Busy before the request starts: an answer given at once (503 without targets) ends
    // it again inside `request`, through `finished`.
    const slot: { request?: InFlightRequest } = {};
    this.current = { clientClosed: () => slot.request?.clientClosed() };
    slot.request = this.handlers.request(head, response, this.socket);
  }

  /** The answer is written: the next request may be read (end() calls this once). */
  private finished(close: boolean): void {
    this.current = undefined;
    this.handlers.requestDone();
    if (close || this.closing) {
      this.closing = true;
      this.socket.end();
      return;
    }
    this.socket.setTimeout(this.idleTimeoutMs);
    if (this.socket.isPaused()) this.socket.resume();
    this.again = true;
    if (!this.parsing) this.next();
  }

  private handOver(): void {
    this.handedOver = true;
    const { socket } = this;
    socket.off('data', this.onData);
    socket.off('timeout', this.onTimeout);
    socket.off('close', this.onClose);
    socket.off('error', this.onError);
    socket.setTimeout(0);
    const unread = this.unread;
    this.unread = undefined;
    this.handlers.handOver(socket, unread);
  }
}

/**
 * An answer written straight to the client's socket. Framing follows the upstream's: its
 * Content-Length when it gave one, chunked otherwise (nothing for HEAD, 204 and 304). The
 * head waits for the first body bytes, so a small answer leaves in a single write.
 */
export class FastClientResponse implements ClientResponse {
  private head: string | undefined;
  private held: Buffer | undefined;
  private chunked = false;
  private started = false;
  private ended = false;

  constructor(
    private readonly socket: Socket,
    private readonly options: {
      head: boolean;
      close: boolean;
      keepAliveSeconds: number;
      finished: () => void;
    },
  ) {}

  get headersSent(): boolean {
    return this.started;
  }

  get done(): boolean {
    return this.ended || this.socket.destroyed;
  }

  writeHead(status: number, statusText: string | undefined, headers: readonly string[]): void {
    this.started = true;
    let head = `HTTP/1.1 ${status} ${statusText ?? STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    let sized = false;
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = headers[i] ?? '';
      if (name.length === 14 && name.toLowerCase() === 'content-length') sized = true;
      head += `${name}: ${headers[i + 1] ?? ''}\r\n`;
    }
    const bodiless = this.options.head || status === 204 || status === 304 || status < 200;
    this.chunked = !sized && !bodiless;
    if (this.chunked) head += 'Transfer-Encoding: chunked\r\n';
    // What Node's server says too: clients and tests read it.
    head += this.options.close
      ? 'Connection: close\r\n'
      : `Connection: keep-alive\r\nKeep-Alive: timeout=${this.options.keepAliveSeconds}\r\n`;
    this.head = `${head}\r\n`;
  }

  write(chunk: Buffer): boolean {
    if (chunk.length === 0 || this.done) return true;
    const framed = this.chunked ? frame(chunk) : chunk;
    if (this.head !== undefined && this.held === undefined) {
      this.held = framed;
      return true;
    }
    return this.send(framed);
  }

  onDrain(resume: () => void): void {
    this.socket.once('drain', resume);
  }

  flush(): void {
    this.send(undefined);
  }

  end(): void {
    if (this.done) return;
    this.ended = true;
    this.send(this.chunked ? Buffer.from('0\r\n\r\n') : undefined);
    this.options.finished();
  }

  destroy(): void {
    this.ended = true;
    this.socket.destroy();
  }

  /** Writes whatever waits (head, held body) and then `chunk`, in one write when small. */
  private send(chunk: Buffer | undefined): boolean {
    const parts: (string | Buffer)[] = [];
    if (this.head !== undefined) parts.push(this.head);
    if (this.held !== undefined) parts.push(this.held);
    if (chunk !== undefined) parts.push(chunk);
    this.head = undefined;
    this.held = undefined;
    if (parts.length === 0) return true;
    const size = parts.reduce((sum, part) => sum + part.length, 0);
    if (size <= COALESCE_LIMIT_BYTES) {
      let text = '';
      for (const part of parts) text += typeof part === 'string' ? part : part.toString('latin1');
      return this.socket.write(text, 'latin1');
    }
    this.socket.cork();
    let ok = true;
    for (const part of parts) {
      const written =
        typeof part === 'string' ? this.socket.write(part, 'latin1') : this.socket.write(part);
      ok = written && ok;
    }
    this.socket.uncork();
    return ok;
  }
}

function frame(chunk: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`${chunk.length.toString(16)}\r\n`),
    chunk,
    Buffer.from('\r\n'),
  ]);
}
