import type { Delivery } from '../delivery.js';

/**
 * A notifier's `onDelivery` sink for tests: keeps every update and resolves `until` at the
 * first (past or future) update that matches, so tests wait on events, not on time.
 */
export class DeliveryWatch {
  readonly updates: Delivery[] = [];
  private readonly waiters: { test: (d: Delivery) => boolean; resolve: (d: Delivery) => void }[] =
    [];

  readonly sink = (delivery: Delivery): void => {
    this.updates.push(delivery);
    for (const waiter of [...this.waiters]) {
      if (!waiter.test(delivery)) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(delivery);
    }
  };

  until(test: (delivery: Delivery) => boolean): Promise<Delivery> {
    const seen = this.updates.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  /** The next retry has been scheduled after `attempts` failed attempts. */
  retryScheduled(attempts: number, channel?: string): Promise<Delivery> {
    return this.until(
      (d) =>
        d.attempts === attempts &&
        d.nextAttemptAt !== undefined &&
        (channel === undefined || d.channel === channel),
    );
  }

  final(channel?: string): Promise<Delivery> {
    return this.until(
      (d) => d.status !== 'pending' && (channel === undefined || d.channel === channel),
    );
  }
}
