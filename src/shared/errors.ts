/**
 * Phoenix's small typed error hierarchy. Callers branch on the class (or `code`),
 * never on message text. HTTP mapping happens in one place (server/), later.
 */

export type ErrorCode =
  | 'validation'
  | 'not_found'
  | 'conflict'
  | 'not_permitted'
  | 'illegal_transition'
  | 'external_service'
  | 'unsupported'
  | 'platform';

export abstract class PhoenixError extends Error {
  abstract readonly code: ErrorCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Where in a user's file a problem sits. Lines and columns are 1-based. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

export interface ValidationIssue {
  location: SourceLocation;
  /** Dotted key path, e.g. `phases.build.on-failure`. Empty for the document itself. */
  key: string;
  message: string;
}

export function formatIssue(issue: ValidationIssue): string {
  const { file, line, column } = issue.location;
  const key = issue.key === '' ? '' : ` ${issue.key}:`;
  return `${file}:${line}:${column}:${key} ${issue.message}`;
}

/** A refusal that carries every issue found in the user's input, not just the first. */
export abstract class IssuesError extends PhoenixError {
  constructor(
    readonly issues: readonly ValidationIssue[],
    options?: { cause?: unknown },
  ) {
    super(issues.map(formatIssue).join('\n'), options);
  }
}

/** A user-supplied file or value is malformed. */
export class ValidationError extends IssuesError {
  readonly code = 'validation';
}

/** Valid input that asks for something Phoenix cannot honour (yet); refused before anything runs. */
export class UnsupportedError extends IssuesError {
  readonly code = 'unsupported';
}

export class NotFoundError extends PhoenixError {
  readonly code = 'not_found';
}

export class ConflictError extends PhoenixError {
  readonly code = 'conflict';
}

/** The caller is known but may not do this (an approver not listed, approving one's own change). */
export class NotPermittedError extends PhoenixError {
  readonly code = 'not_permitted';
}

export class IllegalTransitionError extends PhoenixError {
  readonly code = 'illegal_transition';

  constructor(
    readonly entity: string,
    readonly from: string,
    readonly to: string,
  ) {
    super(`${entity}: illegal transition from ${from} to ${to}`);
  }
}

export class ExternalServiceError extends PhoenixError {
  readonly code = 'external_service';
}

/** Phoenix itself failed (a process could not start, a disk write failed), not the user's code. */
export class PlatformError extends PhoenixError {
  readonly code = 'platform';
}
