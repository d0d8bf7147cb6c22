import type { ChannelType } from './notification-config.js';
import type { NotificationEvent } from './notification-event.js';

export interface SendRequest {
  /** With `occurredAt` filled in. */
  event: NotificationEvent;
  /** The same on every attempt of one delivery. */
  deliveryId: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** Aborts when the attempt times out or the notifier gives up at shutdown. */
  signal: AbortSignal;
}

/**
 * One configured destination. `send` makes one attempt: it resolves once the endpoint has
 * accepted the event and rejects otherwise, with a `DeliveryError` whose `retryable` is false
 * when another attempt cannot help. It stops promptly when `signal` aborts (the notifier
 * stops waiting then in any case). Calls for different deliveries may run concurrently; a
 * channel keeps no state between them, and resolves secrets at each call, so a rotated
 * secret takes effect without a restart.
 */
export interface NotificationChannel {
  readonly name: string;
  readonly type: ChannelType;
  send(request: SendRequest): Promise<void>;
  /** The secret values it uses now, to be masked in recorded errors. Never throws. */
  secrets(): string[];
}
