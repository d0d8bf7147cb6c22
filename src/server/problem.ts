import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  ConflictError,
  ExternalServiceError,
  IllegalTransitionError,
  NotFoundError,
  NotPermittedError,
  UnsupportedError,
  ValidationError,
  type ValidationIssue,
} from '../shared/errors.js';
import {
  FASTIFY_CLIENT_ERRORS,
  instanceOf,
  noRouteProblem,
  replyWithProblem,
  type ProblemSpec,
} from '../shared/problem-details.js';
import {
  ForbiddenError,
  MalformedJsonError,
  RequestValidationError,
  UnauthorizedError,
  type AuthChallenge,
} from './http-errors.js';

/**
 * Every error response, as RFC 9457 problem details. This file is the one place where
 * errors become HTTP statuses: handlers throw typed errors and never pick a status for one.
 */
export {
  instanceOf,
  PROBLEM_CONTENT_TYPE,
  toProblem,
  type Problem,
  type ProblemIssue,
} from '../shared/problem-details.js';

interface ServerProblemSpec extends ProblemSpec {
  challenge?: AuthChallenge;
}

const INTERNAL_DETAIL =
  'Phoenix failed to handle this request. The server log has the details under this requestId.';

/** What a client is told for `error`: anything unexpected is a 500 that says nothing more. */
export function problemFor(error: unknown, request?: { bodyLimit?: number }): ServerProblemSpec {
  if (error instanceof RequestValidationError) {
    return {
      status: 400,
      slug: 'validation',
      title: 'Invalid request',
      detail: error.message,
      errors: error.issues.map((issue) => ({
        location: issue.in,
        field: issue.field,
        message: issue.message,
      })),
    };
  }
  if (error instanceof MalformedJsonError)
    return { status: 400, slug: 'malformed-json', title: 'Malformed JSON', detail: error.message };
  if (error instanceof ValidationError)
    return issuesProblem(400, 'validation', 'Invalid input', error.issues, error.message);
  if (error instanceof UnsupportedError)
    return issuesProblem(422, 'unsupported', 'Unsupported', error.issues, error.message);
  if (error instanceof UnauthorizedError) {
    return {
      status: 401,
      slug: 'unauthorized',
      title: 'Unauthorized',
      detail: error.message,
      ...(error.challenge === undefined ? {} : { challenge: error.challenge }),
    };
  }
  if (error instanceof ForbiddenError || error instanceof NotPermittedError)
    return { status: 403, slug: 'forbidden', title: 'Forbidden', detail: error.message };
  if (error instanceof NotFoundError)
    return { status: 404, slug: 'not-found', title: 'Not Found', detail: error.message };
  if (error instanceof ConflictError)
    return { status: 409, slug: 'conflict', title: 'Conflict', detail: error.message };
  if (error instanceof IllegalTransitionError)
    return { status: 409, slug: 'illegal-transition', title: 'Conflict', detail: error.message };
  if (error instanceof ExternalServiceError)
    return { status: 502, slug: 'external-service', title: 'Bad Gateway', detail: error.message };
  const fastify = fastifyClientError(error, request?.bodyLimit);
  if (fastify !== undefined) return fastify;
  return { status: 500, slug: 'internal', title: 'Internal Server Error', detail: INTERNAL_DETAIL };
}

function issuesProblem(
  status: number,
  slug: string,
  title: string,
  issues: readonly ValidationIssue[],
  detail: string,
): ServerProblemSpec {
  return {
    status,
    slug,
    title,
    detail,
    errors: issues.map((issue) => ({
      location: `${issue.location.file}:${issue.location.line}:${issue.location.column}`,
      field: issue.key,
      message: issue.message,
    })),
  };
}

function fastifyClientError(
  error: unknown,
  bodyLimit: number | undefined,
): ServerProblemSpec | undefined {
  if (!isFastifyError(error)) return undefined;
  const known = FASTIFY_CLIENT_ERRORS[error.code];
  if (known === undefined) return undefined;
  // The status fastify gave the error itself, not the table's.
  const status = error.statusCode ?? 400;
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const limit = bodyLimit === undefined ? '' : ` of ${formatBytes(bodyLimit)}`;
    return { ...known, status, detail: `the request body is larger than the limit${limit}` };
  }
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return { ...known, status, detail: 'send the request body as application/json' };
  }
  return { ...known, status, detail: error.message };
}

function isFastifyError(error: unknown): error is FastifyError {
  return error instanceof Error && 'code' in error && typeof error.code === 'string';
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

const CHALLENGES: Record<AuthChallenge, string> = {
  bearer: 'Bearer realm="Phoenix"',
  basic: 'Basic realm="Phoenix"',
};

/** Sends `spec` as problem+json, with the challenge it asks for. */
export function sendProblem(
  reply: FastifyReply,
  request: FastifyRequest,
  spec: ServerProblemSpec,
): void {
  if (spec.challenge !== undefined) reply.header('WWW-Authenticate', CHALLENGES[spec.challenge]);
  replyWithProblem(reply, request, spec);
}

/**
 * Installs the error handler (every thrown error becomes a problem; unexpected ones are
 * logged once, here, with the error) and the unknown-route handler.
 */
export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request, reply) => {
    const spec = problemFor(error, { bodyLimit: request.routeOptions.bodyLimit });
    if (spec.status >= 500) {
      request.log.error({ err: error, url: instanceOf(request) }, 'request failed');
    }
    sendProblem(reply, request, spec);
  });
  app.setNotFoundHandler((request, reply) => {
    sendProblem(reply, request, noRouteProblem(request));
  });
}
