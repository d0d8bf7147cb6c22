/**
 * Promotions granted by people (`phoenix promote`), for the steps that wait on them: a
 * deployment held before production goes to 100% (`promote: manual`), or a bake cut short.
 * In memory: the grant is also written to the deployment's timeline (`deployment.promoted`),
 * which is what a restarted control plane reads.
 */
export class Promotions {
  private readonly granted = new Set<string>();
  private readonly waiters = new Map<string, Set<() => void>>();

  grant(deploymentId: string): void {
    this.granted.add(deploymentId);
    const waiting = this.waiters.get(deploymentId);
    this.waiters.delete(deploymentId);
    for (const wake of waiting ?? []) wake();
  }

  /** Whether a grant waits to be used; using it clears it. */
  take(deploymentId: string): boolean {
    return this.granted.delete(deploymentId);
  }

  /** Resolves at the next grant (which it uses); rejects when `signal` aborts first. */
  next(deploymentId: string, signal: AbortSignal): Promise<void> {
    if (this.take(deploymentId)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiting = this.waiters.get(deploymentId) ?? new Set();
      this.waiters.set(deploymentId, waiting);
      const wake = (): void => {
        signal.removeEventListener('abort', onAbort);
        this.granted.delete(deploymentId);
        resolve();
      };
      const onAbort = (): void => {
        waiting.delete(wake);
        reject(signal.reason ?? new Error('aborted'));
      };
      if (signal.aborted) {
        onAbort();
        return;
      }
      waiting.add(wake);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
