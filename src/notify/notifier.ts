import { SecretMasker } from '../build/secret-masker.js';
import { describeMs } from '../config/schema-parts.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import { newId } from '../shared/ids.js';
import type { Logger } from '../shared/logger.js';
import type { NotificationChannel } from './channel.js';
import type { NotificationRoute } from './create-channels.js';
import {
  canTransition,
  DeliveryError,
  describeError,
  isRetryable,
  type Delivery,
  type DeliveryStatus,
} from './delivery.js';
import { filterAccepts } from './event-filter.js';
import type { NotificationEvent } from './notification-event.js';
import { DEFAULT_RETRY_POLICY, nextRetryDelay, type RetryPolicy } from './retry-policy.js';

/** An attempt that has not finished after this long is abandoned (and retried). */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 10_000;
/** Attempts in flight at once, all channels together. */
export const DEFAULT_CONCURRENCY = 4;
/** Deliveries waiting for a first attempt or a retry; beyond it the oldest is dropped. */
export const DEFAULT_MAX_QUEUED = 500;
/** Delivery records kept in memory; the oldest finished ones go first. */
export const DEFAULT_MAX_RECORDED = 1000;
/** How long `close` waits for deliveries under way. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

export interface NotifierOptions {
  routes: readonly NotificationRoute[];
  clock: Clock;
  log: Logger;
  retry?: Partial<RetryPolicy>;
  attemptTimeoutMs?: number;
  concurrency?: number;
  maxQueued?: number;
  maxRecorded?: number;
  /**
   * Called with a copy of a delivery each time it changes (created, attempted, retried,
   * finished), so that a store can keep them. Must be quick; an error it throws is logged.
   */
  onDelivery?: (delivery: Delivery) => void;
  newId?: () => string;
}

interface Job {
  seq: number;
  record: Delivery;
  event: NotificationEvent;
  channel: NotificationChannel;
  retryTimer?: TimerHandle;
  abort?: AbortController;
}

/**
 * Fans events out to channels, best effort. `publish` returns at once and never throws:
 * deliveries queue, run a few at a time, each attempt bounded by a timeout, and failures
 * are retried with backoff (retry-policy.ts) on the injected clock. Every delivery is
 * recorded; a final failure is logged once. Nothing here can fail or slow a pipeline.
 *
 * Lifecycle: construct, `publish` any number of times, `close` once (later publishes are
 * ignored). `close` lets queued deliveries have their attempt but retries none, and after
 * its timeout abandons what is still under way.
 */
export class Notifier {
  private readonly policy: RetryPolicy;
  private readonly attemptTimeoutMs: number;
  private readonly concurrency: number;
  private readonly maxQueued: number;
  private readonly maxRecorded: number;
  private readonly createId: () => string;
  private readonly records: Delivery[] = [];
  private ready: Job[] = [];
  private readonly backingOff = new Set<Job>();
  private readonly inFlight = new Set<Job>();
  private readonly idleWaiters: (() => void)[] = [];
  private nextSeq = 0;
  private pumpScheduled = false;
  private closing?: Promise<void>;

