import { createHmac } from 'node:crypto';
import type { NotificationChannel, SendRequest } from './channel.js';
import { postJson, resolveUrl, urlSecrets } from './http-post.js';
import type { WebhookChannelConfig } from './notification-config.js';
import type { NotificationEvent } from './notification-event.js';
import { requireSecret, type SecretResolver } from './secret-ref.js';

export const EVENT_HEADER = 'X-Phoenix-Event';
export const DELIVERY_HEADER = 'X-Phoenix-Delivery';
export const SIGNATURE_HEADER = 'X-Phoenix-Signature-256';

/** The body: `{ "event": "deployment.failed", ...the event's fields }`. */
export function webhookBody(event: NotificationEvent): string {
  const { type, ...fields } = event;
  return JSON.stringify({ event: type, ...fields });
}

/** GitHub's scheme: `sha256=` and the hex HMAC-SHA256 of the exact body bytes. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** A generic JSON webhook, signed when the channel names a secret. */
export class WebhookChannel implements NotificationChannel {
  readonly type = 'webhook';
  readonly name: string;

  constructor(
    private readonly config: WebhookChannelConfig,
    private readonly resolveSecret: SecretResolver,
  ) {
    this.name = config.name;
  }

  async send({ event, deliveryId, signal }: SendRequest): Promise<void> {
    const url = resolveUrl(this.resolveSecret, this.config.url);
    const body = webhookBody(event);
    const headers: Record<string, string> = {
      [EVENT_HEADER]: event.type,
      [DELIVERY_HEADER]: deliveryId,
    };
    if (this.config.secret !== undefined) {
      headers[SIGNATURE_HEADER] = signBody(
        requireSecret(this.resolveSecret, this.config.secret),
        body,
      );
    }
    await postJson({ url, body, headers, signal });
  }

  secrets(): string[] {
    const values: string[] = [];
    if (this.config.secret !== undefined) values.push(this.resolveSecret(this.config.secret) ?? '');
    if (typeof this.config.url !== 'string') {
      values.push(...urlSecrets(this.resolveSecret(this.config.url) ?? ''));
    }
    return values.filter((value) => value !== '');
  }
}
