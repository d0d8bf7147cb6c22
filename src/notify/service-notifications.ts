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
  private readonly notifiers = new Map<string, { key: string; notifier: Notifier }>();
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
      ...[...this.notifiers.values()].flatMap(({ notifier }) => notifier.deliveries()),
    ];
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.notifiers.values()].map(({ notifier }) => notifier.close()));
  }

  private async route(event: NotificationEvent, commit: string): Promise<void> {
    const config = await this.o.configs.load(event.service, commit);
    if (config.notifications.length === 0 || this.closed) return;
    const key = JSON.stringify(config.notifications);
    let entry = this.notifiers.get(event.service);
    if (entry === undefined || entry.key !== key) {
      if (entry !== undefined) {
        const previous = entry.notifier;
        this.finished.push(...previous.deliveries());
        void previous.close();
      }
      const routes = createRoutes(config.notifications, { resolveSecret: this.o.resolveSecret });
      entry = {
        key,
        notifier: new Notifier({ routes, clock: this.o.clock, log: this.o.logger }),
      };
      this.notifiers.set(event.service, entry);
    }
    entry.notifier.publish(event);
  }
}
