import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** What to do with the n-th request (from 1): answer it, or never answer (`hang`). */
export type Reply = { status: number; body?: string } | 'hang';

/**
 * A real HTTP server on 127.0.0.1, port 0, that records what it receives. Tests wait on
 * `request(n)`, never on time; `close` ends hanging requests too.
 */
export class HttpReceiver {
  readonly requests: ReceivedRequest[] = [];
  private readonly waiters: { n: number; resolve: (request: ReceivedRequest) => void }[] = [];
  private readonly server: Server;
  private port = 0;

  private constructor(reply: (n: number, request: ReceivedRequest) => Reply) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const request: ReceivedRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks),
        };
        const answer = reply(this.requests.length + 1, request);
        if (answer !== 'hang') res.writeHead(answer.status).end(answer.body ?? '');
        this.received(request);
      });
    });
  }

  static async start(reply: (n: number, request: ReceivedRequest) => Reply): Promise<HttpReceiver> {
    const receiver = new HttpReceiver(reply);
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    receiver.port = (receiver.server.address() as AddressInfo).port;
    return receiver;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Resolves with the n-th request (from 1), at once if it has come already. */
  request(n: number): Promise<ReceivedRequest> {
    const done = this.requests[n - 1];
    if (done !== undefined) return Promise.resolve(done);
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) =>
      this.server.close((error) => (error === undefined ? resolve() : reject(error))),
    );
  }

  private received(request: ReceivedRequest): void {
    this.requests.push(request);
    for (const waiter of [...this.waiters]) {
      if (waiter.n !== this.requests.length) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(request);
    }
  }
}
