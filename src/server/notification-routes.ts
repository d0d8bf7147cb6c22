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
    limit: z.coerce.number().int().min(1).max(1_000).default(100),
  })
  .strict();

/**
 * Notification deliveries, newest first, as the store keeps them (across restarts, the
 * newest 10,000): where each event went, how many attempts, and why the last one failed
 * (secrets masked). Delivery never blocks a pipeline, so this is where a failing channel
 * shows.
 */
export function registerNotificationRoutes(app: FastifyInstance, context: RouteContext): void {
  app.get('/api/notifications', { config: { access: 'viewer' } }, async (request) => {
    const query = parseInput(deliveriesQuery, request.query, 'query');
    const deliveries = context.deps.notifications?.deliveries(query) ?? [];
    return { deliveries };
  });
}
