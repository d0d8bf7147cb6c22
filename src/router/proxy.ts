import { createServer, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
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
 */
export class ProxyListener {
  route: ListenerRoute = new ListenerRoute([]);
  private readonly server: Server;
  private readonly upgraded = new Set<Duplex>();
  private active = 0;
  private closing: (() => void) | undefined;
  private readonly proxyContext: ProxyContext;

  constructor(private readonly options: ProxyListenerOptions) {
    this.proxyContext = this.context();
    this.server = createServer({
      noDelay: true,
      // Uploads and streams may take as long as they take; idle clients are timed out below.
      requestTimeout: 0,
      headersTimeout: CLIENT_HEADERS_TIMEOUT_MS,
    });
    this.server.keepAliveTimeout = CLIENT_KEEP_ALIVE_TIMEOUT_MS;
    this.server.on('request', (req, res) => {
      this.active++;
      const request = new ProxiedRequest(req, res, this.proxyContext);
      res.once('close', () => {
        this.requestDone();
        if (!res.writableFinished) request.clientClosed();
      });
      try {
        request.start();
      } catch (error) {
        options.logger.error({ listener: options.name, err: error }, 'proxying a request failed');
        res.destroy();
      }
    });
    this.server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
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
      this.server.once('error', onError);
      this.server.listen({ port, host }, () => {
        this.server.off('error', onError);
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
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.upgraded) socket.destroy();
    this.closing = () => this.server.closeAllConnections();
    this.server.closeIdleConnections();
    if (this.active === 0 || graceMs <= 0) {
      this.server.closeAllConnections();
      return closed;
    }
    const { clock } = this.options;
    const timer = clock.setTimeout(() => this.server.closeAllConnections(), graceMs);
    return closed.finally(() => clock.clearTimeout(timer));
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
