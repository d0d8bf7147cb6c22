/**
 * Errors that only exist at the HTTP boundary. Like the domain's typed errors, they carry
 * what happened, not a status: problem.ts maps every error to its status in one place.
 */

/** How a client should authenticate: API calls use bearer tokens, git uses basic auth. */
export type AuthChallenge = 'bearer' | 'basic';

/** No credentials, or credentials that name no active token (unknown and revoked alike). */
export class UnauthorizedError extends Error {
  constructor(
    message: string,
    /** Undefined for signature-authenticated routes (webhooks), which have no challenge. */
    readonly challenge: AuthChallenge | undefined,
  ) {
    super(message);
    this.name = 'UnauthorizedError';
  }
}

/** A valid token whose role is too low for the request. */
export class ForbiddenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForbiddenError';
  }
}

/** A request body that claims to be JSON but is not. */
export class MalformedJsonError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MalformedJsonError';
  }
}

/** Where a request value came from. */
export type RequestPart = 'body' | 'query' | 'path' | 'header';

export interface RequestIssue {
  in: RequestPart;
  /** Dotted path inside that part, e.g. `repository.url`; empty for the part itself. */
  field: string;
  message: string;
}

/** Request body, query, path or header values that do not fit the route's schema. */
export class RequestValidationError extends Error {
  constructor(readonly issues: readonly RequestIssue[]) {
    super(issues.map(describeIssue).join('; '));
    this.name = 'RequestValidationError';
  }
}

export function describeIssue(issue: RequestIssue): string {
  const where = issue.field === '' ? issue.in : `${issue.in}.${issue.field}`;
  return `${where}: ${issue.message}`;
}
