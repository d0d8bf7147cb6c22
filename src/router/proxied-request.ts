import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { PassThrough } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Logger } from '../shared/logger.js';
import type { ClientRequestInfo, ClientResponse } from './client-response.js';
import { downstreamResponseHeaders, upstreamRequest } from './forward-headers.js';
import type { ListenerRoute } from './listener-route.js';
import { RequestBody } from './request-body.js';
import {
  isIdempotent,
  isRefusedByClient,
  retryAfterFailure,
  retryAfterResponse,
  type ServerErrorRetry,
} from './retry-policy.js';
import type { InFlight, Target } from './target.js';

/** What a request needs from the listener it arrived on. */
export interface ProxyContext {
  listener: string;
  listenerPort: number;
  /**
   * The listener's route now: every pick (the first and each retry) asks again, so a request
   * under way while the weights swap is retried on the groups that have weight now.
   */
  route(): ListenerRoute;
  trustForwardedHeaders: boolean;
  replayLimitBytes: number;
  logger: Logger;
}

/**
 * One client request through the router: pick a target, send, and on failure decide
 * (retry-policy.ts) whether another target may have it. The response streams back as it
 * comes (its headers are never held back waiting for a body, so server-sent events flow);
 * nothing is buffered but the copy of a small idempotent body kept for a replay.
 *
 * Upstream requests go through undici (one keep-alive pool per target), driven by the
 * callbacks of its dispatcher API: no stream objects and no promises per request, which is
 * most of what proxying through `node:http`'s client costs.
 */
export class ProxiedRequest {
  private readonly started = performance.now();
  private readonly method: string;
  private readonly headers: string[];
  private readonly requestId: string;
  private readonly body: RequestBody | undefined;
  /** Targets tried so far, made at the first retry (most requests never need it). */
  private tried: Set<Target> | undefined;
  private first: Target | undefined;
  private resetRetries = 0;
  private serverErrorRetried = false;
  private clientGone = false;
  /** Set when a drain timed out and cut this request off. */
  private cutOff = false;
  /** The attempt waiting for its response headers. */
  private current: Attempt | undefined;
  /** The attempt whose response is being delivered to the client. */
  private delivering: Attempt | undefined;
  private serverErrorRetry: ServerErrorRetry | undefined;

  constructor(
    private readonly req: ClientRequestInfo,
    private readonly res: ClientResponse,
    private readonly context: ProxyContext,
  ) {
    this.method = req.method;
    const forwarded = upstreamRequest(req.rawHeaders, {
      remoteAddress: req.remoteAddress,
      listenerPort: context.listenerPort,
      fallbackHost: () => `${req.localAddress ?? 'localhost'}:${context.listenerPort}`,
      newRequestId: randomUUID,
      trustForwarded: context.trustForwardedHeaders,
      upgrade: false,
    });
    this.headers = forwarded.headers;
    this.requestId = forwarded.requestId;
    if (forwarded.body !== 'none' && req.bodySource !== undefined) {
      const limit = isIdempotent(this.method) ? context.replayLimitBytes : 0;
      this.body = new RequestBody(req.bodySource, limit);
    }
  }

  start(): void {
    const route = this.context.route();
    // The canary 5xx retry follows the route the request started under: a canary rolled back
    // while its answer was on the way has left the route, but its 5xx is still retried.
    this.serverErrorRetry = route.serverErrorRetry;
    const target = route.pick();
    if (target === undefined) {
      this.answer(503, `no target is available for listener ${this.context.listener}`);
      return;
    }
    this.first = target;
    this.send(target);
  }

  /** The client closed its connection before the whole response reached it. */
  clientClosed(): void {
    this.clientGone = true;
    this.current?.cancel();
    this.delivering?.cancel();
  }

  private send(target: Target): void {
    const attempt = new Attempt(this, target, this.body !== undefined);
    this.current = attempt;
    target.pool.dispatch(
      {
        path: this.req.url,
        method: this.method as Dispatcher.HttpMethod,
        headers: this.headers,
        body: attempt.bodyStream,
      },
      attempt,
    );
  }

