import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Clock, TimerHandle } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { NodeClientResponse, requestInfoOf } from './client-response.js';
import {
  FastConnection,
  type FastClientResponse,
  type InFlightRequest,
} from './fast-connection.js';
import type { FastRequestHead } from './fast-request.js';
import { ListenerRoute } from './listener-route.js';
import { ProxiedRequest, type ProxyContext } from './proxied-request.js';
import { DEFAULT_REPLAY_LIMIT_BYTES } from './request-body.js';
import { ListenerBindError } from './route-errors.js';
import { ProxiedUpgrade } from './upgrade-proxy.js';

/** How long an idle client keep-alive connection stays open (nginx: 75 s, ALB: 60 s). */
export const CLIENT_KEEP_ALIVE_TIMEOUT_MS = 60_000;
/** How long a client may take to send its request headers. */
export const CLIENT_HEADERS_TIMEOUT_MS = 60_000;
/** How long in-flight requests may take to finish when a listener closes. */
export const DEFAULT_CLOSE_GRACE_MS = 10_000;

export interface ProxyListenerOptions {
  name: string;
  port: number;
  host?: string;
  clock: Clock;
  logger: Logger;
  /** Trust X-Forwarded-* from clients (only behind a proxy that sets them). */
  trustForwardedHeaders?: boolean;
  replayLimitBytes?: number;
}

/**
 * One listener: an HTTP/1.1 server with keep-alive to clients, proxying every request and
 * upgrade along its current route. `route` is swapped whole by the data plane; a request
 * that has to retry picks from the route of that moment, not the one it arrived on.
 *
 * Connections start on the fast path (fast-connection.ts), which serves plain body-less
 * requests straight from the socket; the first request it does not take hands the
 * connection to Node's HTTP server (`server`, never listening itself) for good. Node's
 * server costs about a third of the router's time per request, which is why the plain
 * case, most of the traffic, skips it.
 */
export class ProxyListener {
  route: ListenerRoute = new ListenerRoute([]);
  private readonly listening: NetServer;
  private readonly server: Server;
  private readonly fast = new Set<FastConnection>();
  /**
   * Connections handed over to `server`, each with its requests in flight. Node's own
   * closeIdleConnections and closeAllConnections only know the connections of a server that
   * listens itself, which `server` never does: closing goes through this map instead.
   */
  private readonly handed = new Map<Socket, number>();
  /**
   * Node enforces `headersTimeout` only on connections of a server that listens itself, which
   * `server` never does: each handed-over connection waiting for a request head has its own
   * deadline here, so that a client trickling a head byte by byte (slowloris) is cut off.
   */
  private readonly headDeadlines = new Map<Socket, TimerHandle>();
  private readonly upgraded = new Set<Duplex>();
  private active = 0;
  private closing: (() => void) | undefined;
  private readonly proxyContext: ProxyContext;

