import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseInput } from './request-input.js';
import type { RouteContext } from './route-context.js';

const auditQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(1_000).default(100),
    before: z.coerce.number().int().min(1).optional(),
    actor: z.string().min(1).max(100).optional(),
  })
  .strict();

/** The audit log, newest first (`phoenix audit`): admins only. */
export function registerAuditRoutes(app: FastifyInstance, context: RouteContext): void {
  app.get('/api/audit', { config: { access: 'admin' } }, async (request) => {
    const query = parseInput(auditQuery, request.query, 'query');
    return {
      entries: context.deps.store.audit.list({
        limit: query.limit,
        ...(query.before === undefined ? {} : { before: query.before }),
        ...(query.actor === undefined ? {} : { actor: query.actor }),
      }),
    };
  });
}
