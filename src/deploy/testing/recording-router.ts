import { request } from 'node:http';
import { statusClassOf } from '../../router/counters.js';
import { latencySlot } from '../../router/latency-histogram.js';
import type { ServerErrorRetry } from '../../router/retry-policy.js';
import { RollingWindow, type WindowBucket, type WindowField } from '../../router/rolling-window.js';
import { systemClock, type Clock } from '../../shared/clock.js';
import { ConflictError, ExternalServiceError, NotFoundError } from '../../shared/errors.js';
import type {
  DrainResult,
  HealthState,
  ListenerSpec,
  TargetGroupCounters,
  TargetGroupSpec,
  TargetHealth,
  TargetSpec,
  TrafficRouter,
  WeightedGroup,
} from '../../router/traffic-router.js';

/** The router was called in a way the TrafficRouter contract does not allow. */
export class RouterMisuseError extends Error {}

export type RouterCall =
  | { op: 'putListener'; listener: string }
  | { op: 'removeListener'; listener: string }
  | { op: 'putTargetGroup'; group: string; targets: string[] }
  | {
      op: 'applyWeights';
      listener: string;
      split: WeightedGroup[];
      /** Healthy targets of each group named with weight, when the split was applied. */
      healthy: Record<string, number>;
      serverErrorRetry?: ServerErrorRetry;
    }
  | { op: 'drain'; group: string }
  | { op: 'removeTargetGroup'; group: string };

interface TargetState {
  spec: TargetSpec;
  state: Exclude<HealthState, 'draining'>;
  since: number;
  registeredAt: number;
  successes: number;
  failures: number;
  reason?: string;
  timer?: NodeJS.Timeout;
}

interface GroupState {
  spec: TargetGroupSpec;
  targets: Map<string, TargetState>;
  draining: Set<string>;
}

/**
 * A TrafficRouter for tests, honest about the contract but proxying nothing: it keeps the
 * desired state (listeners, splits, groups, drains), really checks every target's health over
 * HTTP on its own timers (as the router process would: not the control plane's clock), and
 * refuses misuse the way the built-in router does (weights that do not add up to 100, unknown
 * groups or listeners, removing a group that still has weight). Every refusal is also kept in
 * `complaints`, so that a caller that swallows errors still fails its test.
 */
export class RecordingRouter implements TrafficRouter {
  constructor(private readonly clock: Clock = systemClock()) {}

  readonly calls: RouterCall[] = [];
  readonly complaints: string[] = [];
  private readonly listeners = new Map<string, { spec: ListenerSpec; split: WeightedGroup[] }>();
  private readonly groups = new Map<string, GroupState>();
  private closed = false;
  private readonly windows = new Map<string, RollingWindow>();
  /** While set, every call fails as an unreachable router does (not a misuse: no complaint). */
  unreachable = false;

  async putListener(listener: ListenerSpec): Promise<void> {
    this.open();
    const clash = [...this.listeners.values()].find(
      (other) => other.spec.port === listener.port && other.spec.name !== listener.name,
    );
    if (clash !== undefined) {
      throw this.complain(new ConflictError(`port ${listener.port} is used by ${clash.spec.name}`));
    }
    const split = this.listeners.get(listener.name)?.split ?? [];
    this.listeners.set(listener.name, { spec: { ...listener }, split });
    this.calls.push({ op: 'putListener', listener: listener.name });
  }

  /** Idempotent like the built-in router: removing a missing listener succeeds (unrecorded). */
  async removeListener(listener: string): Promise<void> {
    this.open();
    if (!this.listeners.delete(listener)) return;
    this.calls.push({ op: 'removeListener', listener });
  }

  async putTargetGroup(group: TargetGroupSpec): Promise<void> {
    this.open();
    const ids = group.targets.map((target) => target.id);
    if (new Set(ids).size !== ids.length) {
      throw this.complain(new RouterMisuseError(`group ${group.name} names a target twice`));
    }
    const existing = this.groups.get(group.name);
    const targets = new Map<string, TargetState>();
    for (const spec of group.targets) {
      const kept = existing?.targets.get(spec.id);
      if (kept !== undefined && kept.spec.port === spec.port && kept.spec.host === spec.host) {
        targets.set(spec.id, kept);
        continue;
      }
      if (kept !== undefined) clearTimeout(kept.timer);
      const now = Date.now();
      targets.set(spec.id, {
        spec,
        state: 'initial',
        since: now,
        registeredAt: now,
        successes: 0,
        failures: 0,
      });
    }
    for (const [id, old] of existing?.targets ?? []) {
      if (targets.get(id) !== old) clearTimeout(old.timer);
    }
    const state: GroupState = {
      spec: group,
      targets,
      draining: new Set([...(existing?.draining ?? [])].filter((id) => targets.has(id))),
    };
    this.groups.set(group.name, state);
    for (const target of targets.values()) {
      if (target.timer === undefined) this.check(state, target);
    }
    this.calls.push({ op: 'putTargetGroup', group: group.name, targets: ids });
  }

