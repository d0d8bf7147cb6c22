import { ExternalServiceError } from '../shared/errors.js';
import type { ChannelType } from './notification-config.js';
import type { NotificationEvent, NotificationEventType } from './notification-event.js';

/**
 * One event going to one channel. `pending` until it is delivered or given up on; both of
 * those are final. Retries stay `pending`: `attempts` and `nextAttemptAt` say where it is.
 */
export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const DELIVERY_TRANSITIONS: Readonly<Record<DeliveryStatus, readonly DeliveryStatus[]>> = {
  pending: ['delivered', 'failed'],
  delivered: [],
  failed: [],
};

export function canTransition(from: DeliveryStatus, to: DeliveryStatus): boolean {
  return DELIVERY_TRANSITIONS[from].includes(to);
}

export interface Delivery {
  /** Sent as `X-Phoenix-Delivery`; the same on every attempt, so receivers can deduplicate. */
  id: string;
  event: NotificationEventType;
  service: string;
  environment?: string;
  /** What the event is about, as far as it says: its run, deployment, approval gate. */
  runId?: string;
  deploymentId?: string;
  approvalId?: string;
  /** The channel's name in phoenix.yml. */
  channel: string;
  channelType: ChannelType;
  status: DeliveryStatus;
  attempts: number;
  /** Why the last attempt failed, with secrets masked. */
  lastError?: string;
  /** ISO 8601. */
  createdAt: string;
  updatedAt: string;
  /** When the last attempt started; absent before the first. */
  lastAttemptAt?: string;
  /** Set while a retry waits for its turn. */
  nextAttemptAt?: string;
}

/** Why a delivery that a stopped server left unfinished was given up instead of sent. */
export const INTERRUPTED_REASON = 'interrupted: the server stopped before it was delivered';

/** The ids a delivery is listed by, from the event it sends. */
export function deliverySubject(
  event: NotificationEvent,
): Pick<Delivery, 'environment' | 'runId' | 'deploymentId' | 'approvalId'> {
  const runId = 'run' in event ? event.run?.id : undefined;
  return {
    ...('environment' in event ? { environment: event.environment } : {}),
    ...(runId === undefined ? {} : { runId }),
    ...('deploymentId' in event && event.deploymentId !== undefined
      ? { deploymentId: event.deploymentId }
      : {}),
    ...('approvalId' in event ? { approvalId: event.approvalId } : {}),
  };
}

/**
 * `delivery` given up as interrupted (final, no retry waiting), `detail` saying why it could
 * not be sent again.
 */
export function interruptedDelivery(delivery: Delivery, detail: string, now: string): Delivery {
  const given: Delivery = {
    ...delivery,
    status: 'failed',
    lastError: `${INTERRUPTED_REASON} (${detail})`,
    updatedAt: now,
  };
  delete given.nextAttemptAt;
  return given;
}

/**
 * A channel's endpoint refused or failed the delivery. `retryable: false` means another
 * attempt cannot help (bad credentials, an unknown hook, a missing secret).
 */
export class DeliveryError extends ExternalServiceError {
  readonly retryable: boolean;

  constructor(message: string, options: { retryable: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.retryable = options.retryable;
  }
}

/** Any other error (a refused connection, a timeout) is worth another attempt. */
export function isRetryable(error: unknown): boolean {
  return !(error instanceof DeliveryError) || error.retryable;
}

/** The message to record: the error's, with its causes' (fetch hides the reason there). */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== undefined; depth++) {
    if (current instanceof Error) {
      const { message } = current;
      const code = 'code' in current ? current.code : undefined;
      // Node's system codes (ECONNREFUSED, UND_ERR_SOCKET) say more than some messages do.
      const named =
        typeof code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(code) && !message.includes(code);
      // A wrapper often repeats its cause's message; say it once.
      if (!parts.some((part) => part.includes(message)))
        parts.push(`${named ? `${code} ` : ''}${message}`.trim());
      current = current.cause;
    } else {
      parts.push(String(current));
      current = undefined;
    }
  }
  return parts.filter((part) => part !== '').join(': ');
}
