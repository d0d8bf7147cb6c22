import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * What a proxied request needs from the client's side of the exchange. Two kinds of
 * connection carry requests: the fast path (fast-connection.ts: plain body-less requests,
 * read and answered on the socket directly) and Node's HTTP server (everything else).
 */
export interface ClientRequestInfo {
  method: string;
  /** Origin-form target: path and query. */
  url: string;
  /** `[name, value, name, value...]` as the client sent them. */
  rawHeaders: string[];
  remoteAddress: string | undefined;
  localAddress: string | undefined;
  /** Where a request body comes from; undefined when the request cannot have one. */
  bodySource: IncomingMessage | undefined;
}

export interface ClientResponse {
  /** A status line is out, or about to go: a different answer is no longer possible. */
  readonly headersSent: boolean;
  /** Nothing more can be written: the response is complete or the connection is gone. */
  readonly done: boolean;
  writeHead(status: number, statusText: string | undefined, headers: readonly string[]): void;
  /** False when the client reads slower than the upstream answers: wait for `onDrain`. */
  write(chunk: Buffer): boolean;
  onDrain(resume: () => void): void;
  end(): void;
  /**
   * Sends what waits now: the head without body bytes yet (server-sent events, slow bodies),
   * or a first chunk held back to leave with the head. Called once the tick that brought
   * the head is over.
   */
  flush(): void;
  /** Cuts the response off: the client sees the connection close. */
  destroy(error?: Error): void;
}

export function requestInfoOf(req: IncomingMessage): ClientRequestInfo {
  return {
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    rawHeaders: req.rawHeaders,
    remoteAddress: req.socket.remoteAddress,
    localAddress: req.socket.localAddress,
    bodySource: req,
  };
}

/** A response through Node's HTTP server. */
export class NodeClientResponse implements ClientResponse {
  private wroteBody = false;

  constructor(private readonly res: ServerResponse) {}

  get headersSent(): boolean {
    return this.res.headersSent;
  }

  get done(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }

  writeHead(status: number, statusText: string | undefined, headers: readonly string[]): void {
    this.res.writeHead(status, statusText, headers as string[]);
  }

  write(chunk: Buffer): boolean {
    // The first write carries the head with it (Node's _send), so no flush is needed after.
    this.wroteBody = true;
    return this.res.write(chunk);
  }

  onDrain(resume: () => void): void {
    this.res.once('drain', resume);
  }

  end(): void {
    this.res.end();
  }

  flush(): void {
    if (!this.wroteBody) this.res.flushHeaders();
  }

  destroy(error?: Error): void {
    this.res.destroy(error);
  }
}