  async applyWeights(
    listener: string,
    split: readonly WeightedGroup[],
    options: { serverErrorRetry?: ServerErrorRetry } = {},
  ): Promise<void> {
    this.open();
    const entry = this.listeners.get(listener);
    if (entry === undefined)
      throw this.complain(new NotFoundError(`there is no listener ${listener}`));
    const problems: string[] = [];
    if (split.length === 0) problems.push('names no target group');
    for (const { group, weight } of split) {
      if (!this.groups.has(group)) problems.push(`there is no target group ${group}`);
      if (!Number.isInteger(weight) || weight < 0 || weight > 100)
        problems.push(`weight ${weight} of ${group}`);
    }
    if (new Set(split.map((e) => e.group)).size !== split.length)
      problems.push('names a group twice');
    const total = split.reduce((sum, e) => sum + e.weight, 0);
    if (total !== 100) problems.push(`weights add up to ${total}`);
    if (problems.length > 0) {
      throw this.complain(
        new RouterMisuseError(`applyWeights ${listener}: ${problems.join('; ')}`),
      );
    }
    entry.split = split.map(({ group, weight }) => ({ group, weight }));
    const healthy: Record<string, number> = {};
    for (const { group, weight } of split) {
      if (weight > 0) healthy[group] = this.healthyCount(group);
    }
    this.calls.push({
      op: 'applyWeights',
      listener,
      split: entry.split,
      healthy,
      ...(options.serverErrorRetry === undefined
        ? {}
        : { serverErrorRetry: options.serverErrorRetry }),
    });
  }

  async verifyWeights(listener: string): Promise<WeightedGroup[]> {
    this.open();
    const entry = this.listeners.get(listener);
    if (entry === undefined) throw new NotFoundError(`there is no listener ${listener}`);
    return entry.split.map((e) => ({ ...e }));
  }

  async drain(
    group: string,
    targetIds: readonly string[] | 'all',
    _timeoutMs: number,
  ): Promise<DrainResult> {
    this.open();
    const state = this.groups.get(group);
    if (state === undefined) throw new NotFoundError(`there is no target group ${group}`);
    const ids = targetIds === 'all' ? [...state.targets.keys()] : targetIds;
    for (const id of ids) {
      if (!state.targets.has(id))
        throw this.complain(new NotFoundError(`group ${group} has no target ${id}`));
      state.draining.add(id);
    }
    this.calls.push({ op: 'drain', group });
    return { drained: 0, abandoned: 0 };
  }

  /** Idempotent like the built-in router's client: removing a missing group succeeds. */
  async removeTargetGroup(group: string): Promise<void> {
    this.open();
    for (const [name, entry] of this.listeners) {
      const weight = entry.split.find((e) => e.group === group)?.weight ?? 0;
      if (weight > 0) {
        throw this.complain(
          new ConflictError(`group ${group} still has weight ${weight} on ${name}`),
        );
      }
    }
    const state = this.groups.get(group);
    if (state === undefined) return;
    for (const target of state.targets.values()) clearTimeout(target.timer);
    this.groups.delete(group);
    for (const entry of this.listeners.values())
      entry.split = entry.split.filter((e) => e.group !== group);
    this.calls.push({ op: 'removeTargetGroup', group });
  }

  async health(group: string): Promise<TargetHealth[]> {
    this.open();
    const state = this.groups.get(group);
    if (state === undefined)
      throw this.complain(new NotFoundError(`there is no target group ${group}`));
    return [...state.targets.values()].map((target) => ({
      id: target.spec.id,
      state: state.draining.has(target.spec.id) ? 'draining' : target.state,
      ...(target.reason === undefined ? {} : { reason: target.reason }),
      since: new Date(target.since).toISOString(),
    }));
  }

  async counters(group: string): Promise<TargetGroupCounters> {
    this.open();
    if (!this.groups.has(group))
      throw this.complain(new NotFoundError(`there is no target group ${group}`));
    return {
      requests: 0,
      status2xx: 0,
      status3xx: 0,
      status4xx: 0,
      status5xx: 0,
      upstreamErrors: 0,
      retries: 0,
      latencyMs: [],
    };
  }

  async window(group: string, sinceMs?: number): Promise<WindowBucket[]> {
    this.open();
    if (!this.groups.has(group))
      throw this.complain(new NotFoundError(`there is no target group ${group}`));
    return this.windowOf(group).buckets(sinceMs);
  }

