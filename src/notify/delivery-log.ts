import type { Delivery, DeliveryStatus } from './delivery.js';
import type { NotificationEvent } from './notification-event.js';

/**
 * What a server started later needs to send an unfinished delivery again: the event (plain
 * data, rendered again at each attempt) and the commit whose phoenix.yml names the channel.
 * Never a channel's URL or secrets: those come from phoenix.yml and secrets at each attempt.
 */
export interface ResendInfo {
  /** With `occurredAt` filled in. */
  event: NotificationEvent;
  commit: string;
}

export interface UnfinishedDelivery {
  delivery: Delivery;
  /** Absent when it was not kept (a delivery saved without it); such a delivery is given up. */
  resend?: ResendInfo;
}

export interface DeliveryQuery {
  service?: string;
  status?: DeliveryStatus;
  limit: number;
}

/**
 * Where deliveries are kept: the store (store/notification-repository.ts), so that the list
 * outlives the server and a delivery a stop interrupted is sent after the next start; or
 * MemoryDeliveryLog. Calls are synchronous and quick; they may throw (a full disk), and
 * callers log that rather than fail a delivery.
 *
 * The log keeps a bounded number of deliveries, dropping the oldest finished ones first.
 */
export interface DeliveryLog {
  /**
   * Inserts the delivery, or replaces the one with its id. `resend` is kept while the
   * delivery is pending (a later save without it keeps the earlier one) and forgotten once
   * it is final.
   */
  save(delivery: Delivery, resend?: ResendInfo): void;
  /** Newest first. */
  list(query: DeliveryQuery): Delivery[];
  /** Every pending delivery, oldest first. */
  unfinished(): UnfinishedDelivery[];
}
