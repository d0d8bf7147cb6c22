import type { NotificationChannel, SendRequest } from './channel.js';
import { describeEvent } from './event-message.js';
import { postJson, resolveUrl, urlSecrets } from './http-post.js';
import type { SlackChannelConfig } from './notification-config.js';
import type { SecretResolver } from './secret-ref.js';
import { renderSlackMessage } from './slack-message.js';

/** A Slack-compatible incoming webhook. Its URL is a credential, written plainly or not. */
export class SlackChannel implements NotificationChannel {
  readonly type = 'slack';
  readonly name: string;

  constructor(
    private readonly config: SlackChannelConfig,
    private readonly resolveSecret: SecretResolver,
  ) {
    this.name = config.name;
  }

  async send({ event, signal }: SendRequest): Promise<void> {
    const url = resolveUrl(this.resolveSecret, this.config.url);
    const body = JSON.stringify(renderSlackMessage(describeEvent(event)));
    await postJson({ url, body, signal });
  }

  secrets(): string[] {
    const url =
      typeof this.config.url === 'string' ? this.config.url : this.resolveSecret(this.config.url);
    return url === undefined ? [] : urlSecrets(url);
  }
}
