import type { ExecutionMode } from '../config/phoenix-config.js';

export type { ExecutionMode };

export type Admission = { go: true } | { go: false; superseded?: string };

export interface Promotion {
  runId: string;
  stage: string;
}

interface ServiceLane {
  /** queued: the one run in the pipeline, and those waiting in order. */
  active?: string;
  queue: string[];
  /** superseded: who is in each stage, and the one run waiting to enter it. */
  holders: Map<string, string>;
  waiting: Map<string, string>;
}

/**
 * Decides when a service's runs may enter a stage, per execution mode:
 * - parallel: always.
 * - queued: one run in the pipeline at a time; the others wait in arrival order.
 * - superseded: one run per stage; a run waiting to enter a busy stage is replaced by a
 *   newer run that arrives at the same stage (the older one ends `superseded`).
 * Pure bookkeeping: the orchestrator records and performs what it decides.
 */
export class ServiceLanes {
  private readonly lanes = new Map<string, ServiceLane>();

  enter(service: string, mode: ExecutionMode, runId: string, stage: string): Admission {
    const lane = this.lane(service);
    if (mode === 'parallel') return { go: true };
    if (mode === 'queued') {
      if (lane.active === undefined || lane.active === runId) {
        lane.active = runId;
        return { go: true };
      }
      if (!lane.queue.includes(runId)) lane.queue.push(runId);
      return { go: false };
    }
    const holder = lane.holders.get(stage);
    if (holder === undefined || holder === runId) {
      lane.holders.set(stage, runId);
      return { go: true };
    }
    const previous = lane.waiting.get(stage);
    lane.waiting.set(stage, runId);
    return previous === undefined || previous === runId
      ? { go: false }
      : { go: false, superseded: previous };
  }

  /** The run left `stage` (finished it); returns the run that may now enter it, if any. */
  leave(service: string, runId: string, stage: string): Promotion | undefined {
    const lane = this.lane(service);
    if (lane.holders.get(stage) !== runId) return undefined;
    lane.holders.delete(stage);
    const next = lane.waiting.get(stage);
    if (next === undefined) return undefined;
    lane.waiting.delete(stage);
    lane.holders.set(stage, next);
    return { runId: next, stage };
  }

  /**
   * The run is over (finished, failed, cancelled) or withdrawn while waiting: frees all it
   * held and returns the runs that may now go on (queued mode's next run, superseded mode's
   * waiters of the stages it held).
   */
  finish(
    service: string,
    runId: string,
    nextStageOf: (runId: string) => string | undefined,
  ): Promotion[] {
    const lane = this.lane(service);
    const promotions: Promotion[] = [];
    lane.queue = lane.queue.filter((id) => id !== runId);
    for (const [stage, waiter] of lane.waiting) if (waiter === runId) lane.waiting.delete(stage);
    for (const [stage, holder] of [...lane.holders]) {
      if (holder !== runId) continue;
      const promoted = this.leave(service, runId, stage);
      if (promoted !== undefined) promotions.push(promoted);
    }
    if (lane.active === runId) {
      lane.active = lane.queue.shift();
      const stage = lane.active === undefined ? undefined : nextStageOf(lane.active);
      if (lane.active !== undefined && stage !== undefined)
        promotions.push({ runId: lane.active, stage });
    }
    return promotions;
  }

  private lane(service: string): ServiceLane {
    let lane = this.lanes.get(service);
    if (lane === undefined) {
      lane = { queue: [], holders: new Map(), waiting: new Map() };
      this.lanes.set(service, lane);
    }
    return lane;
  }
}
