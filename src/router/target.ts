import { Agent } from 'node:http';
import type { GroupCounters } from './counters.js';
import type { TargetHealthRecord } from './health-judge.js';
import type { HealthState, TargetHealth, TargetSpec } from './traffic-router.js';

/** Upstream connections per target: enough for a busy instance, bounded so one cannot take every socket. */
export const MAX_SOCKETS_PER_TARGET = 256;
/** An idle upstream connection is closed after this (sooner when the upstream announces a shorter keep-alive). */
export const UPSTREAM_IDLE_TIMEOUT_MS = 30_000;

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
  readonly agent: Agent;
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
    this.agent = new Agent({
      keepAlive: true,
      maxSockets: MAX_SOCKETS_PER_TARGET,
      maxFreeSockets: MAX_SOCKETS_PER_TARGET,
      timeout: UPSTREAM_IDLE_TIMEOUT_MS,
      scheduling: 'lifo',
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
    if (this.inFlight === 0) this.agent.destroy();
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

  private becameIdle(): void {
    if (this.retired) this.agent.destroy();
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