  constructor(private readonly options: NotifierOptions) {
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
    this.concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    this.maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
    this.maxRecorded = options.maxRecorded ?? DEFAULT_MAX_RECORDED;
    this.createId = options.newId ?? newId;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1)
      throw new RangeError(`concurrency must be a positive integer, got ${this.concurrency}`);
    if (!Number.isInteger(this.policy.maxAttempts) || this.policy.maxAttempts < 1)
      throw new RangeError(
        `maxAttempts must be a positive integer, got ${this.policy.maxAttempts}`,
      );
  }

  publish(event: NotificationEvent): void {
    try {
      if (this.closing !== undefined) {
        this.options.log.debug({ event: event.type }, 'notification ignored after close');
        return;
      }
      // A copy: the caller may go on changing its objects while deliveries wait.
      const stamped = structuredClone({
        ...event,
        occurredAt: event.occurredAt ?? this.timestamp(),
      });
      for (const route of this.options.routes) {
        if (filterAccepts(route.filter, stamped)) this.enqueue(stamped, route.channel);
      }
      this.enforceBound();
      this.schedulePump();
    } catch (error) {
      this.options.log.error({ err: error, event: event.type }, 'notification publish failed');
    }
  }

  /** Every recorded delivery, oldest first, as copies. */
  deliveries(): Delivery[] {
    return this.records.map((record) => ({ ...record }));
  }

  /**
   * Stops taking events, retries nothing more, and resolves once every delivery is final:
   * queued ones get their attempt, and after `timeoutMs` what is still under way is aborted.
   */
  close(timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    this.closing ??= this.drain(timeoutMs);
    return this.closing;
  }

  private async drain(timeoutMs: number): Promise<void> {
    for (const job of [...this.backingOff]) {
      this.cancelRetry(job);
      this.finish(
        job,
        'failed',
        `${job.record.lastError ?? 'failed'} (not retried: shutting down)`,
      );
    }
    if (this.isIdle()) return;
    const timer = this.options.clock.setTimeout(() => this.abandon(), timeoutMs);
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    this.options.clock.clearTimeout(timer);
  }

  private abandon(): void {
    const queued = this.ready;
    this.ready = [];
    for (const job of queued) this.finish(job, 'failed', 'not sent: shutting down');
    for (const job of this.inFlight) {
      job.abort?.abort(new DeliveryError('abandoned: shutting down', { retryable: false }));
    }
    this.checkIdle();
  }

  private enqueue(event: NotificationEvent, channel: NotificationChannel): void {
    const now = this.timestamp();
    const record: Delivery = {
      id: this.createId(),
      event: event.type,
      service: event.service,
      ...('environment' in event ? { environment: event.environment } : {}),
      channel: channel.name,
      channelType: channel.type,
      status: 'pending',
      attempts: 0,
      createdAt: now,
      updatedAt: now,
    };
    this.records.push(record);
    this.ready.push({ seq: this.nextSeq++, record, event, channel });
    this.changed(record);
    this.pruneRecords();
  }

  /**
   * Drops the oldest waiting deliveries (queued or waiting to retry) beyond the bound. The
   * queued ones that free slots will take at once are not waiting.
   */
  private enforceBound(): void {
    for (;;) {
      const free = Math.max(0, this.concurrency - this.inFlight.size);
      const waiting = [...this.ready.slice(free), ...this.backingOff];
      if (waiting.length <= this.maxQueued) return;
      const oldest = waiting.reduce((a, b) => (b.seq < a.seq ? b : a));
      this.ready = this.ready.filter((job) => job !== oldest);
      this.cancelRetry(oldest);
      this.finish(oldest, 'failed', `dropped: more than ${this.maxQueued} deliveries waiting`);
    }
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // Attempts start after publish has returned: a channel's first synchronous steps
    // (rendering, signing) never run on the publisher's time.
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight.size < this.concurrency) {
      const job = this.ready.shift();
      if (job === undefined) break;
      this.inFlight.add(job);
      void this.attempt(job);
    }
  }

  private async attempt(job: Job): Promise<void> {
    const controller = new AbortController();
    job.abort = controller;
    const timeout = this.options.clock.setTimeout(() => {
      const limit = describeMs(this.attemptTimeoutMs);
      controller.abort(new DeliveryError(`no answer within ${limit}`, { retryable: true }));
    }, this.attemptTimeoutMs);
    job.record.attempts += 1;
    delete job.record.nextAttemptAt;
    this.changed(job.record);

    let failure: { error: unknown } | undefined;
    try {
      const request = {
        event: job.event,
        deliveryId: job.record.id,
        attempt: job.record.attempts,
        signal: controller.signal,
      };
      await untilAborted(job.channel.send(request), controller.signal);
    } catch (error) {
      failure = { error };
    } finally {
      this.options.clock.clearTimeout(timeout);
      this.inFlight.delete(job);
      delete job.abort;
    }

    if (failure === undefined) this.finish(job, 'delivered');
    else this.attemptFailed(job, failure.error);
    this.pump();
    this.checkIdle();
  }

  private attemptFailed(job: Job, error: unknown): void {
    const message = this.redact(job.channel, describeError(error));
    const delay =
      this.closing === undefined && isRetryable(error)
        ? nextRetryDelay(this.policy, job.record.attempts)
        : undefined;
    if (delay === undefined) {
      this.finish(job, 'failed', message);
      return;
    }
    job.record.lastError = message;
    job.record.nextAttemptAt = new Date(this.options.clock.now() + delay).toISOString();
    job.retryTimer = this.options.clock.setTimeout(() => {
      this.backingOff.delete(job);
      delete job.retryTimer;
      this.ready.push(job);
      this.pump();
    }, delay);
    this.backingOff.add(job);
    this.changed(job.record);
    this.enforceBound();
  }

  private cancelRetry(job: Job): void {
    if (job.retryTimer !== undefined) this.options.clock.clearTimeout(job.retryTimer);
    delete job.retryTimer;
    this.backingOff.delete(job);
  }

  private finish(job: Job, status: Exclude<DeliveryStatus, 'pending'>, error?: string): void {
    const { record } = job;
    if (!canTransition(record.status, status)) return;
    record.status = status;
    delete record.nextAttemptAt;
    if (error !== undefined) record.lastError = error;
    this.changed(record);
    if (status === 'failed') {
      this.options.log.warn(
        {
          deliveryId: record.id,
          event: record.event,
          service: record.service,
          environment: record.environment,
          channel: record.channel,
          channelType: record.channelType,
          attempts: record.attempts,
          error: record.lastError,
        },
        'notification delivery failed',
      );
    }
    this.pruneRecords();
  }

  private changed(record: Delivery): void {
    record.updatedAt = this.timestamp();
    if (this.options.onDelivery === undefined) return;
    try {
      this.options.onDelivery({ ...record });
    } catch (error) {
      this.options.log.error({ err: error, deliveryId: record.id }, 'delivery sink failed');
    }
  }

  private pruneRecords(): void {
    let excess = this.records.length - this.maxRecorded;
    for (let at = 0; excess > 0 && at < this.records.length;) {
      if (this.records[at]?.status === 'pending') {
        at++;
      } else {
        this.records.splice(at, 1);
        excess--;
      }
    }
  }

  private redact(channel: NotificationChannel, message: string): string {
    try {
      return new SecretMasker(channel.secrets()).mask(message);
    } catch {
      return message;
    }
  }

  private isIdle(): boolean {
    return this.inFlight.size === 0 && this.ready.length === 0 && this.backingOff.size === 0;
  }

  private checkIdle(): void {
    if (!this.isIdle()) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private timestamp(): string {
    return new Date(this.options.clock.now()).toISOString();
  }
}

/**
 * `work`, or the abort's reason as soon as `signal` aborts: a channel that ignores its
 * signal cannot keep a slot. Its late result is dropped.
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  work.catch(() => undefined);
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
