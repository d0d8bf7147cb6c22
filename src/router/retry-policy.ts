/**
 * When the router may send a request again to another target, as pure decisions. The
 * promise is "no failed request when a target disappears" without ever running a
 * non-idempotent request twice.
 */

/** RFC 9110 9.2.2: repeating these has the same effect as sending them once. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/**
 * Errors that mean the connection died under the request (before any response byte).
 * UND_ERR_SOCKET is undici's "other side closed": the upstream closed the connection.
 */
const RESETS = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET']);

/**
 * undici's refusals of a request it was asked to send (a header it cannot send, a body
 * shorter or longer than its Content-Length): the client's request is at fault, and no
 * other target would take it either.
 */
const REFUSED_BY_CLIENT = new Set([
  'UND_ERR_INVALID_ARG',
  'UND_ERR_NOT_SUPPORTED',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
]);

/**
 * Retries after resets per request: enough to step over a target that died with requests
 * in flight, few enough that a request which itself crashes targets cannot take them all down.
 */
export const MAX_RESET_RETRIES = 2;

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method);
}

/** Whether an attempt failed because the request itself cannot be sent as it is. */
export function isRefusedByClient(code: string | undefined): boolean {
  return code !== undefined && REFUSED_BY_CLIENT.has(code);
}

export interface AttemptFailure {
  /** Whether the socket ever connected; a request whose socket did not reached nobody. */
  connected: boolean;
  /** The socket error code: ECONNREFUSED, ECONNRESET... */
  code: string | undefined;
}

export interface FailureRetryInput {
  failure: AttemptFailure;
  method: string;
  /** Whether the body can be sent again: nothing read of it yet, or all of it kept. */
  bodyReplayable: boolean;
  /** Earlier retries of this request after a reset. */
  resetRetries: number;
}

export type RetryVerdict = 'retry-not-sent' | 'retry-reset' | 'fail';

/**
 * - The socket never connected (refused, unreachable): the request was never sent, so it
 *   is sent elsewhere whatever its method. The proxy holds the body back until the socket
 *   connects, so nothing of it has been read yet.
 * - The connection was reset (or the write hit a closed socket) before any response byte:
 *   the target may or may not have acted on the request, so only idempotent requests go
 *   again, and only when their body was kept. This covers the classic race of a keep-alive
 *   socket the upstream closed just as the router reused it, and a target killed mid-request.
 * - Anything else (a response began, a timeout, a protocol error) is not retried.
 */
export function retryAfterFailure(input: FailureRetryInput): RetryVerdict {
  if (!input.bodyReplayable) return 'fail';
  if (!input.failure.connected) return 'retry-not-sent';
  const reset = input.failure.code !== undefined && RESETS.has(input.failure.code);
  if (reset && isIdempotent(input.method) && input.resetRetries < MAX_RESET_RETRIES) {
    return 'retry-reset';
  }
  return 'fail';
}

/**
 * The optional retry of issue 5: while a canary is judged, a GET or HEAD that got a 5xx
 * from the canary group is sent once to the stable group, so that users do not see the
 * canary's errors. The 5xx still counts against the canary.
 */
export interface ServerErrorRetry {
  /** The canary group whose 5xx answers are retried. */
  from: string;
  /** The stable group that gets them. */
  to: string;
}

export interface ResponseRetryInput {
  status: number;
  method: string;
  /** The group that answered. */
  group: string;
  policy: ServerErrorRetry | undefined;
  bodyReplayable: boolean;
  /** Whether this request was already retried for a 5xx. */
  alreadyRetried: boolean;
}

export function retryAfterResponse(input: ResponseRetryInput): boolean {
  return (
    input.policy !== undefined &&
    input.status >= 500 &&
    (input.method === 'GET' || input.method === 'HEAD') &&
    input.group === input.policy.from &&
    input.bodyReplayable &&
    !input.alreadyRetried
  );
}
