import { Pool } from 'undici';
import type { GroupCounters } from './counters.js';
import type { TargetHealthRecord } from './health-judge.js';
import type { HealthState, TargetHealth, TargetSpec } from './traffic-router.js';

/** Upstream connections per target: enough for a busy instance, bounded so one cannot take every socket. */
export const MAX_SOCKETS_PER_TARGET = 256;
/**
 * An idle upstream connection is closed after this when the upstream announces its own
 * keep-alive timeout (`Keep-Alive: timeout=5`, as Node and nginx do), one second before
 * the upstream would close it, so that the router never reuses a connection the upstream
 * is closing at that moment. Upstreams that announce nothing get UPSTREAM_IDLE_DEFAULT_MS.
 */
export const UPSTREAM_IDLE_TIMEOUT_MS = 30_000;
/** Idle timeout of upstream connections when the upstream does not announce one (undici's default). */
export const UPSTREAM_IDLE_DEFAULT_MS = 4_000;

/** What a target reports to the group that owns it. */
export interface TargetOwner {
  readonly name: string;
  readonly counters: GroupCounters;
  /** Live traffic found the target's port refused. */
  reportRefused(target: Target): void;
}

/** A request (or upgraded connection) being served by a target; a drain can cut it off. */
export interface InFlight {
  abort(): void;
}

/**
 * One instance behind the router: its keep-alive connection pool, its health, whether it
 * is draining, and the requests it is serving now (for drains to wait on).
 */
export class Target {
  /** Keep-alive connections to the target (undici: its HTTP/1.1 client costs a third of `node:http`'s per request). */
  readonly pool: Pool;
  health: TargetHealthRecord;
  /** When the drain began (epoch ms); undefined while not draining. */
  private drainingSince: number | undefined;
  private retired = false;
  private readonly requests = new Set<InFlight>();
  private readonly upgrades = new Set<InFlight>();
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly owner: TargetOwner,
    readonly spec: TargetSpec,
    options: { health: TargetHealthRecord; drainingSince?: number },
  ) {
    this.health = options.health;
    this.drainingSince = options.drainingSince;
    const host = spec.host.includes(':') ? `[${spec.host}]` : spec.host;
    this.pool = new Pool(`http://${host}:${spec.port}`, {
      connections: MAX_SOCKETS_PER_TARGET,
      pipelining: 1,
      keepAliveTimeout: UPSTREAM_IDLE_DEFAULT_MS,
      keepAliveMaxTimeout: UPSTREAM_IDLE_TIMEOUT_MS,
      keepAliveTimeoutThreshold: 1_000,
      // Streams (server-sent events) and slow uploads take as long as they take; a drain's
      // timeout is what cuts a request off.
      headersTimeout: 0,
      bodyTimeout: 0,
      strictContentLength: true,
    });
  }

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  /** Takes the target out of rotation for good (until it leaves its group). */
  drain(at: number): void {
    this.drainingSince ??= at;
  }

  /** Can take new requests: not draining and still in its group (health aside). */
  get routable(): boolean {
    return !this.draining && !this.retired;
  }

  /** Takes new requests in normal operation: routable and healthy. */
  get eligible(): boolean {
    return this.routable && this.health.status === 'healthy';
  }

  get state(): HealthState {
    return this.draining ? 'draining' : this.health.status;
  }

  get inFlight(): number {
    return this.requests.size + this.upgrades.size;
  }

  /** Counts `request` as in flight until the returned function is called (once or more). */
  track(request: InFlight, kind: 'request' | 'upgrade' = 'request'): () => void {
    const set = kind === 'upgrade' ? this.upgrades : this.requests;
    set.add(request);
    return () => {
      if (!set.delete(request)) return;
      if (this.inFlight === 0) this.becameIdle();
    };
  }

  /** Resolves once nothing is in flight. */
  whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Cuts off every request in flight; answers how many there were. */
  abortRequests(): number {
    const cut = [...this.requests];
    for (const request of cut) request.abort();
    return cut.length;
  }

  /** Closes upgraded connections (WebSockets): long-lived, they would hold a drain to its timeout. */
  closeUpgrades(): number {
    const cut = [...this.upgrades];
    for (const upgrade of cut) upgrade.abort();
    return cut.length;
  }

  /** Out of its group for good: no new requests; the pool closes once in-flight ones are done. */
  retire(): void {
    this.retired = true;
    if (this.inFlight === 0) this.closePool();
  }

  view(): TargetHealth {
    const reason = this.draining ? 'draining' : this.health.reason;
    return {
      id: this.spec.id,
      state: this.state,
      ...(reason === undefined ? {} : { reason }),
      since: new Date(this.drainingSince ?? this.health.since).toISOString(),
    };
  }

  private closePool(): void {
    // Nothing is in flight: this only closes idle keep-alive connections.
    this.pool.destroy().catch(() => undefined);
  }

  private becameIdle(): void {
    if (this.retired) this.closePool();
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
