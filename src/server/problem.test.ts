import { describe, expect, it } from 'vitest';
import {
  ConflictError,
  ExternalServiceError,
  IllegalTransitionError,
  NotFoundError,
  PlatformError,
  UnsupportedError,
  ValidationError,
} from '../shared/errors.js';
import {
  ForbiddenError,
  MalformedJsonError,
  RequestValidationError,
  UnauthorizedError,
} from './http-errors.js';
import { problemFor, toProblem } from './problem.js';

const ISSUE = {
  location: { file: 'phoenix.yml', line: 3, column: 5 },
  key: 'build.timeout',
  message: 'too long',
};

/** A fastify error as fastify makes them: a code and a status. */
function fastifyError(code: string, statusCode: number): Error {
  return Object.assign(new Error(`fastify says ${code}`), { code, statusCode });
}

describe('problemFor', () => {
  it.each([
    [
      new RequestValidationError([{ in: 'body', field: 'role', message: 'is required' }]),
      400,
      'validation',
    ],
    [new MalformedJsonError('not JSON'), 400, 'malformed-json'],
    [new ValidationError([ISSUE]), 400, 'validation'],
    [new UnauthorizedError('who are you', 'bearer'), 401, 'unauthorized'],
    [new ForbiddenError('not you'), 403, 'forbidden'],
    [new NotFoundError('service x not found'), 404, 'not-found'],
    [new ConflictError('exists'), 409, 'conflict'],
    [new IllegalTransitionError('run r_1', 'succeeded', 'running'), 409, 'illegal-transition'],
    [new UnsupportedError([ISSUE]), 422, 'unsupported'],
    [new ExternalServiceError('remote down'), 502, 'external-service'],
    [fastifyError('FST_ERR_CTP_BODY_TOO_LARGE', 413), 413, 'payload-too-large'],
    [fastifyError('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415), 415, 'unsupported-media-type'],
    [fastifyError('FST_ERR_CTP_INVALID_CONTENT_LENGTH', 400), 400, 'bad-request'],
    [fastifyError('FST_ERR_SOMETHING_INTERNAL', 500), 500, 'internal'],
    [new PlatformError('disk full at /var/lib/phoenix'), 500, 'internal'],
    [new TypeError('x is undefined'), 500, 'internal'],
    ['a thrown string', 500, 'internal'],
  ])('maps %s to %i %s', (error, status, slug) => {
    const spec = problemFor(error);

    expect(spec).toMatchObject({ status, slug });
  });

  it('never shows what an unexpected error says', () => {
    const spec = problemFor(new PlatformError('disk full at /var/lib/phoenix'));

    expect(spec.detail).not.toContain('/var/lib');
  });

  it("names every issue of a user's file with its location", () => {
    const spec = problemFor(new ValidationError([ISSUE]));

    expect(spec.errors).toEqual([
      { location: 'phoenix.yml:3:5', field: 'build.timeout', message: 'too long' },
    ]);
  });

  it('says the body limit when it knows it', () => {
    const spec = problemFor(fastifyError('FST_ERR_CTP_BODY_TOO_LARGE', 413), {
      bodyLimit: 5 * 1024 * 1024,
    });

    expect(spec.detail).toBe('the request body is larger than the limit of 5 MiB');
  });

  it('asks for a challenge only for token-authenticated routes', () => {
    expect(problemFor(new UnauthorizedError('x', 'basic')).challenge).toBe('basic');
    expect(problemFor(new UnauthorizedError('x', undefined)).challenge).toBeUndefined();
  });
});

describe('toProblem', () => {
  it('builds RFC 9457 problem details', () => {
    const problem = toProblem(
      problemFor(new NotFoundError('service x not found')),
      '/api/services/x',
    );

    expect(problem).toEqual({
      type: 'urn:phoenix:problem:not-found',
      title: 'Not Found',
      status: 404,
      detail: 'service x not found',
      instance: '/api/services/x',
    });
  });
});
