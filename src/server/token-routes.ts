import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ConflictError } from '../shared/errors.js';
import { principalOf } from './auth.js';
import { parseInput } from './request-input.js';
import type { RouteContext } from './route-context.js';
import { tokenView } from './views.js';

/** Token names become run actors and git's REMOTE_USER: plain, short, printable. */
const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$/;

const createBody = z
  .object({
    name: z
      .string()
      .regex(
        TOKEN_NAME,
        'is 1 to 64 letters, digits and . _ @ + -, starting with a letter or digit',
      ),
    role: z.enum(['admin', 'developer', 'viewer', 'approver']),
  })
  .strict();

const idParams = z.object({ id: z.string().min(1).max(100) });

export function registerTokenRoutes(app: FastifyInstance, { deps }: RouteContext): void {
  const { tokens } = deps.store;

  app.get('/api/me', { config: { access: 'viewer' } }, async (request) => {
    const principal = principalOf(request);
    return { id: principal.id, name: principal.name, role: principal.role };
  });

  app.post('/api/tokens', { config: { access: 'admin' } }, async (request, reply) => {
    const body = parseInput(createBody, request.body, 'body');
    const created = tokens.create(body);
    request.log.info({ tokenId: created.record.id, role: body.role }, 'token created');
    void reply.code(201);
    // The plaintext token is in this answer only: it is stored as a hash.
    return { ...tokenView(created.record), token: created.token };
  });

  app.get('/api/tokens', { config: { access: 'admin' } }, async () => ({
    tokens: tokens.list().map(tokenView),
  }));

  app.delete('/api/tokens/:id', { config: { access: 'admin' } }, async (request) => {
    const { id } = parseInput(idParams, request.params, 'path');
    const active = tokens.list().filter((token) => token.revokedAt === undefined);
    const target = active.find((token) => token.id === id);
    if (target?.role === 'admin' && active.filter((t) => t.role === 'admin').length === 1) {
      throw new ConflictError(
        `token ${target.name} is the last admin token: create another admin token before revoking it`,
      );
    }
    const revoked = tokens.revoke(id);
    request.log.info({ tokenId: id }, 'token revoked');
    return { token: tokenView(revoked) };
  });
}
