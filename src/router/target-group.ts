import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { GroupCounters } from './counters.js';
import { initialHealth, nextHealth, type CheckResult } from './health-judge.js';
import type { HealthChecker } from './health-checker.js';
import type { RouterEvents } from './router-events.js';
import type { GroupSample, RouterMetrics } from './router-metrics.js';
import type { TargetGroupState } from './router-state.js';
import { Target, type TargetOwner } from './target.js';
import type { HealthCheckSpec, HealthState, TargetHealth } from './traffic-router.js';

export interface TargetGroupOptions {
  clock: Clock;
  checker: HealthChecker;
  metrics: RouterMetrics;
  events: RouterEvents;
  logger: Logger;
}

/**
 * A target group at run time: its targets with their health and drain marks, round-robin
 * over the ones that may take requests, and its counters. The lists the proxy picks from
 * are rebuilt whenever a target's state changes, so a pick is a short loop.
 */
export class TargetGroup implements TargetOwner {
  readonly counters: GroupCounters;
  private healthCheck: HealthCheckSpec;
  private readonly targets = new Map<string, Target>();
  /** Healthy and routable: where requests go. */
  private healthy: readonly Target[] = [];
  /** Routable whatever their health: where requests go when the listener fails open. */
  private routable: readonly Target[] = [];
  private cursor = 0;

  constructor(
    state: TargetGroupState,
    private readonly options: TargetGroupOptions,
  ) {
    this.counters = new GroupCounters(state.name, options.clock, options.metrics);
    this.healthCheck = state.healthCheck;
    this.apply(state);
  }

  get name(): string {
    return this.counters.group;
  }

  /**
   * Makes the targets match `state`: new ones start `initial` and are checked at once;
   * kept ones keep their health (and get the new health check, if it changed); removed
   * ones and ones whose address changed are retired.
   */
  apply(state: TargetGroupState): void {
    const checkChanged = JSON.stringify(state.healthCheck) !== JSON.stringify(this.healthCheck);
    this.healthCheck = state.healthCheck;
    const wanted = new Map(state.targets.map((spec) => [spec.id, spec]));
    for (const [id, target] of this.targets) {
      const spec = wanted.get(id);
      if (spec === undefined || spec.host !== target.spec.host || spec.port !== target.spec.port) {
        this.remove(target);
      }
    }
    const now = this.options.clock.now();
    const draining = new Set(state.draining);
    for (const spec of state.targets) {
      let target = this.targets.get(spec.id);
      if (target === undefined) {
        target = new Target(this, spec, { health: initialHealth(now) });
        this.targets.set(spec.id, target);
        this.watch(target);
      } else if (checkChanged) {
        this.watch(target);
      }
      if (draining.has(spec.id)) target.drain(now);
    }
    this.refresh();
  }

  /** The next target by round-robin, skipping `exclude`; `failOpen` ignores health. */
  pick(exclude: ReadonlySet<Target> | undefined, failOpen: boolean): Target | undefined {
    const list = failOpen ? this.routable : this.healthy;
    for (let tries = 0; tries < list.length; tries++) {
      const target = list[this.cursor++ % list.length];
      if (target !== undefined && exclude?.has(target) !== true) return target;
    }
    return undefined;
  }

  hasCandidate(exclude: ReadonlySet<Target> | undefined, failOpen: boolean): boolean {
    const list = failOpen ? this.routable : this.healthy;
    if (exclude === undefined || exclude.size === 0) return list.length > 0;
    return list.some((target) => !exclude.has(target));
  }

  reportRefused(target: Target): void {
    if (this.targets.get(target.spec.id) !== target) return;
    this.judge(target, { kind: 'refused', at: this.options.clock.now() });
  }

  /** Marks the targets draining (they get no new requests) and answers them. */
  drain(ids: readonly string[] | 'all'): Target[] {
    const now = this.options.clock.now();
    const targets =
      ids === 'all' ? [...this.targets.values()] : ids.flatMap((id) => this.targets.get(id) ?? []);
    for (const target of targets) {
      if (target.draining) continue;
      target.drain(now);
      this.options.events.emit({
        type: 'target-state',
        group: this.name,
        target: target.spec.id,
        state: 'draining',
      });
    }
    this.refresh();
    return targets;
  }

  health(): TargetHealth[] {
    return [...this.targets.values()].map((target) => target.view());
  }

  sample(): GroupSample {
    const targets: Record<HealthState, number> = {
      initial: 0,
      healthy: 0,
      unhealthy: 0,
      draining: 0,
    };
    let inFlight = 0;
    for (const target of this.targets.values()) {
      targets[target.state]++;
      inFlight += target.inFlight;
    }
    return { group: this.name, targets, inFlight };
  }

  /** Stops checking and retires every target; in-flight requests finish on their own. */
  close(): void {
    for (const target of [...this.targets.values()]) this.remove(target);
    this.options.metrics.removeGroup(this.name);
  }

  private remove(target: Target): void {
    this.targets.delete(target.spec.id);
    this.options.checker.unwatch(this.keyOf(target));
    target.retire();
    this.refresh();
  }

  private watch(target: Target): void {
    this.options.checker.watch(this.keyOf(target), target.spec, this.healthCheck, (result) =>
      this.judge(target, result),
    );
  }

  private judge(target: Target, result: CheckResult): void {
    const before = target.state;
    target.health = nextHealth(target.health, result, this.healthCheck);
    const { events } = this.options;
    events.emit({ type: 'health-check', group: this.name, target: target.spec.id, result });
    if (target.state === before) return;
    this.refresh();
    const { reason } = target.health;
    this.options.logger.info(
      { group: this.name, target: target.spec.id, from: before, to: target.state, reason },
      'target health changed',
    );
    events.emit({
      type: 'target-state',
      group: this.name,
      target: target.spec.id,
      state: target.state,
      ...(reason === undefined ? {} : { reason }),
    });
  }

  private refresh(): void {
    const all = [...this.targets.values()];
    this.routable = all.filter((target) => target.routable);
    this.healthy = all.filter((target) => target.eligible);
  }

  private keyOf(target: Target): string {
    return `${this.name}/${target.spec.id}`;
  }
}
