import { randomUUID } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { downstreamResponseHeaders, upstreamRequest } from './forward-headers.js';
import type { ProxyContext } from './proxied-request.js';
import type { Target } from './target.js';

export interface UpgradeContext extends ProxyContext {
  /** The listener closes upgraded connections when it closes; it learns of them here. */
  trackUpgrade(socket: Duplex): void;
}

/**
 * A WebSocket (or any Upgrade) request: sent to a target on a connection of its own; once
 * the target answers 101 the two sockets are piped to each other, byte for byte, until
 * either side closes. A refused connection is retried on another target (nothing was
 * sent); a target that answers without upgrading has its answer relayed.
 */
export class ProxiedUpgrade {
  private readonly started = performance.now();
  private readonly headers: string[];
  private readonly tried = new Set<Target>();

  constructor(
    private readonly req: IncomingMessage,
    private readonly client: Duplex,
    private readonly head: Buffer,
    private readonly context: UpgradeContext,
  ) {
    const forwarded = upstreamRequest(req.rawHeaders, {
      remoteAddress: req.socket.remoteAddress,
      listenerPort: context.listenerPort,
      fallbackHost: () => `${req.socket.localAddress ?? 'localhost'}:${context.listenerPort}`,
      newRequestId: randomUUID,
      trustForwarded: context.trustForwardedHeaders,
      upgrade: true,
    });
    this.headers = forwarded.headers;
    // A body of unknown length stays framed: re-chunked, whatever the method (Node only
    // chunks POST-like methods by default, and an unframed body would smuggle a request).
    if (forwarded.body === 'chunked') this.headers.push('Transfer-Encoding', 'chunked');
    // Until the pipes are set up, a client error must not crash the router.
    client.on('error', () => client.destroy());
  }

  start(): void {
    const target = this.context.route().pick();
    if (target === undefined) {
      this.refuse(503, `no target is available for listener ${this.context.listener}`);
      return;
    }
    this.attempt(target);
  }

  private attempt(target: Target): void {
    this.tried.add(target);
    let connected = false;
    let answered = false;
    let upstreamSocket: Duplex | undefined;
    const upstream = httpRequest({
      host: target.spec.host,
      port: target.spec.port,
      method: this.req.method,
      path: this.req.url,
      headers: this.headers,
      agent: false,
    });
    const done = target.track(
      {
        abort: () => {
          upstream.destroy();
          upstreamSocket?.destroy();
          this.client.destroy();
        },
      },
      'upgrade',
    );
    this.client.once('close', () => {
      upstream.destroy();
      done();
    });
    upstream.on('socket', (socket: Socket) => {
      if (!socket.connecting) connected = true;
      else socket.once('connect', () => (connected = true));
    });
    upstream.on('upgrade', (response, socket, head) => {
      answered = true;
      upstreamSocket = socket;
      this.splice(response, socket, head, target);
    });
    upstream.on('response', (response) => {
      answered = true;
      this.relay(response, target);
    });
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      // Once answered, the sockets' own close and error handling take over.
      if (answered) return;
      done();
      this.failed(target, error, connected);
    });
    upstream.end();
  }

  private splice(response: IncomingMessage, upstream: Duplex, head: Buffer, target: Target): void {
    target.owner.counters.response(101, performance.now() - this.started);
    this.context.trackUpgrade(this.client);
    writeHead(this.client, 101, response.statusMessage, response.rawHeaders);
    if (head.length > 0) this.client.write(head);
    if (this.head.length > 0) upstream.write(this.head);
    const close = (): void => {
      this.client.destroy();
      upstream.destroy();
    };
    upstream.on('error', close);
    upstream.on('close', close);
    this.client.on('close', close);
    upstream.pipe(this.client);
    this.client.pipe(upstream);
  }

  /** The target answered without upgrading (401, 404, 426...): the client gets that answer. */
  private relay(response: IncomingMessage, target: Target): void {
    const status = response.statusCode ?? 502;
    target.owner.counters.response(status, performance.now() - this.started);
    const headers = downstreamResponseHeaders(response.rawHeaders);
    writeHead(this.client, status, response.statusMessage, [...headers, 'Connection', 'close']);
    response.on('error', () => this.client.destroy());
    response.pipe(this.client);
  }

  private failed(target: Target, error: NodeJS.ErrnoException, connected: boolean): void {
    target.owner.counters.upstreamError();
    if (error.code === 'ECONNREFUSED') target.owner.reportRefused(target);
    const next =
      connected || this.client.destroyed ? undefined : this.context.route().pick(this.tried);
    if (next !== undefined) {
      target.owner.counters.retry();
      this.attempt(next);
      return;
    }
    this.context.logger.warn(
      {
        listener: this.context.listener,
        group: target.owner.name,
        target: target.spec.id,
        err: error,
      },
      'upgrade failed upstream',
    );
    target.owner.counters.response(502, performance.now() - this.started);
    this.refuse(502, `the upstream failed: ${error.code ?? error.message}`);
  }

  private refuse(status: number, message: string): void {
    if (this.client.destroyed) return;
    const body = `${message}\n`;
    const reason = status === 503 ? 'Service Unavailable' : 'Bad Gateway';
    writeHead(this.client, status, reason, [
      'Content-Type',
      'text/plain; charset=utf-8',
      'Content-Length',
      String(Buffer.byteLength(body)),
      'Connection',
      'close',
    ]);
    this.client.end(body);
  }
}

function writeHead(
  socket: Duplex,
  status: number,
  message: string | undefined,
  rawHeaders: readonly string[],
): void {
  let head = `HTTP/1.1 ${status} ${message ?? ''}\r\n`;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    head += `${rawHeaders[i]}: ${rawHeaders[i + 1]}\r\n`;
  }
  socket.write(`${head}\r\n`);
}
