import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * RFC 9457 problem details, in the one shape every Phoenix HTTP API sends them (the control
 * plane's API and the router's admin API). Which error becomes which status stays with each
 * API, in one place each; this is only the shape on the wire and how it is sent.
 */
export interface Problem {
  /** `urn:phoenix:problem:<slug>`: stable, for clients to branch on. */
  type: string;
  title: string;
  status: number;
  /** What went wrong with this request, in words a person reads. */
  detail: string;
  /** The request path the problem is about. */
  instance: string;
  /** One entry per bad field (request validation) or per issue in a user's file. */
  errors?: ProblemIssue[];
  /** Given on 500s, to find the logged error. */
  requestId?: string;
}

export interface ProblemIssue {
  /** `body`, `query`, `path`, `header`, or `file:line:column` for an issue in a user's file. */
  location: string;
  /** The field or dotted key; empty for the document itself. */
  field: string;
  message: string;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** What an API decides to tell a client about an error; `toProblem` makes it the body. */
export interface ProblemSpec {
  status: number;
  slug: string;
  title: string;
  detail: string;
  errors?: ProblemIssue[];
}

/** Fastify's own request errors (body parsing) that clients cause, by their stable code. */
export const FASTIFY_CLIENT_ERRORS: Readonly<
  Record<string, Pick<ProblemSpec, 'status' | 'slug' | 'title'>>
> = {
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

/** The request path without its query string: what a problem is about. */
export function instanceOf(request: Pick<FastifyRequest, 'url'>): string {
  const url = request.url;
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** The problem for a request that no route matches. */
export function noRouteProblem(request: Pick<FastifyRequest, 'method' | 'url'>): ProblemSpec {
  return {
    status: 404,
    slug: 'not-found',
    title: 'Not Found',
    detail: `no route ${request.method} ${instanceOf(request)}`,
  };
}

export function toProblem(spec: ProblemSpec, instance: string, requestId?: string): Problem {
  return {
    type: `urn:phoenix:problem:${spec.slug}`,
    title: spec.title,
    status: spec.status,
    detail: spec.detail,
    instance,
    ...(spec.errors === undefined ? {} : { errors: spec.errors }),
    ...(requestId === undefined ? {} : { requestId }),
  };
}

/** Sends `spec` as problem+json; 5xx problems carry the request id their log entry has. */
export function replyWithProblem(
  reply: FastifyReply,
  request: FastifyRequest,
  spec: ProblemSpec,
): void {
  const problem = toProblem(spec, instanceOf(request), spec.status >= 500 ? request.id : undefined);
  void reply.code(spec.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}
