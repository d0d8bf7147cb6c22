import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseInput } from './request-input.js';
import type { RouteContext } from './route-context.js';

const deliveriesQuery = z
  .object({
    service: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,62}$/, 'is a service name')
      .optional(),
    status: z.enum(['pending', 'delivered', 'failed']).optional(),
  })
  .strict();

/**
 * Notification deliveries since the server started, newest first: where each event went,
 * how many attempts, and why the last one failed (secrets masked). Delivery never blocks a
 * pipeline, so this is where a failing channel shows.
 */
export function registerNotificationRoutes(app: FastifyInstance, context: RouteContext): void {
  app.get('/api/notifications', { config: { access: 'viewer' } }, async (request) => {
    const query = parseInput(deliveriesQuery, request.query, 'query');
    const all = context.deps.notifications?.deliveries() ?? [];
    const deliveries = all
      .filter((d) => query.service === undefined || d.service === query.service)
      .filter((d) => query.status === undefined || d.status === query.status)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    return { deliveries };
  });
}
