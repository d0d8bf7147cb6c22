import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ServerFixture } from '../../test/support/server-fixture.js';
import { parsePhoenixConfig } from '../config/phoenix-config.js';
import type { Delivery } from '../notify/delivery.js';
import { ServiceNotifications } from '../notify/service-notifications.js';
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
    });
  });

  afterEach(async () => {
    await notifications.close();
    await receiver.close();
    await f.close();
  });

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
        channel: 'ops',
        channelType: 'webhook',
        status: 'failed',
        attempts: 1,
        lastError: expect.stringMatching(/404/),
      }),
    ]);
  });
});
