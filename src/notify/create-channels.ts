import type { NotificationChannel } from './channel.js';
import { EmailChannel } from './email-channel.js';
import type { EventFilter } from './event-filter.js';
import type { ChannelType, NotificationChannelConfig } from './notification-config.js';
import type { SecretResolver } from './secret-ref.js';
import { SlackChannel } from './slack-channel.js';
import { WebhookChannel } from './webhook-channel.js';

/** A channel and the events it hears: what the notifier fans each event out to. */
export interface NotificationRoute {
  channel: NotificationChannel;
  filter: EventFilter;
}

export interface ChannelDeps {
  resolveSecret: SecretResolver;
  /** nodemailer's connection, greeting and socket timeouts. */
  smtpTimeoutMs?: number;
}

type ChannelFactory<T extends ChannelType> = (
  config: Extract<NotificationChannelConfig, { type: T }>,
  deps: ChannelDeps,
) => NotificationChannel;

const FACTORIES: { [T in ChannelType]: ChannelFactory<T> } = {
  webhook: (config, deps) => new WebhookChannel(config, deps.resolveSecret),
  slack: (config, deps) => new SlackChannel(config, deps.resolveSecret),
  email: (config, deps) => new EmailChannel(config, deps.resolveSecret, deps.smtpTimeoutMs),
};

function createChannel<T extends ChannelType>(
  config: Extract<NotificationChannelConfig, { type: T }>,
  deps: ChannelDeps,
): NotificationChannel {
  const factory: ChannelFactory<T> = FACTORIES[config.type];
  return factory(config, deps);
}

/** One route per configured channel, in the order phoenix.yml lists them. */
export function createRoutes(
  configs: readonly NotificationChannelConfig[],
  deps: ChannelDeps,
): NotificationRoute[] {
  return configs.map((config) => ({
    channel: createChannel(config, deps),
    filter: { events: config.events, environments: config.environments },
  }));
}
