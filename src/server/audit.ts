import type { FastifyInstance } from 'fastify';
import type { AuditRepository } from '../store/audit-repository.js';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Records every mutating request, whatever its outcome (a refusal is worth recording too):
 * who (the token's name and role, or `anonymous`), what (the route and its parameters, never
 * a body: secrets stay out), when, from where (the client's address), and the status it
 * ended with. One hook, so a new endpoint is audited without anyone remembering to.
 */
export function registerAuditLog(app: FastifyInstance, audit: AuditRepository): void {
  app.addHook('onResponse', async (request, reply) => {
    if (!MUTATING.has(request.method)) return;
    const route = request.routeOptions.url;
    if (route === undefined) return;
    const params = (request.params ?? {}) as Record<string, unknown>;
    const target: Record<string, string> = {};
    for (const [key, value] of Object.entries(params)) {
      if (typeof value === 'string') target[key] = value.slice(0, 200);
    }
    const principal = request.principal;
    audit.append({
      actor: principal?.name ?? 'anonymous',
      ...(principal === null ? {} : { role: principal.role }),
      action: `${request.method} ${route}`,
      target,
      status: reply.statusCode,
      ip: request.ip,
      requestId: request.id,
    });
  });
}
