import type { Delivery } from './delivery.js';
import type { DeliveryLog, DeliveryQuery, ResendInfo, UnfinishedDelivery } from './delivery-log.js';

/** The newest deliveries a MemoryDeliveryLog keeps, and pending ones until they are final. */
export const DEFAULT_MAX_REMEMBERED = 1000;

/**
 * A DeliveryLog in the process's memory, for tests and for notifiers without a store: it
 * behaves as the store does, but whatever it holds is gone with the process. Two notifiers
 * sharing one stand for a server and the one started after it.
 */
export class MemoryDeliveryLog implements DeliveryLog {
  /** By id, in order of first save. */
  private readonly entries = new Map<string, UnfinishedDelivery>();

  constructor(private readonly max = DEFAULT_MAX_REMEMBERED) {}

  save(delivery: Delivery, resend?: ResendInfo): void {
    const kept = resend ?? this.entries.get(delivery.id)?.resend;
    const entry: UnfinishedDelivery = { delivery: { ...delivery } };
    if (delivery.status === 'pending' && kept !== undefined) entry.resend = structuredClone(kept);
    const isNew = !this.entries.has(delivery.id);
    this.entries.set(delivery.id, entry);
    if (isNew) this.prune();
  }

  list(query: DeliveryQuery): Delivery[] {
    return [...this.entries.values()]
      .map((entry) => entry.delivery)
      .filter((d) => query.service === undefined || d.service === query.service)
      .filter((d) => query.status === undefined || d.status === query.status)
      .reverse()
      .slice(0, query.limit)
      .map((d) => ({ ...d }));
  }

  unfinished(): UnfinishedDelivery[] {
    return [...this.entries.values()]
      .filter((entry) => entry.delivery.status === 'pending')
      .map((entry) => structuredClone(entry));
  }

  /** As the store does: finished deliveries older than the newest `max` go. */
  private prune(): void {
    let older = this.entries.size - this.max;
    for (const [id, entry] of this.entries) {
      if (older-- <= 0) return;
      if (entry.delivery.status !== 'pending') this.entries.delete(id);
    }
  }
}
