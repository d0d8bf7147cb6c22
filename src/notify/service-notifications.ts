import type { PhoenixConfig } from '../config/phoenix-config.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { createRoutes } from './create-channels.js';
import { interruptedDelivery, type Delivery } from './delivery.js';
import type { DeliveryLog, DeliveryQuery, UnfinishedDelivery } from './delivery-log.js';
import type { NotificationEvent } from './notification-event.js';
import { Notifier } from './notifier.js';
import type { SecretResolver } from './secret-ref.js';

export interface ServiceNotificationsOptions {
  /** phoenix.yml at a commit: the service's channels as that commit says. */
  configs: { load(service: string, commit: string): Promise<PhoenixConfig> };
  clock: Clock;
  logger: Logger;
  resolveSecret: SecretResolver;
  /**
   * Where every delivery is kept and listed from: the store's, so that the list outlives
   * the server and `resume` finds what a stop interrupted.
   */
  deliveryLog: DeliveryLog;
}

/**
 * Sends each service's events to the channels its phoenix.yml names (`notifications:`), as
 * the commit the event is about says. One Notifier per service, rebuilt when the channels
 * change. `publish` returns at once and never throws: delivery is best effort and never
 * blocks or fails a pipeline (a phoenix.yml that cannot be read sends nothing, logged).
 *
 * Lifecycle: construct, `resume` once at start, `publish` any number of times, `close`
 * once at shutdown. `close` hands what is unfinished over to the next server's `resume`.
 */
export class ServiceNotifications {
  /** Per service: the commit whose channels it sends to, and its notifier (none: no channels). */
  private readonly notifiers = new Map<
    string,
    { commit: string; key: string; notifier: Notifier | undefined }
  >();
  /** Notifiers sending what an earlier server left unfinished; they take no new events. */
  private readonly resumed: Notifier[] = [];
  /** Closes under way of notifiers whose channels were replaced. */
  private readonly retiring = new Set<Promise<void>>();
  private closed = false;
  private resuming = false;

  constructor(private readonly o: ServiceNotificationsOptions) {}

  publish(event: NotificationEvent, commit: string | undefined): void {
    if (this.closed || commit === undefined) return;
    this.route(event, commit).catch((error: unknown) => {
      this.o.logger.warn(
        { service: event.service, event: event.type, err: error },
        'notification not sent: the channels could not be read',
      );
    });
  }

  /** Deliveries of every service, newest first (failed ones say why). */
  deliveries(query: DeliveryQuery): Delivery[] {
    return this.o.deliveryLog.list(query);
  }

  /**
   * Sends the deliveries an earlier server left pending (queued, under way or waiting to
   * retry when it stopped or crashed), each through the channel its commit's phoenix.yml
   * names, its secrets resolved now. Resending beats giving up: the log keeps the event,
   * which is plain data and holds no channel secret, so nothing is lost by a restart, and
   * receivers deduplicate on the unchanged delivery id. A delivery whose channels cannot be
   * rebuilt (its service or repository gone) is recorded failed as interrupted. Never throws;
   * resolves once every such delivery is queued again or given up. Later calls do nothing.
   */
  async resume(): Promise<void> {
    // Once: a second pass would send what the first has queued again.
    if (this.resuming || this.closed) return;
    this.resuming = true;
    let unfinished: UnfinishedDelivery[];
    try {
      unfinished = this.o.deliveryLog.unfinished();
    } catch (error) {
      this.o.logger.error({ err: error }, 'unfinished notifications not resumed');
      return;
    }
    const groups = new Map<string, { service: string; commit: string; events: Resumable[] }>();
    for (const { delivery, resend } of unfinished) {
      if (resend === undefined) {
        this.giveUp([delivery], 'its event was not kept, or could not be read');
        continue;
      }
      const key = `${delivery.service}\n${resend.commit}`;
      const group = groups.get(key) ?? {
        service: delivery.service,
        commit: resend.commit,
        events: [],
      };
      group.events.push({ delivery, event: resend.event });
      groups.set(key, group);
    }
    await Promise.all([...groups.values()].map((group) => this.resumeGroup(group)));
  }

  async close(): Promise<void> {
    this.closed = true;
    const notifiers = [
      ...[...this.notifiers.values()].map(({ notifier }) => notifier),
      ...this.resumed,
    ];
    await Promise.all([
      ...notifiers.map((notifier) => notifier?.close({ handOver: true })),
      // Channels replaced meanwhile finish what they were doing before the store closes.
      ...this.retiring,
    ]);
  }

  /** Closes the notifier of channels no longer configured, without waiting, but not forgotten. */
  private retire(notifier: Notifier): void {
    const closing: Promise<void> = notifier.close().finally(() => this.retiring.delete(closing));
    this.retiring.add(closing);
  }

  /** Closed meanwhile, the group stays pending, for the next start. */
  private async resumeGroup(group: { service: string; commit: string; events: Resumable[] }) {
    let config: PhoenixConfig;
    try {
      config = await this.o.configs.load(group.service, group.commit);
      if (this.closed) return;
    } catch (error) {
      if (this.closed) return;
      this.o.logger.warn(
        { service: group.service, commit: group.commit, err: error },
        'unfinished notifications given up: the channels could not be read',
      );
      this.giveUp(
        group.events.map((e) => e.delivery),
        `the channels at ${group.commit} could not be read`,
      );
      return;
    }
    const notifier = this.notifier(config, group.commit);
    this.resumed.push(notifier);
    for (const { delivery, event } of group.events) notifier.resume(delivery, event);
  }

  private giveUp(deliveries: readonly Delivery[], why: string): void {
    const now = new Date(this.o.clock.now()).toISOString();
    for (const delivery of deliveries) {
      const failed = interruptedDelivery(delivery, why, now);
      try {
        this.o.deliveryLog.save(failed);
      } catch (error) {
        this.o.logger.error({ err: error, deliveryId: delivery.id }, 'delivery log failed');
        continue;
      }
      this.o.logger.warn(
        {
          deliveryId: failed.id,
          event: failed.event,
          service: failed.service,
          environment: failed.environment,
          channel: failed.channel,
          channelType: failed.channelType,
          attempts: failed.attempts,
          error: failed.lastError,
        },
        'notification delivery failed',
      );
    }
  }

  private async route(event: NotificationEvent, commit: string): Promise<void> {
    const current = this.notifiers.get(event.service);
    // A commit's phoenix.yml never changes: read it once per commit, not once per event.
    if (current?.commit === commit) {
      current.notifier?.publish(event);
      return;
    }
    const config = await this.o.configs.load(event.service, commit);
    if (this.closed) return;
    const key = JSON.stringify(config.notifications);
    const entry = this.notifiers.get(event.service);
    let notifier = entry?.notifier;
    if (entry === undefined || entry.key !== key) {
      // The old channels get no retries: they are no longer configured.
      if (notifier !== undefined) this.retire(notifier);
      notifier = config.notifications.length === 0 ? undefined : this.notifier(config, commit);
    } else {
      // The same channels: new deliveries name the newest commit, the likeliest still there
      // when a later server resends them.
      notifier?.recordCommit(commit);
    }
    this.notifiers.set(event.service, { commit, key, notifier });
    notifier?.publish(event);
  }

  private notifier(config: PhoenixConfig, commit: string): Notifier {
    return new Notifier({
      routes: createRoutes(config.notifications, { resolveSecret: this.o.resolveSecret }),
      clock: this.o.clock,
      log: this.o.logger,
      journal: { log: this.o.deliveryLog, commit },
    });
  }
}

interface Resumable {
  delivery: Delivery;
  event: NotificationEvent;
}