  /**
   * Plays traffic to a group, as if the router had proxied it now (by the clock given to
   * the constructor): `count` responses with `status` (0: the upstream failed), each
   * taking `latencyMs`.
   */
  serve(group: string, traffic: { status: number; count?: number; latencyMs?: number }): void {
    const window = this.windowOf(group);
    const field = traffic.status === 0 ? undefined : statusFieldOf(traffic.status);
    for (let i = 0; i < (traffic.count ?? 1); i++) {
      if (traffic.status === 0) {
        window.add('upstreamErrors');
        window.addResponse('status5xx', latencySlot(traffic.latencyMs ?? 1));
      } else {
        window.addResponse(field, latencySlot(traffic.latencyMs ?? 1));
      }
    }
  }

  private windowOf(group: string): RollingWindow {
    let window = this.windows.get(group);
    if (window === undefined) {
      window = new RollingWindow(this.clock);
      this.windows.set(group, window);
    }
    return window;
  }

  /** The listener's split as applied; undefined when there is no such listener. */
  route(listener: string): WeightedGroup[] | undefined {
    return this.listeners.get(listener)?.split.map((e) => ({ ...e }));
  }

  /** The targets registered in a group (none for an unknown group). */
  targetsOf(group: string): TargetSpec[] {
    return [...(this.groups.get(group)?.targets.values() ?? [])].map((t) => ({ ...t.spec }));
  }

  groupNames(): string[] {
    return [...this.groups.keys()].sort();
  }

  /** The target a listener would send a request to now (the heaviest healthy group's first). */
  targetOf(listener: string): TargetSpec | undefined {
    const split = [...(this.listeners.get(listener)?.split ?? [])].sort(
      (a, b) => b.weight - a.weight,
    );
    for (const { group, weight } of split) {
      const state = this.groups.get(group);
      const target = [...(state?.targets.values() ?? [])].find(
        (t) => t.state === 'healthy' && state?.draining.has(t.spec.id) === false,
      );
      if (weight > 0 && target !== undefined) return target.spec;
    }
    return undefined;
  }

  /** Stops the health checks; later calls are misuse. */
  close(): void {
    this.closed = true;
    for (const group of this.groups.values()) {
      for (const target of group.targets.values()) clearTimeout(target.timer);
    }
  }

  private healthyCount(group: string): number {
    return [...(this.groups.get(group)?.targets.values() ?? [])].filter(
      (t) => t.state === 'healthy',
    ).length;
  }

  private check(group: GroupState, target: TargetState): void {
    const { healthCheck } = group.spec;
    target.timer = setTimeout(
      () => {
        void probe(target.spec, healthCheck.path, healthCheck.timeoutMs).then((status) => {
          if (
            this.closed ||
            this.groups.get(group.spec.name)?.targets.get(target.spec.id) !== target
          )
            return;
          const passed =
            status !== undefined &&
            healthCheck.matcher.some(([from, to]) => status >= from && status <= to);
          judge(target, passed, status === undefined ? 'no answer' : `status ${status}`, group);
          this.check(group, target);
        });
      },
      target.timer === undefined ? 0 : healthCheck.intervalMs,
    );
  }

  private open(): void {
    if (this.closed) throw this.complain(new RouterMisuseError('called after close'));
    if (this.unreachable) {
      throw new ExternalServiceError('the router is not reachable: connect ECONNREFUSED');
    }
  }

  private complain<E extends Error>(error: E): E {
    this.complaints.push(error.message);
    return error;
  }
}

/** As an ALB target group judges: one pass makes a new target healthy; thresholds after that. */
function judge(target: TargetState, passed: boolean, result: string, group: GroupState): void {
  const { healthCheck } = group.spec;
  const now = Date.now();
  const move = (state: TargetState['state']): void => {
    if (target.state !== state) Object.assign(target, { state, since: now });
  };
  if (passed) {
    target.successes++;
    target.failures = 0;
    delete target.reason;
    if (target.state === 'initial' || target.successes >= healthCheck.healthyThreshold)
      move('healthy');
    return;
  }
  target.successes = 0;
  target.reason = result;
  if (target.state === 'initial' && now < target.registeredAt + healthCheck.gracePeriodMs) return;
  target.failures++;
  if (target.failures >= healthCheck.unhealthyThreshold) move('unhealthy');
}

function probe(target: TargetSpec, path: string, timeoutMs: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(
      { host: target.host, port: target.port, path, timeout: timeoutMs, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
        res.on('error', () => resolve(undefined));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

function statusFieldOf(status: number): WindowField | undefined {
  const statusClass = statusClassOf(status);
  return statusClass === '1xx' ? undefined : (`status${statusClass}` as const);
}
