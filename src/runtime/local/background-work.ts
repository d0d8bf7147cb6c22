import type { Logger } from '../../shared/logger.js';

/**
 * Work that timers and process exits start, rather than a caller who awaits it: kept track of
 * so that `settled` (and a closing runtime) can wait for it. Its failures are logged here,
 * once, since nobody else sees them.
 */
export class BackgroundWork {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly logger: Logger) {}

  add(work: Promise<unknown>): void {
    const tracked: Promise<void> = work.then(
      () => undefined,
      (error: unknown) => {
        this.logger.error({ error }, 'runtime background task failed');
      },
    );
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }

  /** Resolves when nothing is pending, including work added while waiting. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
  }
}
