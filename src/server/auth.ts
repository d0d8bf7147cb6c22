import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TokenRecord, TokenRole, TokenRepository } from '../store/token-repository.js';
import { ForbiddenError, UnauthorizedError, type AuthChallenge } from './http-errors.js';

/** The roles a route can ask for. `approver` tokens count as viewers outside approvals. */
export type RequiredRole = 'viewer' | 'developer' | 'admin';

/**
 * Who may call a route: `public` (no token: health, signature-checked webhooks), a minimum
 * role, or a function of the request for routes whose requirement depends on it (git's
 * info/refs is a fetch or the start of a push).
 */
export type Access = 'public' | RequiredRole | ((request: FastifyRequest) => RequiredRole);

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Required on every route: a route that does not say who may call it is not registered. */
    access?: Access;
    /** How a 401 tells the client to authenticate; bearer unless said. */
    challenge?: AuthChallenge;
  }
  interface FastifyRequest {
    /** The caller's token, once authenticated; null on public routes. */
    principal: TokenRecord | null;
  }
}

const RANK: Record<TokenRole, number> = { viewer: 0, approver: 0, developer: 1, admin: 2 };

export function hasRole(role: TokenRole, required: RequiredRole): boolean {
  return RANK[role] >= RANK[required];
}

/**
 * The token in an Authorization header: `Bearer <token>`, or `Basic` with the token as the
 * password (git sends that; the user name is ignored). Undefined when absent or unreadable.
 */
export function tokenFromAuthorization(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^([A-Za-z]+) +(\S+) *$/.exec(header);
  if (match === null) return undefined;
  const [, scheme = '', value = ''] = match;
  if (scheme.toLowerCase() === 'bearer') return value;
  if (scheme.toLowerCase() !== 'basic') return undefined;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const password = colon === -1 ? '' : decoded.slice(colon + 1);
  return password === '' ? undefined : password;
}

/**
 * Authenticates every request before its body is read, by the route's `access` config, and
 * refuses to register a route that has none (fail closed). Unknown and revoked tokens get
 * the same answer, so a response never says whether a token ever existed.
 */
export function registerAccessControl(app: FastifyInstance, tokens: TokenRepository): void {
  app.decorateRequest('principal', null);
  app.addHook('onRoute', (route) => {
    if (route.config?.access === undefined) {
      throw new Error(`route ${String(route.method)} ${route.url} does not declare its access`);
    }
  });
  app.addHook('onRequest', async (request) => {
    const { access, challenge = 'bearer' } = request.routeOptions.config;
    // Undefined only for the not-found handler, which answers 404 to everyone.
    if (access === undefined || access === 'public') return;
    const required = typeof access === 'function' ? access(request) : access;
    const token = tokenFromAuthorization(request.headers.authorization);
    if (token === undefined) throw new UnauthorizedError(missingMessage(challenge), challenge);
    const record = tokens.verify(token);
    if (record === undefined) {
      throw new UnauthorizedError('the API token is not valid: unknown or revoked', challenge);
    }
    // Known before the role is checked: a refusal is audited with who was refused.
    request.principal = record;
    if (!hasRole(record.role, required)) {
      throw new ForbiddenError(
        `this needs the ${required} role; token ${record.name} has the ${record.role} role`,
      );
    }
  });
}

function missingMessage(challenge: AuthChallenge): string {
  return challenge === 'basic'
    ? 'git over HTTP needs an API token as the password (any user name)'
    : 'this endpoint needs an API token: send Authorization: Bearer <token>';
}

/** The authenticated caller; only for routes whose access is not public. */
export function principalOf(request: FastifyRequest): TokenRecord {
  const principal = request.principal;
  if (principal === null) throw new UnauthorizedError('not authenticated', 'bearer');
  return principal;
}
