import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ConflictError, NotFoundError } from '../shared/errors.js';
import {
  FASTIFY_CLIENT_ERRORS,
  noRouteProblem,
  replyWithProblem,
  type ProblemSpec,
} from '../shared/problem-details.js';
import { RouteValidationError } from './route-errors.js';

/**
 * The admin API's errors as RFC 9457 problem details, in the shape the control plane's own
 * API uses (shared/problem-details.ts). This file is the one place where the router's errors
 * become HTTP statuses.
 */

/** No bearer token, or the wrong one. */
export class AdminUnauthorizedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminUnauthorizedError';
  }
}

export function problemFor(error: unknown, bodyLimit: number): ProblemSpec {
  if (error instanceof RouteValidationError) {
    return {
      status: 400,
      slug: 'validation',
      title: 'Invalid request',
      detail: error.message,
      errors: error.issues.map((issue) => ({ location: error.location, ...issue })),
    };
  }
  if (error instanceof AdminUnauthorizedError)
    return { status: 401, slug: 'unauthorized', title: 'Unauthorized', detail: error.message };
  if (error instanceof NotFoundError)
    return { status: 404, slug: 'not-found', title: 'Not Found', detail: error.message };
  if (error instanceof ConflictError)
    return { status: 409, slug: 'conflict', title: 'Conflict', detail: error.message };
  const code = error instanceof Error && 'code' in error ? String(error.code) : '';
  const known = FASTIFY_CLIENT_ERRORS[code];
  if (known !== undefined) {
    const detail =
      code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? `the request body is larger than the limit of ${bodyLimit} bytes`
        : error instanceof Error
          ? error.message
          : code;
    return { ...known, detail };
  }
  return {
    status: 500,
    slug: 'internal',
    title: 'Internal Server Error',
    detail:
      'the router failed to handle this request; its log has the details under this requestId',
  };
}

function sendProblem(reply: FastifyReply, request: FastifyRequest, spec: ProblemSpec): void {
  if (spec.status === 401) reply.header('WWW-Authenticate', 'Bearer realm="Phoenix router"');
  replyWithProblem(reply, request, spec);
}

/** Every thrown error becomes a problem; unexpected ones are logged once, here. */
export function registerProblemHandlers(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((error: unknown, request, reply) => {
    const spec = problemFor(error, bodyLimit);
    if (spec.status >= 500)
      request.log.error({ err: error, url: request.url }, 'admin request failed');
    sendProblem(reply, request, spec);
  });
  app.setNotFoundHandler((request, reply) => {
    sendProblem(reply, request, noRouteProblem(request));
  });
}
