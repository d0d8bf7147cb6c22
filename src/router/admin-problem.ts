import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ConflictError, NotFoundError } from '../shared/errors.js';
import { RouteValidationError } from './route-errors.js';

/**
 * The admin API's errors as RFC 9457 problem details, in the shape the control plane's own
 * API uses (type `urn:phoenix:problem:<slug>`, `errors` naming each bad field). This file
 * is the one place where the router's errors become HTTP statuses.
 */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** No bearer token, or the wrong one. */
export class AdminUnauthorizedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminUnauthorizedError';
  }
}

interface ProblemSpec {
  status: number;
  slug: string;
  title: string;
  detail: string;
  errors?: { location: string; field: string; message: string }[];
}

/** Fastify's own request errors that clients cause, by their stable code. */
const FASTIFY_ERRORS: Readonly<Record<string, Omit<ProblemSpec, 'detail'>>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    slug: 'payload-too-large',
    title: 'Payload Too Large',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    slug: 'unsupported-media-type',
    title: 'Unsupported Media Type',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, slug: 'bad-request', title: 'Bad Request' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, slug: 'malformed-json', title: 'Malformed JSON' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, slug: 'malformed-json', title: 'Malformed JSON' },
};

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
  const known = FASTIFY_ERRORS[code];
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
  const instance = request.url.split('?')[0] ?? request.url;
  void reply
    .code(spec.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send({
      type: `urn:phoenix:problem:${spec.slug}`,
      title: spec.title,
      status: spec.status,
      detail: spec.detail,
      instance,
      ...(spec.errors === undefined ? {} : { errors: spec.errors }),
      ...(spec.status >= 500 ? { requestId: request.id } : {}),
    });
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
    sendProblem(reply, request, {
      status: 404,
      slug: 'not-found',
      title: 'Not Found',
      detail: `no route ${request.method} ${request.url.split('?')[0] ?? ''}`,
    });
  });
}
