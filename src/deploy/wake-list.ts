/**
 * Promises waiting for something about a deployment, woken together: what Holds and
 * Promotions share. `wait` rejects when its signal aborts; `wake` resolves every waiter.
 */
export class WakeList {
  private readonly waiters = new Map<string, Set<() => void>>();

  wait(deploymentId: string, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiting = this.waiters.get(deploymentId) ?? new Set();
      this.waiters.set(deploymentId, waiting);
      const wake = (): void => {
        signal.removeEventListener('abort', onAbort);
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

  wake(deploymentId: string): void {
    const waiting = this.waiters.get(deploymentId);
    this.waiters.delete(deploymentId);
    for (const wake of waiting ?? []) wake();
  }
}