  constructor(private readonly options: ProxyListenerOptions) {
    this.proxyContext = this.context();
    this.listening = createNetServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server = createServer({
      noDelay: true,
      // Uploads and streams may take as long as they take; idle clients are timed out below.
      requestTimeout: 0,
      headersTimeout: CLIENT_HEADERS_TIMEOUT_MS,
    });
    this.server.keepAliveTimeout = CLIENT_KEEP_ALIVE_TIMEOUT_MS;
    this.server.on('request', (req, res) => {
      this.active++;
      const socket = req.socket;
      this.headArrived(socket);
      const inFlight = this.handed.get(socket);
      if (inFlight !== undefined) this.handed.set(socket, inFlight + 1);
      const response = new NodeClientResponse(res);
      const request = new ProxiedRequest(requestInfoOf(req), response, this.proxyContext);
      res.once('close', () => {
        this.handedRequestDone(socket);
        this.requestDone();
        if (!res.writableFinished) request.clientClosed();
      });
      this.start(request, () => res.destroy());
    });
    this.server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
      this.headArrived(req.socket);
      new ProxiedUpgrade(req, socket, head, {
        ...this.context(),
        trackUpgrade: (client) => {
          this.upgraded.add(client);
          client.once('close', () => this.upgraded.delete(client));
        },
      }).start();
    });
    this.server.on('clientError', (_error, socket: Duplex) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
  }

  get name(): string {
    return this.options.name;
  }

  get port(): number {
    return this.options.port;
  }

  get host(): string | undefined {
    return this.options.host;
  }

  /** Binds the port; a clash is a ListenerBindError naming the listener and the port. */
  listen(): Promise<void> {
    const { name, port, host } = this.options;
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        reject(new ListenerBindError(name, port, host, { cause: error }));
      };
      this.listening.once('error', onError);
      this.listening.listen({ port, host }, () => {
        this.listening.off('error', onError);
        resolve();
      });
    });
  }

  /**
   * Stops accepting connections at once (the port is free for a successor), closes idle
   * keep-alive connections and upgraded ones, lets in-flight requests finish for up to
   * `graceMs`, then closes whatever is left.
   */
  close(graceMs = DEFAULT_CLOSE_GRACE_MS): Promise<void> {
    // Resolves once every connection it accepted (fast or handed over) has closed.
    const closed = new Promise<void>((resolve) => this.listening.close(() => resolve()));
    for (const socket of this.upgraded) socket.destroy();
    this.closing = () => this.closeAllConnections();
    for (const [socket, inFlight] of this.handed) if (inFlight === 0) socket.destroy();
    for (const connection of this.fast) connection.closeWhenIdle();
    if (this.active === 0 || graceMs <= 0) {
      this.closeAllConnections();
      return closed;
    }
    const { clock } = this.options;
    const timer = clock.setTimeout(() => this.closeAllConnections(), graceMs);
    return closed.finally(() => clock.clearTimeout(timer));
  }

  private closeAllConnections(): void {
    for (const socket of this.handed.keys()) socket.destroy();
    for (const connection of this.fast) connection.socket.destroy();
  }

  /**
   * Once closing, a handed-over connection closes when its last answer is out (flushed by
   * now); otherwise, with nothing in flight, it waits for its next request head, on a deadline.
   */
  private handedRequestDone(socket: Socket): void {
    const inFlight = this.handed.get(socket);
    if (inFlight === undefined) return;
    this.handed.set(socket, inFlight - 1);
    if (inFlight !== 1) return;
    if (this.closing !== undefined) socket.destroy();
    else this.awaitHead(socket);
  }

  /** The connection must bring a whole request head within CLIENT_HEADERS_TIMEOUT_MS. */
  private awaitHead(socket: Socket): void {
    if (socket.destroyed || this.headDeadlines.has(socket)) return;
    const { clock } = this.options;
    this.headDeadlines.set(
      socket,
      clock.setTimeout(() => {
        this.headDeadlines.delete(socket);
        socket.destroy();
      }, CLIENT_HEADERS_TIMEOUT_MS),
    );
  }

  private headArrived(socket: Socket): void {
    const deadline = this.headDeadlines.get(socket);
    if (deadline === undefined) return;
    this.headDeadlines.delete(socket);
    this.options.clock.clearTimeout(deadline);
  }

  private accept(socket: Socket): void {
    const connection = new FastConnection(
      socket,
      {
        request: (head, response, client) => this.serveFast(head, response, client),
        requestDone: () => this.requestDone(),
        handOver: (handed, unread) => {
          this.fast.delete(connection);
          this.handed.set(handed, 0);
          handed.once('close', () => {
            this.handed.delete(handed);
            this.headArrived(handed);
          });
          this.awaitHead(handed);
          if (unread !== undefined) handed.unshift(unread);
          this.server.emit('connection', handed);
        },
      },
      CLIENT_KEEP_ALIVE_TIMEOUT_MS,
    );
    this.fast.add(connection);
    socket.once('close', () => this.fast.delete(connection));
  }

  private serveFast(
    head: FastRequestHead,
    response: FastClientResponse,
    socket: Socket,
  ): InFlightRequest {
    this.active++;
    const request = new ProxiedRequest(
      {
        method: head.method,
        url: head.url,
        rawHeaders: head.rawHeaders,
        remoteAddress: socket.remoteAddress,
        localAddress: socket.localAddress,
        bodySource: undefined,
      },
      response,
      this.proxyContext,
    );
    this.start(request, () => socket.destroy());
    return request;
  }

  private start(request: ProxiedRequest, cutOff: () => void): void {
    try {
      request.start();
    } catch (error) {
      this.options.logger.error(
        { listener: this.options.name, err: error },
        'proxying a request failed',
      );
      cutOff();
    }
  }

  private requestDone(): void {
    this.active--;
    if (this.closing !== undefined && this.active === 0) this.closing();
  }

  private context(): ProxyContext {
    return {
      listener: this.options.name,
      listenerPort: this.options.port,
      route: () => this.route,
      trustForwardedHeaders: this.options.trustForwardedHeaders ?? false,
      replayLimitBytes: this.options.replayLimitBytes ?? DEFAULT_REPLAY_LIMIT_BYTES,
      logger: this.options.logger,
    };
  }
}
