import { z } from 'zod';
import { ConflictError, ExternalServiceError, NotFoundError } from '../shared/errors.js';
import { DEFAULT_CLOSE_GRACE_MS } from './proxy.js';
import type { ServerErrorRetry } from './retry-policy.js';
import type { WindowBucket } from './rolling-window.js';
import { RouterUnreachableError, RouteValidationError } from './route-errors.js';
import type {
  DrainResult,
  ListenerSpec,
  TargetGroupCounters,
  TargetGroupSpec,
  TargetHealth,
  TrafficRouter,
  WeightedGroup,
} from './traffic-router.js';

/** How long one admin call may take (drains add their own timeout to it). */
export const DEFAULT_ADMIN_CALL_TIMEOUT_MS = 10_000;

export interface HttpTrafficRouterOptions {
  /** The admin API's base URL, as startRouter reports it. */
  url: string;
  token: string;
  callTimeoutMs?: number;
}

const splitSchema = z.array(z.object({ group: z.string(), weight: z.number() }));
const weightsResponse = z.object({ split: splitSchema });
const drainResponse = z.object({ drained: z.number(), abandoned: z.number() });
const healthResponse = z.object({
  targets: z.array(
    z.object({
      id: z.string(),
      state: z.enum(['initial', 'healthy', 'unhealthy', 'draining']),
      reason: z.string().optional(),
      since: z.string(),
    }),
  ),
});
const countersResponse = z.object({
  requests: z.number(),
  status2xx: z.number(),
  status3xx: z.number(),
  status4xx: z.number(),
  status5xx: z.number(),
  upstreamErrors: z.number(),
  retries: z.number(),
  latencyMs: z.array(z.object({ le: z.number(), count: z.number() })),
});
const windowResponse = z.object({
  buckets: z.array(
    z.object({
      start: z.number(),
      requests: z.number(),
      status2xx: z.number(),
      status3xx: z.number(),
      status4xx: z.number(),
      status5xx: z.number(),
      upstreamErrors: z.number(),
      retries: z.number(),
      latencyMs: z.array(z.number()),
    }),
  ),
});
const problemResponse = z.object({
  detail: z.string().optional(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});

/**
 * The control plane's TrafficRouter over the built-in router's admin API. Every call is a
 * desired-state call and may be repeated; removing a listener or a group that is already
 * gone succeeds.
 * Errors come back typed: NotFoundError, ConflictError, RouteValidationError (naming the
 * fields), and ExternalServiceError when the router cannot be reached or fails.
 */
export class HttpTrafficRouter implements TrafficRouter {
  private readonly base: string;

  /** The admin API's base URL, without a trailing slash. */
  get url(): string {
    return this.base;
  }
  private readonly callTimeoutMs: number;

  constructor(private readonly options: HttpTrafficRouterOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_ADMIN_CALL_TIMEOUT_MS;
  }

  /**
   * Resolves when the router answers an authenticated call. Otherwise an ExternalServiceError
   * says what to do: start `phoenix router`, or give both processes the same admin token.
   */
  async ready(): Promise<void> {
    try {
      await this.call('GET', '/state');
    } catch (error) {
      if (error instanceof RouterUnreachableError) {
        throw new ExternalServiceError(
          `router not reachable at ${this.base}: start \`phoenix router\` (${reasonOf(error.cause)})`,
          { cause: error },
        );
      }
      const reason = error instanceof Error ? error.message : String(error);
      throw new ExternalServiceError(
        `the router at ${this.base} refused the control plane: ${reason} (both must use the same PHOENIX_HOME/router/admin-token)`,
        { cause: error },
      );
    }
  }

  async putListener(listener: ListenerSpec): Promise<void> {
    const { name, ...body } = listener;
    await this.call('PUT', `/listeners/${segment(name)}`, body);
  }

  /**
   * The router answers 204 for a listener it does not have, so unlike removeTargetGroup no
   * 404 is swallowed here: a 404 means a router too old to remove listeners, which would
   * otherwise keep the port open without a word. The call may last as long as the requests
   * in flight on the listener (DEFAULT_CLOSE_GRACE_MS at most).
   */
  async removeListener(name: string): Promise<void> {
    await this.call('DELETE', `/listeners/${segment(name)}`, undefined, DEFAULT_CLOSE_GRACE_MS);
  }

  async putTargetGroup(group: TargetGroupSpec): Promise<void> {
    const { name, ...body } = group;
    await this.call('PUT', `/target-groups/${segment(name)}`, body);
  }

  /** `serverErrorRetry` turns on issue 5's retry of a canary's 5xx on the stable group. */
  async applyWeights(
    listener: string,
    split: readonly WeightedGroup[],
    options: { serverErrorRetry?: ServerErrorRetry } = {},
  ): Promise<void> {
    await this.call('PUT', `/listeners/${segment(listener)}/weights`, { split, ...options });
  }

  async verifyWeights(listener: string): Promise<WeightedGroup[]> {
    const body = await this.call('GET', `/listeners/${segment(listener)}/weights`);
    return this.parse(weightsResponse, body).split;
  }

  async drain(
    group: string,
    targetIds: readonly string[] | 'all',
    timeoutMs: number,
  ): Promise<DrainResult> {
    const path = `/target-groups/${segment(group)}/drain`;
    const body = await this.call('POST', path, { targets: targetIds, timeoutMs }, timeoutMs);
    return this.parse(drainResponse, body);
  }

  async removeTargetGroup(group: string): Promise<void> {
    try {
      await this.call('DELETE', `/target-groups/${segment(group)}`);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }

  async health(group: string): Promise<TargetHealth[]> {
    const body = await this.call('GET', `/target-groups/${segment(group)}/health`);
    return this.parse(healthResponse, body).targets;
  }

  async counters(group: string): Promise<TargetGroupCounters> {
    const body = await this.call('GET', `/target-groups/${segment(group)}/counters`);
    return this.parse(countersResponse, body);
  }

  /** The rolling window's 100 ms slices since `sinceMs` (epoch ms), oldest first. */
  async window(group: string, sinceMs?: number): Promise<WindowBucket[]> {
    const query = sinceMs === undefined ? '' : `?since=${Math.floor(sinceMs)}`;
    const body = await this.call('GET', `/target-groups/${segment(group)}/window${query}`);
    return this.parse(windowResponse, body).buckets;
  }

  private async call(
    method: string,
    path: string,
    body?: unknown,
    extraTimeoutMs = 0,
  ): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.options.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.callTimeoutMs + extraTimeoutMs),
      });
    } catch (error) {
      throw new RouterUnreachableError(
        `the router admin API at ${this.base} did not answer ${method} ${path}: ${reasonOf(error)}`,
        { cause: error },
      );
    }
    if (response.status === 204) return undefined;
    const text = await response.text();
    const parsed = parseJson(text);
    if (response.ok) return parsed;
    throw this.errorFor(response.status, method, path, parsed ?? text);
  }

  private errorFor(status: number, method: string, path: string, body: unknown): Error {
    const problem = problemResponse.safeParse(body);
    const detail = problem.success ? (problem.data.detail ?? '') : String(body).slice(0, 500);
    if (status === 404) return new NotFoundError(detail);
    if (status === 409) return new ConflictError(detail);
    if (status === 400 && problem.success && problem.data.errors !== undefined) {
      return new RouteValidationError(problem.data.errors);
    }
    return new ExternalServiceError(
      `the router answered ${method} ${path} with ${status}: ${detail}`,
    );
  }

  private parse<T extends z.ZodTypeAny>(schema: T, body: unknown): z.infer<T> {
    const parsed = schema.safeParse(body);
    if (parsed.success) return parsed.data;
    throw new ExternalServiceError(
      `the router admin API answered something unexpected: ${parsed.error.issues[0]?.message ?? ''}`,
    );
  }
}

function segment(name: string): string {
  return encodeURIComponent(name);
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function reasonOf(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'timed out';
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error && 'code' in cause) return String(cause.code);
  return error instanceof Error ? error.message : String(error);
}
