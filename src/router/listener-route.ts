import type { ServerErrorRetry } from './retry-policy.js';
import type { Target } from './target.js';
import type { TargetGroup } from './target-group.js';
import { WeightedPicker } from './weighted-picker.js';

export interface RouteEntry {
  group: TargetGroup;
  weight: number;
}

/**
 * A listener's split, immutable once built: a weight change builds a new route and swaps
 * it in with one assignment, so every request sees either the old split or the new one,
 * never a moment without targets. A request already under way keeps its target; a retry
 * picks from the route the listener has at that moment.
 *
 * Picking: smooth weighted round-robin over the groups that have a healthy target, then
 * round-robin inside the group. A group without one gets nothing; its share goes to the
 * others. When no group of the split has a healthy target, the listener fails open, as an
 * ALB does: it picks among the groups' non-draining targets whatever their health,
 * because health checks can all fail for reasons that do not stop the targets serving (a
 * shared dependency of /health, a too-short timeout), and a refused connection is retried
 * on the next target anyway. Only when no weighted group has any candidate left (every
 * target draining, crashed and already tried, or excluded) does the listener fall back to
 * the healthy, non-draining targets of the groups it still names with weight 0: blue during
 * a blue/green bake keeps a request alive when a lone green instance crashes. A group that
 * has left the split is never picked. Draining targets are never picked.
 */
export class ListenerRoute {
  private readonly picker: WeightedPicker;
  /** Which entries can take the request, rewritten by every pick (picks never overlap). */
  private readonly available: boolean[];

  constructor(
    readonly entries: readonly RouteEntry[],
    readonly serverErrorRetry?: ServerErrorRetry,
  ) {
    this.picker = new WeightedPicker(entries.map((entry) => entry.weight));
    this.available = entries.map(() => false);
  }

  /** The target for the next request (or retry), never one in `exclude`. */
  pick(exclude?: ReadonlySet<Target>): Target | undefined {
    return (
      this.pickAmong(exclude, false) ?? this.pickAmong(exclude, true) ?? this.pickStandby(exclude)
    );
  }

  /** A healthy target of the named group, for the retry of a canary's 5xx on the stable group. */
  pickInGroup(group: string, exclude?: ReadonlySet<Target>): Target | undefined {
    return this.entries.find((entry) => entry.group.name === group)?.group.pick(exclude, false);
  }

  private pickAmong(
    exclude: ReadonlySet<Target> | undefined,
    failOpen: boolean,
  ): Target | undefined {
    const only = this.entries.length === 1 ? this.entries[0] : undefined;
    if (only !== undefined) return only.weight > 0 ? only.group.pick(exclude, failOpen) : undefined;
    const { available, entries } = this;
    for (let i = 0; i < entries.length; i++) {
      available[i] = entries[i]?.group.hasCandidate(exclude, failOpen) ?? false;
    }
    const index = this.picker.pick(available);
    return index === undefined ? undefined : this.entries[index]?.group.pick(exclude, failOpen);
  }

  /** A healthy target of a weight-0 group of the split, once no weighted group has one. */
  private pickStandby(exclude: ReadonlySet<Target> | undefined): Target | undefined {
    const available = this.entries.map(
      (entry) => entry.weight <= 0 && entry.group.hasCandidate(exclude, false),
    );
    const index = this.picker.pickStandby(available);
    return index === undefined ? undefined : this.entries[index]?.group.pick(exclude, false);
  }
}