  private get replayable(): boolean {
    return this.body?.replayable ?? true;
  }

  // Callbacks of an attempt, in the order undici makes them.

  /** The socket is connected and the request is about to be written: the body may flow. */
  connected(attempt: Attempt): void {
    if (attempt.bodyStream !== null) this.body?.sendTo(attempt.bodyStream);
  }

  headersFrom(attempt: Attempt, status: number, raw: Buffer[], statusText: string): void {
    this.current = undefined;
    if (this.clientGone) {
      // The client left while the answer was on its way: nobody to deliver it to.
      attempt.cancel();
      return;
    }
    const next = this.serverErrorRetryTarget(status, attempt.target);
    if (next !== undefined) {
      this.discard(attempt, status);
      this.send(next);
      return;
    }
    this.delivering = attempt;
    const { res } = this;
    const names: string[] = new Array<string>(raw.length);
    for (let i = 0; i < raw.length; i++) names[i] = raw[i]?.toString('latin1') ?? '';
    res.writeHead(
      status,
      statusText === '' ? undefined : statusText,
      downstreamResponseHeaders(names),
    );
    attempt.target.owner.counters.response(status, performance.now() - this.started);
    // Headers go out with the first body chunk when it came in the same read as they did;
    // otherwise (server-sent events, a slow body) on their own right after, not held back.
    queueMicrotask(() => {
      if (!res.done) res.flush();
    });
  }

  /** A chunk of the response body; false asks undici to pause until `resume`. */
  dataFrom(attempt: Attempt, chunk: Buffer): boolean {
    if (attempt !== this.delivering) return true; // a discarded response
    if (this.res.write(chunk)) return true;
    this.res.onDrain(attempt.resume);
    return false;
  }

  completed(attempt: Attempt): void {
    if (attempt !== this.delivering) return;
    this.delivering = undefined;
    this.res.end();
  }

  failed(attempt: Attempt, error: Error & { code?: string }): void {
    if (attempt === this.delivering) {
      this.delivering = undefined;
      this.responseCutOff(attempt, error);
      return;
    }
    if (attempt !== this.current) return; // a discarded response, cut off: nobody waits for it
    this.current = undefined;
    this.body?.detach();
    if (this.clientGone) return;
    const { target } = attempt;
    if (isRefusedByClient(error.code)) {
      // Not the target's fault: undici refused to send what the client sent.
      this.answer(400, `the request cannot be forwarded: ${error.message}`, target);
      return;
    }
    target.owner.counters.upstreamError();
    if (error.code === 'ECONNREFUSED') target.owner.reportRefused(target);
    const verdict = this.cutOff
      ? 'fail'
      : retryAfterFailure({
          failure: { connected: attempt.connected, code: error.code },
          method: this.method,
          bodyReplayable: this.replayable,
          resetRetries: this.resetRetries,
        });
    const next = verdict === 'fail' ? undefined : this.context.route().pick(this.triedSoFar());
    const log = {
      listener: this.context.listener,
      group: target.owner.name,
      target: target.spec.id,
      requestId: this.requestId,
      code: error.code,
    };
    if (next === undefined) {
      this.context.logger.warn({ ...log, err: error, verdict }, 'request failed upstream');
      const message = this.cutOff
        ? 'the target was drained before it answered'
        : `the upstream failed: ${failureReason(error)}`;
      this.answer(this.cutOff ? 504 : 502, message, target);
      return;
    }
    if (verdict === 'retry-reset') this.resetRetries++;
    target.owner.counters.retry();
    this.context.logger.debug({ ...log, next: next.spec.id }, 'request retried on another target');
    this.send(next);
  }

  /** A drain's timeout passed: cut the request off, whether or not its response began. */
  cutOffBy(attempt: Attempt): void {
    this.cutOff = true;
    attempt.cancel();
    if (this.res.headersSent) this.res.destroy();
  }

