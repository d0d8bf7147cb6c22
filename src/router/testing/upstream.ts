import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';

/**
 * Test fixtures for the router (not shipped behavior): real HTTP servers on 127.0.0.1 with
 * port 0, which a test can stop abruptly to play a target that disappears.
 */
export type UpstreamHandler = (
  request: IncomingMessage,
  response: ServerResponse,
  upstream: Upstream,
) => void;

export interface Upstream {
  readonly name: string;
  readonly port: number;
  readonly server: Server;
  /** Requests served so far, health checks excluded. */
  readonly served: number;
  /** Health check answers: set it to make the target fail its checks. */
  healthStatus: number;
  /** Connections that carried proxied requests (keep-alive reuse shows as few). */
  readonly connections: number;
  /** Stops listening and destroys every open connection, as a crashed instance would. */
  kill(): Promise<void>;
}

export const HEALTH_PATH = '/health';

/** An upstream answering `name` (or running `handler`); `/health` answers `healthStatus`. */
export async function startUpstream(name: string, handler?: UpstreamHandler): Promise<Upstream> {
  const sockets = new Set<Socket>();
  let served = 0;
  const serving = new WeakSet<Socket>();
  let connections = 0;
  const server = createServer((request, response) => {
    if (request.url === HEALTH_PATH) {
      response.writeHead(upstream.healthStatus).end();
      return;
    }
    served++;
    if (!serving.has(request.socket)) {
      serving.add(request.socket);
      connections++;
    }
    if (handler !== undefined) {
      handler(request, response, upstream);
      return;
    }
    request.resume();
    request.on('end', () => response.writeHead(200, { 'x-upstream': name }).end(name));
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = portOf(server);
  const upstream: Upstream = {
    name,
    port,
    server,
    healthStatus: 200,
    get served() {
      return served;
    },
    get connections() {
      return connections;
    },
    kill: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
  return upstream;
}

/** A port nothing listens on right now: bound to port 0, then released. */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = portOf(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The port a listening server got. */
export function portOf(server: NetServer): number {
  const address = server.address();
  if (address === null || typeof address === 'string')
    throw new Error('the server is not listening on TCP');
  return address.port;
}
