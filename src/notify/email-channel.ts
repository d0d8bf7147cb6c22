import { createTransport } from 'nodemailer';
import type { NotificationChannel, SendRequest } from './channel.js';
import { DeliveryError } from './delivery.js';
import { renderEmail } from './email-message.js';
import { describeEvent } from './event-message.js';
import type { EmailChannelConfig } from './notification-config.js';
import { requireSecret, type SecretResolver } from './secret-ref.js';

/**
 * How long nodemailer waits to connect, for the greeting, and on a silent socket. The
 * notifier stops waiting when its attempt times out; this closes the connection behind it.
 */
export const DEFAULT_SMTP_TIMEOUT_MS = 10_000;

/**
 * Email over SMTP, one connection per message (notifications are few; a pool would hold a
 * connection open between them). Permanent refusals (5xx replies, failed authentication)
 * are not retried.
 */
export class EmailChannel implements NotificationChannel {
  readonly type = 'email';
  readonly name: string;

  constructor(
    private readonly config: EmailChannelConfig,
    private readonly resolveSecret: SecretResolver,
    private readonly timeoutMs = DEFAULT_SMTP_TIMEOUT_MS,
  ) {
    this.name = config.name;
  }

  async send({ event, deliveryId, signal }: SendRequest): Promise<void> {
    const { config } = this;
    const password =
      config.auth === undefined
        ? undefined
        : requireSecret(this.resolveSecret, config.auth.password);
    const transport = createTransport({
      host: config.host,
      port: config.port,
      secure: config.secure,
      requireTLS: config.starttls === 'required',
      ignoreTLS: config.starttls === 'never',
      ...(config.auth === undefined ? {} : { auth: { user: config.auth.user, pass: password } }),
      connectionTimeout: this.timeoutMs,
      greetingTimeout: this.timeoutMs,
      socketTimeout: this.timeoutMs,
    });
    const content = renderEmail(describeEvent(event), config.subjectPrefix);
    signal.throwIfAborted();
    try {
      await transport.sendMail({
        from: config.from,
        to: config.to,
        subject: content.subject,
        text: content.text,
        html: content.html,
        // The same Message-ID on every attempt lets mail clients fold duplicates.
        messageId: `<${deliveryId}@${domainOf(config.from)}>`,
        headers: { 'X-Phoenix-Event': event.type, 'X-Phoenix-Delivery': deliveryId },
      });
    } catch (error) {
      throw new DeliveryError(error instanceof Error ? error.message : String(error), {
        retryable: isRetryableSmtpError(error),
        cause: error,
      });
    } finally {
      transport.close();
    }
  }

  secrets(): string[] {
    const password =
      this.config.auth === undefined ? undefined : this.resolveSecret(this.config.auth.password);
    return password === undefined ? [] : [password];
  }
}

/** 5xx replies and refused logins are permanent; 4xx replies and network errors are not. */
export function isRetryableSmtpError(error: unknown): boolean {
  if (!(error instanceof Error)) return true;
  const code = 'code' in error ? error.code : undefined;
  const reply = 'responseCode' in error ? error.responseCode : undefined;
  if (code === 'EAUTH') return false;
  return !(typeof reply === 'number' && reply >= 500 && reply < 600);
}

function domainOf(address: string): string {
  return /@([^\s<>@]+)>?\s*$/.exec(address)?.[1] ?? 'phoenix.invalid';
}
