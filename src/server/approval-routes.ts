import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ENVIRONMENT_NAME_PATTERN } from '../config/phoenix-schema.js';
import { ConflictError } from '../shared/errors.js';
import { principalOf } from './auth.js';
import { parseInput } from './request-input.js';
import type { RouteContext } from './route-context.js';
import type { ServerDeps } from './server-deps.js';
import { nameParams } from './service-routes.js';

const decisionBody = z
  .object({
    environment: z.string().regex(ENVIRONMENT_NAME_PATTERN, 'is an environment name such as prod'),
    comment: z.string().min(1).max(1_000, 'at most 1000 characters').optional(),
  })
  .strict();

const waitingQuery = z
  .object({
    service: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,62}$/, 'is a service name')
      .optional(),
  })
  .strict();

/**
 * Approval gates: what waits (`phoenix approvals`), and approving or rejecting the gate
 * before an environment (`phoenix approve`, `phoenix reject`). Any token may ask; who may
 * decide is the gate's own rule (its approvers, and no self-approval), checked before
 * anything is recorded: 403 names why.
 */
export function registerApprovalRoutes(app: FastifyInstance, context: RouteContext): void {
  app.get('/api/approvals', { config: { access: 'viewer' } }, async (request) => {
    const { service } = parseInput(waitingQuery, request.query, 'query');
    return { approvals: gatesOf(context.deps).waiting(service) };
  });

  for (const action of ['approve', 'reject'] as const) {
    app.post(`/api/services/:name/${action}`, { config: { access: 'viewer' } }, async (request) => {
      const { name } = parseInput(nameParams, request.params, 'path');
      const body = parseInput(decisionBody, request.body ?? {}, 'body');
      context.deps.store.services.get(name);
      const principal = principalOf(request);
      const decision = {
        service: name,
        environment: body.environment,
        approver: { name: principal.name, role: principal.role },
        ...(body.comment === undefined ? {} : { comment: body.comment }),
      };
      const gates = gatesOf(context.deps);
      const approval = action === 'approve' ? gates.approve(decision) : gates.reject(decision);
      return { approval };
    });
  }
}

function gatesOf(deps: ServerDeps): NonNullable<ServerDeps['approvals']> {
  if (deps.approvals === undefined) {
    throw new ConflictError('this Phoenix server runs no approval gates');
  }
  return deps.approvals;
}
