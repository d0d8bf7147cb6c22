import { ConflictError, ExternalServiceError, PhoenixError } from '../shared/errors.js';

/** A bad field in something the control plane asked for; `field` is a dotted path (`split.1.weight`). */
export interface RouteIssue {
  field: string;
  message: string;
}

/**
 * A routing request that does not fit the router's rules (weights that do not add up to
 * 100, a duplicate target id...). Carries every issue found, each naming its field, so the
 * admin API answers with all of them at once.
 */
export class RouteValidationError extends PhoenixError {
  readonly code = 'validation';

  constructor(
    readonly issues: readonly RouteIssue[],
    /** Where the fields sit in an admin API request. */
    readonly location: 'body' | 'path' | 'query' = 'body',
  ) {
    super(
      issues
        .map((issue) => `${issue.field === '' ? location : issue.field}: ${issue.message}`)
        .join('; '),
    );
  }
}

/** A listener's port could not be bound: in use by another process, or not allowed. */
export class ListenerBindError extends ConflictError {
  constructor(
    readonly listener: string,
    readonly port: number,
    readonly host: string | undefined,
    options: { cause: unknown },
  ) {
    super(
      `listener ${listener} cannot listen on ${host ?? 'all interfaces'} port ${port}: ${reasonOf(options.cause)}`,
      options,
    );
  }
}

function reasonOf(cause: unknown): string {
  const code = cause instanceof Error && 'code' in cause ? String(cause.code) : undefined;
  if (code === 'EADDRINUSE') return 'the port is in use by another process';
  if (code === 'EACCES') return 'permission denied (ports below 1024 need privileges)';
  if (code === 'EADDRNOTAVAIL') return 'the address is not available on this machine';
  return cause instanceof Error ? cause.message : String(cause);
}

/** Nothing answered at the router's admin URL (not started, another port, timed out). */
export class RouterUnreachableError extends ExternalServiceError {}
