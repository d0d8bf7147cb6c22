import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ServerFixture } from '../../test/support/server-fixture.js';
import { parsePhoenixConfig } from '../config/phoenix-config.js';
import type { Delivery } from '../notify/delivery.js';
import { ServiceNotifications } from '../notify/service-notifications.js';
import { SAMPLE_EVENTS } from '../notify/testing/events.js';
import { HttpReceiver } from '../notify/testing/http-receiver.js';
import { systemClock } from '../shared/clock.js';
import { silentLogger } from '../shared/logger.js';

describe('GET /api/notifications', () => {
  let f: ServerFixture;
  let receiver: HttpReceiver;
  let notifications: ServiceNotifications;

  beforeEach(async () => {
    f = new ServerFixture();
    // The endpoint knows no such hook: a 404 is final, not retried.
    receiver = await HttpReceiver.start(() => ({ status: 404, body: 'no such hook' }));
    notifications = new ServiceNotifications({
      configs: {
        load: async () =>
          parsePhoenixConfig(
            `service: shop\nnotifications:\n  - { type: webhook, name: ops, url: '${receiver.url()}' }\n`,
            'phoenix.yml',
          ),
      },
      clock: systemClock(),
      logger: silentLogger(),
      resolveSecret: () => undefined,
      deliveryLog: f.store.notifications,
    });
  });

  afterEach(async () => {
    await notifications.close();
    await receiver.close();
    await f.close();
  });

  async function list(url: string) {
    const app = f.start({ notifications });
    await app.ready();
    const viewer = f.token('viewer', 'vic');
    return app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${viewer}` } });
  }

  /** A delivery as an earlier server left it in the store. */
  function kept(n: number, overrides: Partial<Delivery> = {}): Delivery {
    const at = new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString();
    const delivery: Delivery = {
      id: `delivery-${n}`,
      event: 'deployment.failed',
      service: 'shop',
      environment: 'prod',
      deploymentId: 'dep_01',
      runId: 'run_01',
      channel: 'ops',
      channelType: 'slack',
      status: 'delivered',
      attempts: 1,
      createdAt: at,
      updatedAt: at,
      lastAttemptAt: at,
      ...overrides,
    };
    f.store.notifications.save(delivery, {
      event: SAMPLE_EVENTS['deployment.failed'],
      commit: 'c0ffee',
    });
    return delivery;
  }

  it('shows where events went and why a delivery failed', async () => {
    const app = f.start({ notifications });
    await app.ready();
    const viewer = f.token('viewer', 'vic');

    notifications.publish(
      { type: 'run.started', service: 'shop', run: { id: 'run_1', number: 1 } },
      'c0ffee',
    );
    await receiver.request(1);
    let deliveries: Delivery[] = [];
    while (deliveries[0]?.status !== 'failed') {
      // The delivery is recorded failed right after the answer: wait for the turn it takes.
      await new Promise((resolve) => setImmediate(resolve));
      const response = await app.inject({
        method: 'GET',
        url: '/api/notifications?service=shop',
        headers: { authorization: `Bearer ${viewer}` },
      });
      deliveries = response.json<{ deliveries: Delivery[] }>().deliveries;
    }

    expect(deliveries).toEqual([
      expect.objectContaining({
        event: 'run.started',
        service: 'shop',
        runId: 'run_1',
        channel: 'ops',
        channelType: 'webhook',
        status: 'failed',
        attempts: 1,
        lastError: expect.stringMatching(/404/),
      }),
    ]);
  });

  it('lists what the store kept from before the server started, newest first', async () => {
    const first = kept(1, { status: 'pending', nextAttemptAt: '2026-01-01T00:01:00.000Z' });
    const second = kept(2, { service: 'cart' });
    const third = kept(3, { status: 'failed', lastError: 'endpoint answered 410 Gone' });

    const response = await list('/api/notifications');

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ deliveries: [third, second, first] });
  });

  it.each([
    ['service=shop', [3, 1]],
    ['status=failed', [3]],
    ['service=shop&status=pending', [1]],
    ['limit=2', [3, 2]],
    ['service=shop&limit=1', [3]],
  ])('filters with ?%s', async (query, expected) => {
    kept(1, { status: 'pending' });
    kept(2, { service: 'cart' });
    kept(3, { status: 'failed' });

    const response = await list(`/api/notifications?${query}`);

    const ids = response.json<{ deliveries: Delivery[] }>().deliveries.map((d) => d.id);
    expect(ids).toEqual(expected.map((n) => `delivery-${n}`));
  });

  it.each(['limit=0', 'limit=1001', 'limit=many', 'status=retrying'])(
    'refuses ?%s',
    async (query) => {
      const response = await list(`/api/notifications?${query}`);

      expect(response.statusCode).toBe(400);
    },
  );
});
