import type { CheckResult } from './health-judge.js';
import type { HealthState } from './traffic-router.js';

/** What the router reports as it runs; tests wait on these instead of sleeping. */
export type RouterEvent =
  | { type: 'health-check'; group: string; target: string; result: CheckResult }
  | { type: 'target-state'; group: string; target: string; state: HealthState; reason?: string }
  /** The listener's port is closed; its requests in flight may still be finishing. */
  | { type: 'listener-removed'; listener: string; port: number };

export type RouterEventListener = (event: RouterEvent) => void;

/** Delivers events to subscribers in order; a subscriber that throws is its own problem. */
export class RouterEvents {
  private readonly listeners = new Set<RouterEventListener>();

  subscribe(listener: RouterEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: RouterEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A subscriber's failure must not stop routing or the other subscribers.
      }
    }
  }
}
