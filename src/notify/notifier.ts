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
  deliverySubject,
  describeError,
  INTERRUPTED_REASON,
  isRetryable,
  type Delivery,
  type DeliveryStatus,
} from './delivery.js';
import type { DeliveryLog } from './delivery-log.js';
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
   * finished). Must be quick; an error it throws is logged.
   */
  onDelivery?: (delivery: Delivery) => void;
  /**
   * Where every change of every delivery is saved (the store), with what a server started
   * later needs to send it again: the event, and `commit`, the commit whose phoenix.yml
   * names `routes`. With it, `close` can hand unfinished deliveries over to that server.
   */
  journal?: { log: DeliveryLog; commit: string };
  newId?: () => string;
}

export interface CloseOptions {
  /** How long to wait for deliveries under way; DEFAULT_CLOSE_TIMEOUT_MS. */
  timeoutMs?: number;
  /**
   * Leave unfinished deliveries pending in the journal, for the next server to `resume`,
   * instead of recording them failed. Without a journal they are recorded failed anyway.
   */
  handOver?: boolean;
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
 * Lifecycle: construct, `resume` what an earlier server left (if anything), `publish` any
 * number of times, `close` once (later publishes and resumes are ignored). `close` lets
 * queued deliveries have their attempt but retries none, and after its timeout abandons
 * what is still under way: recorded failed, or handed over to the next server (`handOver`).
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
  private handingOver = false;

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
   * Takes over a delivery a stopped server left pending (`DeliveryLog.unfinished`): the same
   * id (receivers deduplicate on it), attempts counted on, the next one when `nextAttemptAt`
   * says or at once. An attempt under way at the stop may have arrived, so this sends at
   * least once, never exactly once. Given up as interrupted when no route has the channel
   * any more, or when the interrupted attempt was the last the policy allows (a server that
   * crashes during an attempt, start after start, cannot make a delivery repeat forever).
   */
  resume(delivery: Delivery, event: NotificationEvent): void {
    try {
      if (this.closing !== undefined) return;
      const record: Delivery = { ...delivery };
      this.records.push(record);
      const route = this.options.routes.find((r) => r.channel.name === record.channel);
      if (route === undefined || record.attempts >= this.policy.maxAttempts) {
        const why = route === undefined ? 'its channel is gone' : 'its last attempt was cut off';
        this.finish(record, 'failed', `${INTERRUPTED_REASON} (${why})`);
        return;
      }
      const job: Job = { seq: this.nextSeq++, record, event, channel: route.channel };
      const due =
        record.nextAttemptAt === undefined ? Number.NaN : Date.parse(record.nextAttemptAt);
      const wait = due - this.options.clock.now();
      if (wait > 0) this.retryLater(job, wait);
      else this.ready.push(job);
      this.changed(record, event);
      this.pruneRecords();
      this.enforceBound();
      this.schedulePump();
    } catch (error) {
      this.options.log.error({ err: error, deliveryId: delivery.id }, 'notification resume failed');
    }
  }

  /**
   * Stops taking events, retries nothing more, and resolves once no delivery is under way:
   * queued ones get their attempt, and after `timeoutMs` what is still under way is aborted.
   * What is left unfinished is then recorded failed, or handed over (see CloseOptions).
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.closing === undefined) {
      this.handingOver = options.handOver === true && this.options.journal !== undefined;
      this.closing = this.drain(options.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS);
    }
    return this.closing;
  }

  private async drain(timeoutMs: number): Promise<void> {
    for (const job of [...this.backingOff]) {
      this.cancelRetry(job);
      // Handed over: pending in the journal as it is, its `nextAttemptAt` kept.
      if (this.handingOver) continue;
      this.finish(
        job.record,
        'failed',
        `${job.record.lastError ?? 'failed'} (not retried: shutting down)`,
      );
    }
    if (!this.isIdle()) {
      const timer = this.options.clock.setTimeout(() => this.abandon(), timeoutMs);
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      this.options.clock.clearTimeout(timer);
    }
    const left = this.records.filter((record) => record.status === 'pending').length;
    if (left > 0)
      this.options.log.info({ deliveries: left }, 'notifications left for the next start');
  }

  private abandon(): void {
    const queued = this.ready;
    this.ready = [];
    if (!this.handingOver) {
      for (const job of queued) this.finish(job.record, 'failed', 'not sent: shutting down');
    }
    // Retryable when handed over: the next server tries again, when the policy allows.
    const reason = new DeliveryError('abandoned: shutting down', { retryable: this.handingOver });
    for (const job of this.inFlight) job.abort?.abort(reason);
    this.checkIdle();
  }

  private enqueue(event: NotificationEvent, channel: NotificationChannel): void {
    const now = this.timestamp();
    const record: Delivery = {
      id: this.createId(),
      event: event.type,
      service: event.service,
      ...deliverySubject(event),
      channel: channel.name,
      channelType: channel.type,
      status: 'pending',
      attempts: 0,
      createdAt: now,
      updatedAt: now,
    };
    this.records.push(record);
    this.ready.push({ seq: this.nextSeq++, record, event, channel });
    this.changed(record, event);
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
      this.finish(
        oldest.record,
        'failed',
        `dropped: more than ${this.maxQueued} deliveries waiting`,
      );
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
    job.record.lastAttemptAt = this.timestamp();
    delete job.record.nextAttemptAt;
    this.changed(job.record, job.event);

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

    if (failure === undefined) this.finish(job.record, 'delivered');
    else this.attemptFailed(job, failure.error);
    this.pump();
    this.checkIdle();
  }

  private attemptFailed(job: Job, error: unknown): void {
    const message = this.redact(job.channel, describeError(error));
    const delay = isRetryable(error) ? nextRetryDelay(this.policy, job.record.attempts) : undefined;
    const closed = this.closing !== undefined;
    if (delay === undefined || (closed && !this.handingOver)) {
      this.finish(job.record, 'failed', message);
      return;
    }
    job.record.lastError = message;
    job.record.nextAttemptAt = new Date(this.options.clock.now() + delay).toISOString();
    // Closing and handing over: the retry is the next server's.
    if (!closed) this.retryLater(job, delay);
    this.changed(job.record, job.event);
    this.enforceBound();
  }

  private retryLater(job: Job, delay: number): void {
    job.retryTimer = this.options.clock.setTimeout(() => {
      this.backingOff.delete(job);
      delete job.retryTimer;
      this.ready.push(job);
      this.pump();
    }, delay);
    this.backingOff.add(job);
  }

  private cancelRetry(job: Job): void {
    if (job.retryTimer !== undefined) this.options.clock.clearTimeout(job.retryTimer);
    delete job.retryTimer;
    this.backingOff.delete(job);
  }

  private finish(
    record: Delivery,
    status: Exclude<DeliveryStatus, 'pending'>,
    error?: string,
  ): void {
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

  /**
   * The commit new deliveries are journalled with: phoenix.yml there names their channels
   * (the same ones as before, or this notifier would have been replaced).
   */
  recordCommit(commit: string): void {
    if (this.options.journal !== undefined) this.options.journal.commit = commit;
  }

  /** `event` with every change of a pending delivery: the journal keeps it to resend. */
  private changed(record: Delivery, event?: NotificationEvent): void {
    record.updatedAt = this.timestamp();
    const { journal, onDelivery } = this.options;
    try {
      journal?.log.save(
        { ...record },
        event === undefined ? undefined : { event, commit: journal.commit },
      );
    } catch (error) {
      this.options.log.error({ err: error, deliveryId: record.id }, 'delivery log failed');
    }
    try {
      onDelivery?.({ ...record });
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
