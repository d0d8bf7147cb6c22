import { mkdtempSync, rmSync } from 'node:fs';
import { request, type Agent, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../shared/clock.js';
import { silentLogger } from '../../shared/logger.js';
import { HttpTrafficRouter } from '../http-traffic-router.js';
import type { RouterEvent } from '../router-events.js';
import { startRouter, type RunningRouter } from '../router.js';
import type { HealthCheckSpec, HealthState } from '../traffic-router.js';
import {
  freePort,
  HEALTH_PATH,
  startUpstream,
  type Upstream,
  type UpstreamHandler,
} from './upstream.js';

export const ADMIN_TOKEN = 'phx-router-test-token-0123456789abcdef';

/** One immediate check per target, then rarely: enough for tests that do not test health. */
export const QUIET_CHECK: HealthCheckSpec = {
  path: HEALTH_PATH,
  intervalMs: 60_000,
  timeoutMs: 2000,
  healthyThreshold: 2,
  unhealthyThreshold: 2,
  matcher: [[200, 299]],
  gracePeriodMs: 0,
};

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Whether the client sent this request on a kept-alive connection. */
  reused: boolean;
}

/**
 * A real router in a temporary state directory with its admin client, plus helpers that
 * start upstreams for it and wait on the router's events rather than on time.
 */
export class RouterHarness {
  private readonly upstreams: Upstream[] = [];

  private constructor(
    readonly router: RunningRouter,
    readonly client: HttpTrafficRouter,
    readonly stateDirectory: string,
    private readonly ownsDirectory: boolean,
  ) {}

  static async start(
    options: { stateDirectory?: string; clock?: Clock } = {},
  ): Promise<RouterHarness> {
    const stateDirectory = options.stateDirectory ?? mkdtempSync(join(tmpdir(), 'phoenix-router-'));
    const router = await startRouter({
      stateDirectory,
      adminPort: 0,
      adminToken: ADMIN_TOKEN,
      logger: silentLogger(),
      processMetrics: false,
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    });
    const client = new HttpTrafficRouter({ url: router.adminUrl, token: ADMIN_TOKEN });
    return new RouterHarness(router, client, stateDirectory, options.stateDirectory === undefined);
  }

  /** An upstream (see startUpstream) that `close` kills. */
  async upstream(name: string, handler?: UpstreamHandler): Promise<Upstream> {
    const started = await startUpstream(name, handler);
    this.upstreams.push(started);
    return started;
  }

  /** A listener on a free port; answers its URL. */
  async listener(name: string, port?: number): Promise<string> {
    const chosen = port ?? (await freePort());
    await this.client.putListener({ name, port: chosen, host: '127.0.0.1' });
    return `http://127.0.0.1:${chosen}`;
  }

  /**
   * Puts the group with `upstreams` as targets (ids are the upstreams' names) and waits until
   * each is `state` (healthy by default) — the checks run at once on a real clock; on a
   * fake one, call `settle` to run them.
   */
  async group(
    name: string,
    upstreams: readonly Upstream[],
    options: { check?: HealthCheckSpec; waitFor?: HealthState | 'nothing' } = {},
  ): Promise<void> {
    const wanted = options.waitFor ?? 'healthy';
    const ready =
      wanted === 'nothing'
        ? Promise.resolve()
        : this.targetsReach(
            name,
            upstreams.map((upstream) => upstream.name),
            wanted,
          );
    await this.client.putTargetGroup({
      name,
      targets: upstreams.map((upstream) => ({
        id: upstream.name,
        host: '127.0.0.1',
        port: upstream.port,
      })),
      healthCheck: options.check ?? QUIET_CHECK,
    });
    await ready;
  }

  /** Resolves once every target in `ids` has reported `state` (subscribe before acting). */
  targetsReach(group: string, ids: readonly string[], state: HealthState): Promise<void> {
    const waiting = new Set(ids);
    return this.waitFor((event) => {
      if (event.type === 'target-state' && event.group === group && event.state === state) {
        waiting.delete(event.target);
      }
      return waiting.size === 0;
    }).then(() => undefined);
  }

  /** The first event for which `matches` is true, from now on. */
  waitFor(matches: (event: RouterEvent) => boolean): Promise<RouterEvent> {
    return new Promise((resolve) => {
      const unsubscribe = this.router.subscribe((event) => {
        if (!matches(event)) return;
        unsubscribe();
        resolve(event);
      });
    });
  }

  /** Closes the router, then kills the upstreams `upstream` started. */
  async close(): Promise<void> {
    await this.router.close({ graceMs: 0 });
    if (this.ownsDirectory) rmSync(this.stateDirectory, { recursive: true, force: true });
    for (const upstream of this.upstreams.splice(0)) await upstream.kill();
  }
}

/** One request with node:http; `agent` decides keep-alive. Network errors reject. */
export function send(
  url: string,
  options: {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    agent?: Agent;
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const target = new URL(options.path ?? '/', url);
    const req = request(
      target,
      { method: options.method ?? 'GET', headers: options.headers, agent: options.agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            reused: req.reusedSocket,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Counts of each distinct body over `count` sequential requests. */
export async function tally(
  url: string,
  count: number,
  options: Parameters<typeof send>[1] = {},
): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const reply = await send(url, options);
    const key = reply.status === 200 ? reply.body : `status ${reply.status}`;
    seen[key] = (seen[key] ?? 0) + 1;
  }
  return seen;
}
