import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Logger } from '../shared/logger.js';
import { AdminUnauthorizedError, registerProblemHandlers } from './admin-problem.js';
import type { DataPlane } from './data-plane.js';
import { RouteValidationError } from './route-errors.js';
import {
  healthCheckSchema,
  listenerSpecSchema,
  nameSchema,
  parseRoute,
  serverErrorRetrySchema,
  splitSchema,
  targetGroupSpecSchema,
} from './route-schemas.js';
import { findListener } from './router-state.js';
import { WINDOW_BUCKET_MS } from './rolling-window.js';

/** Largest admin request body: a target group of a thousand targets fits easily. */
export const DEFAULT_ADMIN_BODY_LIMIT_BYTES = 1024 * 1024;
/** Longest drain the admin API waits for. */
export const MAX_DRAIN_TIMEOUT_MS = 3_600_000;

export interface AdminApiOptions {
  dataPlane: DataPlane;
  /** The bearer token every call but GET /health must carry. */
  token: string;
  logger: Logger;
  bodyLimit?: number;
}

const nameParams = z.object({ name: nameSchema });

const listenerBody = listenerSpecSchema.extend({ name: nameSchema.optional() });

const targetGroupBody = z
  .object({
    name: nameSchema.optional(),
    targets: z.unknown(),
    healthCheck: healthCheckSchema,
  })
  .strict();

const weightsBody = z
  .object({ split: splitSchema, serverErrorRetry: serverErrorRetrySchema.optional() })
  .strict();

const drainBody = z
  .object({
    targets: z.union([z.literal('all'), z.array(z.string().min(1)).min(1).max(1000)]),
    timeoutMs: z.number().int().min(0).max(MAX_DRAIN_TIMEOUT_MS),
  })
  .strict();

const windowQuery = z.object({ since: z.coerce.number().int().min(0).optional() }).strict();

/**
 * The router's admin API, for the control plane (http-traffic-router.ts is its client):
 * idempotent PUTs of listeners, target groups and weights, drains, idempotent DELETEs, and
 * reads of state, health and counters. Meant for loopback; every call but GET /health needs
 * the token.
 */
export function createAdminApi(options: AdminApiOptions): FastifyInstance {
  const bodyLimit = options.bodyLimit ?? DEFAULT_ADMIN_BODY_LIMIT_BYTES;
  const logger: FastifyBaseLogger = options.logger;
  const app = Fastify({ loggerInstance: logger, bodyLimit });
  const plane = options.dataPlane;
  const expected = digest(options.token);

  registerProblemHandlers(app, bodyLimit);
  app.addHook('onRequest', async (request) => {
    if (request.method === 'GET' && request.routeOptions.url === '/health') return;
    const match = /^Bearer +(\S+) *$/i.exec(request.headers.authorization ?? '');
    if (match === null) {
      throw new AdminUnauthorizedError(
        'send the router admin token: Authorization: Bearer <token>',
      );
    }
    // Hashing first gives both sides one length, so the comparison takes constant time.
    if (!timingSafeEqual(digest(match[1] ?? ''), expected)) {
      throw new AdminUnauthorizedError('the router admin token is not valid');
    }
  });

  app.get('/health', async () => ({ status: 'ok' }));

  app.get('/state', async () => plane.snapshot());

  app.get('/metrics', async (_request, reply) =>
    reply.type(plane.metrics.contentType).send(await plane.metrics.render()),
  );

  app.put('/listeners/:name', async (request) => {
    const { name } = parseRoute(nameParams, request.params, '', 'path');
    const body = parseRoute(listenerBody, request.body);
    checkName(body.name, name);
    return plane.putListener({ ...body, name });
  });

  // 204 for a listener the router does not have too: it is gone either way. Answers once
  // the listener is closed (its requests in flight finished or cut off after the grace).
  app.delete('/listeners/:name', async (request, reply) => {
    const { name } = parseRoute(nameParams, request.params, '', 'path');
    await plane.removeListener(name);
    return reply.code(204).send();
  });

  app.put('/target-groups/:name', async (request) => {
    const { name } = parseRoute(nameParams, request.params, '', 'path');
    const body = parseRoute(targetGroupBody, request.body);
    checkName(body.name, name);
    const spec = parseRoute(targetGroupSpecSchema, { ...body, name });
    return plane.putTargetGroup(spec);
  });

  app.put('/listeners/:name/weights', async (request) => {
    const { name } = parseRoute(nameParams, request.params, '', 'path');
    const body = parseRoute(weightsBody, request.body);
    await plane.applyWeights(name, body.split, body.serverErrorRetry);
    return weightsView(plane, name);
  });

  app.get('/listeners/:name/weights', async (request) => {
    const { name } = parseRoute(nameParams, request.params, '', 'path');
    return weightsView(plane, name);
  });

  app.post('/target-groups/:name/drain', async (request) => {
    const { name } = parseRoute(nameParams, request.params, '', 'path');
    const body = parseRoute(drainBody, request.body);
    return plane.drain(name, body.targets, body.timeoutMs);
  });

  app.delete('/target-groups/:name', async (request, reply) => {
    const { name } = parseRoute(nameParams, request.params, '', 'path');
    await plane.removeTargetGroup(name);
    return reply.code(204).send();
  });

  app.get('/target-groups/:name/health', async (request) => {
    const { name } = parseRoute(nameParams, request.params, '', 'path');
    return { group: name, targets: plane.health(name) };
  });

  app.get('/target-groups/:name/counters', async (request) => {
    const { name } = parseRoute(nameParams, request.params, '', 'path');
    return { group: name, ...plane.counters(name) };
  });

  app.get('/target-groups/:name/window', async (request) => {
    const { name } = parseRoute(nameParams, request.params, '', 'path');
    const { since } = parseRoute(windowQuery, request.query, '', 'query');
    return { group: name, bucketMs: WINDOW_BUCKET_MS, buckets: plane.window(name, since) };
  });

  return app;
}

/** A listener's split as the router applies it now, with the 5xx retry when one is set. */
function weightsView(plane: DataPlane, name: string) {
  const { split, serverErrorRetry } = findListener(plane.snapshot(), name);
  return { listener: name, split, ...(serverErrorRetry === undefined ? {} : { serverErrorRetry }) };
}

/** A body may repeat the name in the path, but not contradict it. */
function checkName(bodyName: string | undefined, pathName: string): void {
  if (bodyName !== undefined && bodyName !== pathName) {
    throw new RouteValidationError([
      { field: 'name', message: `is ${bodyName}, but the path names ${pathName}` },
    ]);
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
