import type { PhoenixConfig } from '../config/phoenix-config.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { createRoutes } from './create-channels.js';
import type { Delivery } from './delivery.js';
import type { NotificationEvent } from './notification-event.js';
import { Notifier } from './notifier.js';
import type { SecretResolver } from './secret-ref.js';

export interface ServiceNotificationsOptions {
  /** phoenix.yml at a commit: the service's channels as that commit says. */
  configs: { load(service: string, commit: string): Promise<PhoenixConfig> };
  clock: Clock;
  logger: Logger;
  resolveSecret: SecretResolver;
}

/**
 * Sends each service's events to the channels its phoenix.yml names (`notifications:`), as
 * the commit the event is about says. One Notifier per service, rebuilt when the channels
 * change. `publish` returns at once and never throws: delivery is best effort and never
 * blocks or fails a pipeline (a phoenix.yml that cannot be read sends nothing, logged).
 */
export class ServiceNotifications {
  /** Per service: the commit whose channels it sends to, and its notifier (none: no channels). */
  private readonly notifiers = new Map<
    string,
    { commit: string; key: string; notifier: Notifier | undefined }
  >();
  private readonly finished: Delivery[] = [];
  private closed = false;

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

  /** Deliveries of every service, newest last (failed ones say why). */
  deliveries(): Delivery[] {
    return [
      ...this.finished,
      ...[...this.notifiers.values()].flatMap(({ notifier }) => notifier?.deliveries() ?? []),
    ];
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.notifiers.values()].map(({ notifier }) => notifier?.close()));
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
      if (notifier !== undefined) {
        this.finished.push(...notifier.deliveries());
        void notifier.close();
      }
      notifier =
        config.notifications.length === 0
          ? undefined
          : new Notifier({
              routes: createRoutes(config.notifications, { resolveSecret: this.o.resolveSecret }),
              clock: this.o.clock,
              log: this.o.logger,
            });
    }
    this.notifiers.set(event.service, { commit, key, notifier });
    notifier?.publish(event);
  }
}
