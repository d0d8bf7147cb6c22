import { randomUUID } from 'node:crypto';
import {
  request as httpRequest,
  type ClientRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../shared/logger.js';
import {
  downstreamResponseHeaders,
  requestIdOf,
  upstreamRequestHeaders,
} from './forward-headers.js';
import type { ListenerRoute } from './listener-route.js';
import { RequestBody } from './request-body.js';
import { isIdempotent, retryAfterFailure, retryAfterResponse } from './retry-policy.js';
import type { Target } from './target.js';

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

type Outcome =
  | { kind: 'response'; response: IncomingMessage; done: () => void }
  | { kind: 'failure'; error: Error; code: string | undefined; connected: boolean };

/**
 * One client request through the router: pick a target, send, and on failure decide
 * (retry-policy.ts) whether another target may have it. The response streams back as it
 * comes (its headers are never held back waiting for a body, so server-sent events flow);
 * nothing is buffered but the copy of a small idempotent body kept for a replay.
 */
export class ProxiedRequest {
  private readonly started = performance.now();
  private readonly requestId: string;
  private readonly method: string;
  private readonly body: RequestBody;
  private readonly headers: string[];
  private readonly tried = new Set<Target>();
  private resetRetries = 0;
  private serverErrorRetried = false;
  private clientGone = false;
  /** Set when a drain timed out and cut this request off. */
  private cutOff = false;
  private upstream: ClientRequest | undefined;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly context: ProxyContext,
  ) {
    this.method = req.method ?? 'GET';
    this.requestId = requestIdOf(req.headers['x-request-id']) ?? randomUUID();
    this.body = new RequestBody(req, isIdempotent(this.method) ? context.replayLimitBytes : 0);
    this.headers = upstreamRequestHeaders(req.rawHeaders, {
      remoteAddress: req.socket.remoteAddress,
      listenerPort: context.listenerPort,
      fallbackHost: `${req.socket.localAddress ?? 'localhost'}:${context.listenerPort}`,
      requestId: this.requestId,
      trustForwarded: context.trustForwardedHeaders,
      upgrade: false,
    });
    res.once('close', () => {
      if (res.writableFinished) return;
      this.clientGone = true;
      this.upstream?.destroy();
    });
  }

  async run(): Promise<void> {
    let target = this.context.route().pick();
    if (target === undefined) {
      this.answer(503, `no target is available for listener ${this.context.listener}`);
      return;
    }
    for (;;) {
      this.tried.add(target);
      const outcome = await this.attempt(target);
      if (outcome.kind === 'response' && this.clientGone) {
        // The client left while the answer was on its way: nobody to deliver it to.
        outcome.response.destroy();
        outcome.done();
        return;
      }
      if (outcome.kind === 'response') {
        const next = this.serverErrorRetryTarget(outcome.response, target);
        if (next === undefined) return this.deliver(outcome, target);
        this.discard(outcome, target);
        target = next;
        continue;
      }
      const next = this.afterFailure(outcome, target);
      if (next === undefined) return;
      target = next;
    }
  }

  private attempt(target: Target): Promise<Outcome> {
    return new Promise((resolve) => {
      let connected = false;
      let settled = false;
      const upstream = httpRequest({
        agent: target.agent,
        host: target.spec.host,
        port: target.spec.port,
        method: this.method,
        path: this.req.url,
        headers: this.headers,
      });
      this.upstream = upstream;
      const done = target.track({ abort: () => this.cutOffBy(upstream) });
      upstream.on('socket', (socket) => {
        // The body waits for a connected socket: a refused attempt must not consume it.
        if (!socket.connecting) {
          connected = true;
          this.body.sendTo(upstream);
          return;
        }
        socket.setNoDelay(true);
        socket.once('connect', () => {
          connected = true;
          this.body.sendTo(upstream);
        });
      });
      upstream.once('response', (response) => {
        settled = true;
        resolve({ kind: 'response', response, done });
      });
      upstream.on('error', (error: NodeJS.ErrnoException) => {
        if (settled) return; // after the response began, the response stream reports it
        settled = true;
        done();
        this.body.detach();
        resolve({ kind: 'failure', error, code: error.code, connected });
      });
    });
  }

  private deliver(outcome: Extract<Outcome, { kind: 'response' }>, target: Target): void {
    const { response, done } = outcome;
    const status = response.statusCode ?? 502;
    const headers = downstreamResponseHeaders(response.rawHeaders);
    this.res.writeHead(status, response.statusMessage, headers);
    // Headers go out with the first body chunk when it came in the same read as they did;
    // otherwise (server-sent events, a slow body) on their own right after, not held back.
    let bodyStarted = false;
    response.once('data', () => (bodyStarted = true));
    setImmediate(() => {
      if (!bodyStarted && !this.res.destroyed) this.res.flushHeaders();
    });
    target.owner.counters.response(status, performance.now() - this.started);
    // Plain pipe rather than pipeline(): the latter costs an AbortController per request.
    // The response's 'close' (finished, or cut off either side) ends the attempt.
    this.res.once('close', done);
    response.once('error', (error) => {
      if (this.clientGone) return;
      target.owner.counters.upstreamError();
      this.context.logger.warn(
        {
          listener: this.context.listener,
          group: target.owner.name,
          target: target.spec.id,
          requestId: this.requestId,
          err: error,
        },
        'upstream response cut off',
      );
      this.res.destroy(error);
    });
    response.pipe(this.res);
  }

  /** The stable group's target for a canary's 5xx, when the listener asks for that retry. */
  private serverErrorRetryTarget(response: IncomingMessage, target: Target): Target | undefined {
    const route = this.context.route();
    const policy = route.serverErrorRetry;
    const retry = retryAfterResponse({
      status: response.statusCode ?? 0,
      method: this.method,
      group: target.owner.name,
      policy,
      bodyReplayable: this.body.replayable,
      alreadyRetried: this.serverErrorRetried,
    });
    if (!retry || policy === undefined || this.clientGone) return undefined;
    return route.pickInGroup(policy.to, this.tried);
  }

  private discard(outcome: Extract<Outcome, { kind: 'response' }>, target: Target): void {
    this.serverErrorRetried = true;
    const { counters } = target.owner;
    counters.response(outcome.response.statusCode ?? 0, performance.now() - this.started);
    counters.retry();
    outcome.response.once('close', outcome.done);
    outcome.response.resume();
  }

  /** The next target after a failed attempt, or undefined once the client has its answer. */
  private afterFailure(
    outcome: Extract<Outcome, { kind: 'failure' }>,
    target: Target,
  ): Target | undefined {
    const { counters } = target.owner;
    if (this.clientGone) return undefined;
    counters.upstreamError();
    if (outcome.code === 'ECONNREFUSED') target.owner.reportRefused(target);
    const verdict = this.cutOff
      ? 'fail'
      : retryAfterFailure({
          failure: { connected: outcome.connected, code: outcome.code },
          method: this.method,
          bodyReplayable: this.body.replayable,
          resetRetries: this.resetRetries,
        });
    const next = verdict === 'fail' ? undefined : this.context.route().pick(this.tried);
    const log = {
      listener: this.context.listener,
      group: target.owner.name,
      target: target.spec.id,
      requestId: this.requestId,
      code: outcome.code,
    };
    if (next === undefined) {
      this.context.logger.warn({ ...log, err: outcome.error, verdict }, 'request failed upstream');
      this.answer(this.cutOff ? 504 : 502, this.failureMessage(outcome), target);
      return undefined;
    }
    if (verdict === 'retry-reset') this.resetRetries++;
    counters.retry();
    this.context.logger.debug({ ...log, next: next.spec.id }, 'request retried on another target');
    return next;
  }

  private failureMessage(outcome: Extract<Outcome, { kind: 'failure' }>): string {
    if (this.cutOff) return 'the target was drained before it answered';
    return `the upstream failed: ${outcome.code ?? outcome.error.message}`;
  }

  /** A drain's timeout passed: cut the request off, whether or not its response began. */
  private cutOffBy(upstream: ClientRequest): void {
    this.cutOff = true;
    upstream.destroy();
    if (this.res.headersSent) this.res.destroy();
  }

  /** The router's own answer (503 without targets, 502/504 after failures). */
  private answer(status: number, message: string, target?: Target): void {
    if (this.res.headersSent) {
      this.res.destroy();
      return;
    }
    const body = `${message}\n`;
    this.res.writeHead(status, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'x-request-id': this.requestId,
    });
    this.res.end(body);
    target?.owner.counters.response(status, performance.now() - this.started);
  }
}
