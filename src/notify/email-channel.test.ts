import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../shared/clock.js';
import { silentLogger } from '../shared/logger.js';
import { createRoutes } from './create-channels.js';
import type { EmailChannelConfig } from './notification-config.js';
import { Notifier } from './notifier.js';
import { DeliveryWatch } from './testing/delivery-watch.js';
import { SAMPLE_EVENTS } from './testing/events.js';
import { SmtpReceiver } from './testing/smtp-receiver.js';

const PASSWORD = 'correct horse battery staple';

describe('email channel', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of cleanup.splice(0).reverse()) await close();
  });

  async function setup(options: { auth?: boolean; password?: string } = {}) {
    const smtp = await SmtpReceiver.start(
      options.auth === true ? { user: 'phoenix', password: PASSWORD } : undefined,
    );
    cleanup.push(() => smtp.close());
    const config: EmailChannelConfig = {
      type: 'email',
      name: 'ops-mail',
      host: '127.0.0.1',
      port: smtp.port,
      secure: false,
      starttls: 'never',
      ...(options.auth === true
        ? { auth: { user: 'phoenix', password: { secret: 'SMTP_PASSWORD' } } }
        : {}),
      from: 'Phoenix <phoenix@example.com>',
      to: ['ops@example.com', 'oncall@example.com'],
      subjectPrefix: '[Phoenix]',
    };
    const watch = new DeliveryWatch();
    const notifier = new Notifier({
      routes: createRoutes([config], {
        resolveSecret: () => options.password ?? PASSWORD,
      }),
      clock: new FakeClock(),
      log: silentLogger(),
      onDelivery: watch.sink,
      newId: () => 'delivery-7',
    });
    cleanup.push(() => notifier.close());
    return { smtp, watch, notifier };
  }

  it('sends a subject, a text and an HTML body over SMTP', async () => {
    const { smtp, watch, notifier } = await setup();

    notifier.publish(SAMPLE_EVENTS['deployment.rolled-back']);
    const mail = await smtp.mail(1);

    expect(mail.from).toBe('phoenix@example.com');
    expect(mail.to).toEqual(['ops@example.com', 'oncall@example.com']);
    expect(mail.headers.get('subject')).toBe('[Phoenix] shop prod rolled back to release #11');
    expect(mail.headers.get('from')).toBe('Phoenix <phoenix@example.com>');
    expect(mail.headers.get('to')).toBe('ops@example.com, oncall@example.com');
    expect(mail.headers.get('message-id')).toBe('<delivery-7@example.com>');
    expect(mail.headers.get('x-phoenix-event')).toBe('deployment.rolled-back');
    expect(mail.headers.get('x-phoenix-delivery')).toBe('delivery-7');
    expect(mail.text).toContain('Reason:\n  alarm canary-error-rate went to ALARM\n');
    expect(mail.text).toContain('  12:00:02-12:00:03 UTC 12.25 breaching\n');
    expect(mail.text).toContain('  Run #42: https://phoenix.example.com/runs/run_01\n');
    expect(mail.html).toContain('<h2>shop prod rolled back to release #11</h2>');
    expect(mail.html).toContain('<a href="https://phoenix.example.com/runs/run_01">Run #42</a>');
    expect(await watch.final()).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('logs in with the password its secret holds', async () => {
    const { smtp, watch, notifier } = await setup({ auth: true });

    notifier.publish(SAMPLE_EVENTS['approval.waiting']);
    const mail = await smtp.mail(1);

    expect(mail.headers.get('subject')).toBe('[Phoenix] shop waits for approval to deploy to prod');
    expect((await watch.final()).status).toBe('delivered');
  });

  it('does not retry a refused login', async () => {
    const { smtp, watch, notifier } = await setup({ auth: true, password: 'wrong password' });

    notifier.publish(SAMPLE_EVENTS['approval.waiting']);
    const delivery = await watch.final();

    expect(delivery).toMatchObject({ status: 'failed', attempts: 1 });
    expect(delivery.lastError).toBe('Invalid login: 535 Invalid username or password');
    expect(smtp.mails).toHaveLength(0);
  });
});
