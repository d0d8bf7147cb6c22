import { WakeList } from './wake-list.js';

/**
 * Promotions granted by people (`phoenix promote`), for the steps that wait on them: a
 * deployment held before production goes to 100% (`promote: manual`), or a bake cut short.
 * In memory: the grant is also written to the deployment's timeline (`deployment.promoted`),
 * which is what a restarted control plane reads.
 */
export class Promotions {
  private readonly granted = new Set<string>();
  private readonly waiting = new WakeList();

  grant(deploymentId: string): void {
    this.granted.add(deploymentId);
    this.waiting.wake(deploymentId);
  }

  /** Whether a grant waits to be used; using it clears it. */
  take(deploymentId: string): boolean {
    return this.granted.delete(deploymentId);
  }

  /** Resolves at the next grant (which it uses); rejects when `signal` aborts first. */
  async next(deploymentId: string, signal: AbortSignal): Promise<void> {
    if (this.take(deploymentId)) return;
    await this.waiting.wait(deploymentId, signal);
    this.granted.delete(deploymentId);
  }
}
