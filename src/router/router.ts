import { mkdir } from 'node:fs/promises';
import { systemClock, type Clock } from '../shared/clock.js';
import { ConflictError } from '../shared/errors.js';
import { createLogger, type Logger } from '../shared/logger.js';
import { createAdminApi } from './admin-api.js';
import { DataPlane } from './data-plane.js';
import type { HealthProbe } from './health-checker.js';
import type { RouterEventListener } from './router-events.js';
import { StateFile } from './state-file.js';

/** The admin API listens on loopback only unless told otherwise: it changes where traffic goes. */
export const DEFAULT_ADMIN_HOST = '127.0.0.1';
/** Where `phoenix router` serves its admin API unless told otherwise (`--admin-port`). */
export const DEFAULT_ADMIN_PORT = 8801;
/** Shortest admin token accepted: it guards the routing of production traffic. */
export const MIN_ADMIN_TOKEN_LENGTH = 16;

export interface RouterOptions {
  /** Where routes.json lives; created if missing. */
  stateDirectory: string;
  adminPort: number;
  adminHost?: string;
  adminToken: string;
  clock?: Clock;
  logger?: Logger;
  /** Trust clients' X-Forwarded-* (only when a proxy that sets them sits in front). */
  trustForwardedHeaders?: boolean;
  /** Replaces the HTTP health check (tests). */
  probe?: HealthProbe;
  /** Node's process metrics (CPU, memory, event loop lag) in /metrics; default true. */
  processMetrics?: boolean;
}

export interface RunningRouter {
  /** The admin API's base URL, e.g. http://127.0.0.1:7070. */
  adminUrl: string;
  /** Health changes and check results as they happen. */
  subscribe(listener: RouterEventListener): () => void;
  /** Stops the admin API and the listeners; in-flight requests get `graceMs` (default 10 s). */
  close(options?: { graceMs?: number }): Promise<void>;
}

/**
 * Starts the data plane: restores the routing table from `<stateDirectory>/routes.json`
 * and opens its listeners first (traffic flows again before anything else happens), then
 * opens the admin API. A listener port that cannot be bound fails the start, naming the
 * listener and the port.
 */
export async function startRouter(options: RouterOptions): Promise<RunningRouter> {
  checkToken(options.adminToken);
  const logger = options.logger ?? createLogger();
  const clock = options.clock ?? systemClock();
  await mkdir(options.stateDirectory, { recursive: true });
  const plane = new DataPlane({
    stateFile: StateFile.in(options.stateDirectory),
    clock,
    logger,
    ...(options.trustForwardedHeaders === undefined
      ? {}
      : { trustForwardedHeaders: options.trustForwardedHeaders }),
    ...(options.probe === undefined ? {} : { probe: options.probe }),
    processMetrics: options.processMetrics ?? true,
  });
  await plane.restore();
  const admin = createAdminApi({ dataPlane: plane, token: options.adminToken, logger });
  const host = options.adminHost ?? DEFAULT_ADMIN_HOST;
  try {
    await admin.listen({ port: options.adminPort, host });
  } catch (error) {
    await plane.close(0);
    throw new ConflictError(
      `the router admin API cannot listen on ${host} port ${options.adminPort}: ${describe(error)}`,
      { cause: error },
    );
  }
  const address = admin.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.adminPort;
  const adminUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ adminUrl }, 'router started');
  return {
    adminUrl,
    subscribe: (listener) => plane.subscribe(listener),
    async close(closeOptions = {}) {
      // The data plane first: a drain the admin API is waiting on ends with it.
      await plane.close(closeOptions.graceMs);
      await admin.close();
    },
  };
}

function checkToken(token: string): void {
  if (token.length >= MIN_ADMIN_TOKEN_LENGTH) return;
  throw new RangeError(
    `the router admin token must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters`,
  );
}

function describe(error: unknown): string {
  const code = error instanceof Error && 'code' in error ? String(error.code) : undefined;
  if (code === 'EADDRINUSE') return 'the port is in use by another process';
  return error instanceof Error ? error.message : String(error);
}
