import type { Clock } from '../shared/clock.js';
import { NotFoundError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { Semaphore } from '../shared/semaphore.js';
import { HealthChecker, type HealthProbe } from './health-checker.js';
import { ListenerRoute } from './listener-route.js';
import { DEFAULT_CLOSE_GRACE_MS, ProxyListener } from './proxy.js';
import type { ServerErrorRetry } from './retry-policy.js';
import type { WindowBucket } from './rolling-window.js';
import { RouterEvents, type RouterEventListener } from './router-events.js';
import { RouterMetrics } from './router-metrics.js';
import {
  emptyRouterState,
  findListener,
  findTargetGroup,
  withDraining,
  withListener,
  withoutListener,
  withoutTargetGroup,
  withTargetGroup,
  withWeights,
  type ListenerState,
  type RouterState,
  type TargetGroupState,
} from './router-state.js';
import type { StateFile } from './state-file.js';
import { TargetGroup } from './target-group.js';
import type {
  DrainResult,
  ListenerSpec,
  TargetGroupCounters,
  TargetGroupSpec,
  TargetHealth,
  WeightedGroup,
} from './traffic-router.js';

export interface DataPlaneOptions {
  stateFile: StateFile;
  clock: Clock;
  logger: Logger;
  trustForwardedHeaders?: boolean;
  /** The active health check; the real HTTP one unless a test swaps it. */
  probe?: HealthProbe;
  processMetrics?: boolean;
}

/**
 * The router's running state: listeners, target groups and their routes, kept in step
 * with the routing table. Every change is computed as the next table (router-state.ts),
 * written to disk, and only then applied (write-ahead): a change the router reported done
 * survives a restart, and a change that could not be saved never took effect. Changes run
 * one at a time; reads and proxying never wait for them.
 */
export class DataPlane {
  readonly events = new RouterEvents();
  readonly metrics: RouterMetrics;
  private state: RouterState = emptyRouterState();
  private readonly groups = new Map<string, TargetGroup>();
  private readonly listeners = new Map<string, ProxyListener>();
  /** Listeners the table no longer has, closing while their requests in flight finish. */
  private readonly retiring = new Set<ProxyListener>();
  private readonly checker: HealthChecker;
  private readonly changes = new Semaphore(1);

  constructor(private readonly options: DataPlaneOptions) {
    this.metrics = new RouterMetrics(() => [...this.groups.values()].map((g) => g.sample()), {
      processMetrics: options.processMetrics ?? false,
    });
    this.checker = new HealthChecker({
      clock: options.clock,
      ...(options.probe === undefined ? {} : { probe: options.probe }),
    });
  }

  /** Loads routes.json and opens its listeners; a port that cannot be bound fails the start. */
  async restore(): Promise<void> {
    const state = await this.options.stateFile.load();
    for (const group of state.targetGroups) this.groups.set(group.name, this.newGroup(group));
    try {
      for (const listener of state.listeners) {
        const proxy = this.newListener(listener);
        await proxy.listen();
        this.listeners.set(listener.name, proxy);
        proxy.route = this.routeFor(listener);
      }
    } catch (error) {
      await this.close(0);
      throw error;
    }
    this.state = state;
    this.options.logger.info(
      { listeners: state.listeners.length, targetGroups: state.targetGroups.length },
      'routes restored',
    );
  }

  snapshot(): RouterState {
    return this.state;
  }

  putListener(spec: ListenerSpec): Promise<ListenerState> {
    return this.change(async () => {
      const next = withListener(this.state, spec);
      const listener = findListener(next, spec.name);
      const current = this.listeners.get(spec.name);
      if (current !== undefined && current.port === spec.port && current.host === spec.host) {
        this.commit(next);
        return listener;
      }
      // The same port on another host cannot be bound next to the old one: free it first
      // (closing releases the port at once; in-flight requests still finish).
      if (current !== undefined && current.port === spec.port) void this.retire(current);
      const proxy = this.newListener(listener);
      await proxy.listen();
      try {
        this.commit(next);
      } catch (error) {
        await proxy.close(0);
        throw error;
      }
      proxy.route = this.routeFor(listener);
      this.listeners.set(spec.name, proxy);
      if (current !== undefined && current.port !== spec.port) void this.retire(current);
      return listener;
    });
  }

  /**
   * Removes the listener from the table (persisted first, like every change) and closes it:
   * the port is free at once, and requests in flight get DEFAULT_CLOSE_GRACE_MS to finish.
   * That wait happens outside the change, so other changes do not queue behind it; the call
   * resolves when the listener is closed. A listener the table does not have is already
   * removed: nothing is written.
   */
  async removeListener(name: string): Promise<void> {
    const removal = await this.change(async () => {
      const next = withoutListener(this.state, name);
      if (next === this.state) return undefined;
      this.commit(next);
      const proxy = this.listeners.get(name);
      this.listeners.delete(name);
      if (proxy === undefined) return undefined;
      // Wrapped: a promise returned bare would be awaited inside the change.
      const removed = { closed: this.retire(proxy) };
      this.events.emit({ type: 'listener-removed', listener: name, port: proxy.port });
      this.options.logger.info({ listener: name, port: proxy.port }, 'listener removed');
      return removed;
    });
    await removal?.closed;
  }

  putTargetGroup(spec: TargetGroupSpec): Promise<TargetGroupState> {
    return this.change(async () => {
      const next = withTargetGroup(this.state, spec);
      this.commit(next);
      const group = findTargetGroup(next, spec.name);
      const existing = this.groups.get(spec.name);
      if (existing === undefined) this.groups.set(spec.name, this.newGroup(group));
      else existing.apply(group);
      return group;
    });
  }

  applyWeights(
    listenerName: string,
    split: readonly WeightedGroup[],
    serverErrorRetry?: ServerErrorRetry,
  ): Promise<WeightedGroup[]> {
    return this.change(async () => {
      const next = withWeights(this.state, listenerName, split, serverErrorRetry);
      this.commit(next);
      const listener = findListener(next, listenerName);
      const proxy = this.listeners.get(listenerName);
      if (proxy !== undefined) proxy.route = this.routeFor(listener);
      return [...listener.split];
    });
  }

  weights(listenerName: string): WeightedGroup[] {
    return [...findListener(this.state, listenerName).split];
  }

  /**
   * Takes the targets out of rotation (persisted: they stay out after a restart), closes
   * their upgraded connections (long-lived, as kamal-proxy does), and waits for their
   * in-flight requests up to `timeoutMs`; what is still in flight then is cut off.
   */
  async drain(
    groupName: string,
    targetIds: readonly string[] | 'all',
    timeoutMs: number,
  ): Promise<DrainResult> {
    // The timeout runs from the call, so that it bounds the whole drain.
    const deadline = this.deadline(timeoutMs);
    try {
      const targets = await this.change(async () => {
        const next = withDraining(this.state, groupName, targetIds);
        this.commit(next);
        return this.group(groupName).drain(targetIds);
      });
      let abandoned = targets.reduce((sum, target) => sum + target.closeUpgrades(), 0);
      const idle = Promise.all(targets.map((target) => target.whenIdle())).then(() => true);
      const finished = await Promise.race([idle, deadline.passed.then(() => false)]);
      if (!finished) abandoned += targets.reduce((sum, target) => sum + target.abortRequests(), 0);
      this.options.logger.info(
        { group: groupName, targets: targets.map((t) => t.spec.id), abandoned },
        'targets drained',
      );
      return { drained: targets.length, abandoned };
    } finally {
      deadline.cancel();
    }
  }

  removeTargetGroup(groupName: string): Promise<void> {
    return this.change(async () => {
      const next = withoutTargetGroup(this.state, groupName);
      this.commit(next);
      for (const listener of next.listeners) {
        const proxy = this.listeners.get(listener.name);
        if (proxy !== undefined) proxy.route = this.routeFor(listener);
      }
      this.groups.get(groupName)?.close();
      this.groups.delete(groupName);
    });
  }

  health(groupName: string): TargetHealth[] {
    return this.group(groupName).health();
  }

  counters(groupName: string): TargetGroupCounters {
    return this.group(groupName).counters.snapshot();
  }

  window(groupName: string, sinceMs?: number): WindowBucket[] {
    return this.group(groupName).counters.window(sinceMs);
  }

  subscribe(listener: RouterEventListener): () => void {
    return this.events.subscribe(listener);
  }

  /**
   * Stops health checks and closes every listener, in-flight requests getting `graceMs`;
   * listeners being removed get no more than that either.
   */
  async close(graceMs?: number): Promise<void> {
    this.checker.close();
    const open = [...this.listeners.values(), ...this.retiring];
    await Promise.all(open.map((listener) => listener.close(graceMs)));
    this.listeners.clear();
    for (const group of this.groups.values()) group.close();
    this.groups.clear();
  }

  private async change<T>(work: () => Promise<T>): Promise<T> {
    const release = await this.changes.acquire();
    try {
      return await work();
    } finally {
      release();
    }
  }

  /** Closes a listener the table no longer has (its port at once); `close` can cut it short. */
  private retire(proxy: ProxyListener): Promise<void> {
    this.retiring.add(proxy);
    return proxy.close(DEFAULT_CLOSE_GRACE_MS).finally(() => this.retiring.delete(proxy));
  }

  /** Saves `next` (synchronously, see StateFile) and makes it the current table. */
  private commit(next: RouterState): void {
    this.options.stateFile.save(next);
    this.state = next;
  }

  private group(name: string): TargetGroup {
    const group = this.groups.get(name);
    if (group === undefined) throw new NotFoundError(`there is no target group ${name}`);
    return group;
  }

  private routeFor(listener: ListenerState): ListenerRoute {
    const entries = listener.split.flatMap((entry) => {
      const group = this.groups.get(entry.group);
      return group === undefined ? [] : [{ group, weight: entry.weight }];
    });
    return new ListenerRoute(entries, listener.serverErrorRetry);
  }

  private newGroup(state: TargetGroupState): TargetGroup {
    const { clock, logger } = this.options;
    return new TargetGroup(state, {
      clock,
      logger,
      checker: this.checker,
      metrics: this.metrics,
      events: this.events,
    });
  }

  private newListener(listener: ListenerState): ProxyListener {
    return new ProxyListener({
      name: listener.name,
      port: listener.port,
      ...(listener.host === undefined ? {} : { host: listener.host }),
      clock: this.options.clock,
      logger: this.options.logger,
      trustForwardedHeaders: this.options.trustForwardedHeaders ?? false,
    });
  }

  private deadline(ms: number): { passed: Promise<void>; cancel: () => void } {
    const { clock } = this.options;
    let timer: ReturnType<Clock['setTimeout']> | undefined;
    const passed = new Promise<void>((resolve) => {
      timer = clock.setTimeout(resolve, ms);
    });
    return {
      passed,
      cancel: () => {
        if (timer !== undefined) clock.clearTimeout(timer);
      },
    };
  }
}