  private responseCutOff(attempt: Attempt, error: Error): void {
    if (this.clientGone || this.res.done) return;
    attempt.target.owner.counters.upstreamError();
    this.context.logger.warn(
      {
        listener: this.context.listener,
        group: attempt.target.owner.name,
        target: attempt.target.spec.id,
        requestId: this.requestId,
        err: error,
      },
      'upstream response cut off',
    );
    this.res.destroy(error);
  }

  private triedSoFar(): Set<Target> {
    if (this.tried === undefined) {
      this.tried = new Set();
      if (this.first !== undefined) this.tried.add(this.first);
    }
    return this.tried;
  }

  /** The stable group's target for a canary's 5xx, when the listener asks for that retry. */
  private serverErrorRetryTarget(status: number, target: Target): Target | undefined {
    const policy = this.serverErrorRetry ?? this.context.route().serverErrorRetry;
    if (policy === undefined) return undefined;
    const route = this.context.route();
    const retry = retryAfterResponse({
      status,
      method: this.method,
      group: target.owner.name,
      policy,
      bodyReplayable: this.replayable,
      alreadyRetried: this.serverErrorRetried,
    });
    if (!retry) return undefined;
    return route.pickInGroup(policy.to, this.triedSoFar());
  }

  /** The canary's 5xx answer is dropped (its body read to the end, keeping the connection). */
  private discard(attempt: Attempt, status: number): void {
    this.serverErrorRetried = true;
    const { counters } = attempt.target.owner;
    counters.response(status, performance.now() - this.started);
    counters.retry();
  }

  /** The router's own answer (503 without targets, 502/504 after failures). */
  private answer(status: number, message: string, target?: Target): void {
    if (this.res.headersSent) {
      this.res.destroy();
      return;
    }
    const body = Buffer.from(`${message}\n`);
    this.res.writeHead(status, undefined, [
      'content-type',
      'text/plain; charset=utf-8',
      'content-length',
      String(body.length),
      'x-request-id',
      this.requestId,
    ]);
    this.res.write(body);
    this.res.end();
    target?.owner.counters.response(status, performance.now() - this.started);
  }
}

/**
 * One attempt of a request on one target: undici's handler for it, counted in flight on
 * the target (for drains) from dispatch until undici is done with it.
 */
class Attempt implements Dispatcher.DispatchHandlers, InFlight {
  /** Whether undici connected and began writing the request; before that, nothing was sent. */
  connected = false;
  /** Fed from the client's body once connected; null for a request without one. */
  readonly bodyStream: PassThrough | null;
  resume: () => void = noop;
  private abortUpstream: ((error?: Error) => void) | undefined;
  private cancelled = false;
  private readonly done: () => void;

  constructor(
    private readonly request: ProxiedRequest,
    readonly target: Target,
    hasBody: boolean,
  ) {
    this.bodyStream = hasBody ? new PassThrough() : null;
    this.done = target.track(this);
  }

  /** Stops the attempt: at once when it is connected, otherwise as soon as it connects. */
  cancel(): void {
    this.cancelled = true;
    this.abortUpstream?.();
  }

  /** InFlight: a drain's timeout cuts the request off. */
  abort(): void {
    this.request.cutOffBy(this);
  }

  onConnect(abort: (error?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.cancelled) {
      abort();
      return;
    }
    this.connected = true;
    this.request.connected(this);
  }

  onHeaders(status: number, headers: Buffer[], resume: () => void, statusText: string): boolean {
    if (status < 200) return true; // 1xx (103 Early Hints): the final answer follows
    this.resume = resume;
    this.request.headersFrom(this, status, headers, statusText);
    return true;
  }

  onData(chunk: Buffer): boolean {
    return this.request.dataFrom(this, chunk);
  }

  onComplete(): void {
    this.done();
    this.request.completed(this);
  }

  onError(error: Error): void {
    this.done();
    this.request.failed(this, error);
  }
}

function noop(): void {}

/** The reason a client reads in the router's 502: the socket error code, in words for undici's. */
function failureReason(error: Error & { code?: string }): string {
  if (error.code === 'UND_ERR_SOCKET') return 'the target closed the connection (UND_ERR_SOCKET)';
  return error.code ?? error.message;
}
