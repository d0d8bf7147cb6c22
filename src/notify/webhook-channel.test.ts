import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../shared/clock.js';
import { silentLogger } from '../shared/logger.js';
import { createRoutes } from './create-channels.js';
import type { NotificationChannelConfig } from './notification-config.js';
import { Notifier } from './notifier.js';
import type { SecretRef } from './secret-ref.js';
import { DeliveryWatch } from './testing/delivery-watch.js';
import { SAMPLE_EVENTS } from './testing/events.js';
import { HttpReceiver, type Reply } from './testing/http-receiver.js';
import { signBody, webhookBody } from './webhook-channel.js';

const SECRETS: Record<string, string> = { HOOK_SECRET: "It's a Secret to Everybody" };

function resolveSecret(ref: SecretRef): string | undefined {
  return 'env' in ref ? SECRETS[ref.env] : SECRETS[ref.secret];
}

function verify(secret: string, body: Buffer, header: string | string[] | undefined): boolean {
  if (typeof header !== 'string' || !header.startsWith('sha256=')) return false;
  const given = Buffer.from(header.slice('sha256='.length), 'hex');
  const expected = createHmac('sha256', secret).update(body).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

describe('webhook channel', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of cleanup.splice(0).reverse()) await close();
  });

  async function setup(
    config: Omit<NotificationChannelConfig & { type: 'webhook' }, 'url'>,
    reply: (n: number) => Reply = () => ({ status: 204 }),
  ) {
    const receiver = await HttpReceiver.start(reply);
    cleanup.push(() => receiver.close());
    const watch = new DeliveryWatch();
    const notifier = new Notifier({
      routes: createRoutes([{ ...config, url: receiver.url('/hooks/phoenix') }], { resolveSecret }),
      clock: new FakeClock(),
      log: silentLogger(),
      onDelivery: watch.sink,
      newId: () => 'delivery-1',
    });
    cleanup.push(() => notifier.close());
    return { receiver, watch, notifier };
  }

  it('posts the event as JSON, signed with the secret', async () => {
    const { receiver, watch, notifier } = await setup({
      type: 'webhook',
      name: 'hook',
      secret: { env: 'HOOK_SECRET' },
    });
    const event = {
      ...SAMPLE_EVENTS['deployment.rolled-back'],
      occurredAt: '2026-01-01T12:00:05.000Z',
    };

    notifier.publish(event);
    const request = await receiver.request(1);

    expect(request.method).toBe('POST');
    expect(request.path).toBe('/hooks/phoenix');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['x-phoenix-event']).toBe('deployment.rolled-back');
    expect(request.headers['x-phoenix-delivery']).toBe('delivery-1');
    expect(
      verify(
        SECRETS['HOOK_SECRET'] ?? '',
        request.body,
        request.headers['x-phoenix-signature-256'],
      ),
    ).toBe(true);
    expect(verify('another secret', request.body, request.headers['x-phoenix-signature-256'])).toBe(
      false,
    );
    const { type, ...fields } = event;
    expect(JSON.parse(request.body.toString('utf8'))).toEqual({ event: type, ...fields });
    expect((await watch.final()).status).toBe('delivered');
  });

  it('sends no signature without a secret', async () => {
    const { receiver, notifier } = await setup({ type: 'webhook', name: 'hook' });

    notifier.publish(SAMPLE_EVENTS['run.started']);
    const request = await receiver.request(1);

    expect(request.headers['x-phoenix-signature-256']).toBeUndefined();
    expect(JSON.parse(request.body.toString('utf8'))).toMatchObject({
      event: 'run.started',
      service: 'shop',
      run: { id: 'run_01', number: 42 },
      occurredAt: '2026-01-01T00:00:00.000Z',
    });
  });

  it('fails at once when its secret is not set', async () => {
    const { receiver, watch, notifier } = await setup({
      type: 'webhook',
      name: 'hook',
      secret: { secret: 'MISSING' },
    });

    notifier.publish(SAMPLE_EVENTS['run.started']);
    const delivery = await watch.final();

    expect(delivery).toMatchObject({
      status: 'failed',
      attempts: 1,
      lastError: 'secret MISSING is not set',
    });
    expect(receiver.requests).toHaveLength(0);
  });

  it.each([
    [404, 'endpoint answered 404 Not Found: no such hook', 1],
    [410, 'endpoint answered 410 Gone: no such hook', 1],
    [302, 'endpoint answered 302 Found: no such hook', 1],
  ])('gives up at once on %i', async (status, error, attempts) => {
    const { watch, notifier } = await setup({ type: 'webhook', name: 'hook' }, () => ({
      status,
      body: 'no such hook',
    }));

    notifier.publish(SAMPLE_EVENTS['run.started']);

    expect(await watch.final()).toMatchObject({ status: 'failed', attempts, lastError: error });
  });
});

describe('webhook channel without a listener', () => {
  it('records the refused connection', async () => {
    const closed = await HttpReceiver.start(() => ({ status: 204 }));
    const url = closed.url();
    await closed.close();
    const watch = new DeliveryWatch();
    const notifier = new Notifier({
      routes: createRoutes([{ type: 'webhook', name: 'gone', url }], { resolveSecret }),
      clock: new FakeClock(),
      log: silentLogger(),
      retry: { maxAttempts: 1 },
      onDelivery: watch.sink,
    });

    notifier.publish(SAMPLE_EVENTS['run.started']);
    const delivery = await watch.final();
    await notifier.close();

    expect(delivery.status).toBe('failed');
    expect(delivery.lastError).toMatch(/^fetch failed: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
  });
});

describe('signBody', () => {
  it.each([
    // GitHub's documented example: secret and payload from "Validating webhook deliveries".
    [
      "It's a Secret to Everybody",
      'Hello, World!',
      'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    ],
  ])('signs %j as GitHub does', (secret, body, signature) => {
    expect(signBody(secret, body)).toBe(signature);
  });

  it('puts the event name first in the body', () => {
    expect(webhookBody(SAMPLE_EVENTS['approval.expired'])).toBe(
      '{"event":"approval.expired","service":"shop","environment":"prod","approvalId":"apr_01"}',
    );
  });
});
