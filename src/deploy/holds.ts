import { WakeList } from './wake-list.js';

/**
 * Deployments a person paused (`phoenix pause`): they finish the step under way but take no
 * next one, and a bake that is held keeps judging the new release past its time, until
 * `phoenix resume`. In memory; the timeline keeps `deployment.paused` / `deployment.resumed`,
 * from which a restarted control plane rebuilds them (`heldFrom`).
 */
export class Holds {
  private readonly held = new Set<string>();
  private readonly waiting = new WakeList();

  hold(deploymentId: string): void {
    this.held.add(deploymentId);
  }

  release(deploymentId: string): void {
    this.held.delete(deploymentId);
    this.waiting.wake(deploymentId);
  }

  isHeld(deploymentId: string): boolean {
    return this.held.has(deploymentId);
  }

  /** Resolves once the deployment is not held (at once when it is not); rejects on abort. */
  released(deploymentId: string, signal: AbortSignal): Promise<void> {
    if (!this.held.has(deploymentId)) return Promise.resolve();
    return this.waiting.wait(deploymentId, signal);
  }
}

/** Whether a timeline leaves its deployment paused: its last pause comes after its last resume. */
export function heldFrom(timeline: readonly { type: string }[]): boolean {
  for (let i = timeline.length - 1; i >= 0; i--) {
    const type = timeline[i]?.type;
    if (type === 'deployment.resumed') return false;
    if (type === 'deployment.paused') return true;
  }
  return false;
}
