import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePhoenixConfig } from '../config/phoenix-config.js';
import type { Deployment, DeploymentStrategy } from '../deploy/deployment.js';
import { DeployHarness } from '../deploy/testing/deploy-harness.js';
import { systemClock } from '../shared/clock.js';
import { silentLogger } from '../shared/logger.js';
import { deploymentNotifier, type NotificationSink } from './event-sources.js';
import { MemoryDeliveryLog } from './memory-delivery-log.js';
import type { NotificationEvent } from './notification-event.js';
import { ServiceNotifications } from './service-notifications.js';
import { HttpReceiver } from './testing/http-receiver.js';

// What a deployment tells the world, from real deployments: a canary rolled back by its
// alarm carries the alarm and its datapoints; and a service's phoenix.yml channels get it.

const CANARY: DeploymentStrategy = {
  kind: 'canary',
  percent: 10,
  intervalMs: 10 * 60_000,
  bakeMs: 0,
  testListener: false,
  manualPromote: false,
};

let harness: DeployHarness;
let published: NotificationEvent[];

beforeEach(() => {
  harness = new DeployHarness();
  published = [];
});

afterEach(async () => {
  expect(await harness.cleanup()).toEqual([]);
});

const sink: NotificationSink = { publish: (event) => published.push(event) };

function controllerTelling(...sinks: NotificationSink[]) {
  const notices = sinks.map((s) => deploymentNotifier(s, () => 'http://phoenix.test'));
  return harness.controller({
    onChange: (deployment: Deployment) => {
      harness.observe(deployment);
      for (const notice of notices) notice(deployment);
    },
  });
}

describe('deployment notifications', () => {
  it('tells of a start and a success, once each', async () => {
    const controller = controllerTelling(sink);

    const recorded = await harness.deploy(controller, harness.release('v1'));
    await controller.whenFinished(recorded.id);

    expect(published.map((e) => e.type)).toEqual(['deployment.started', 'deployment.succeeded']);
    expect(published[0]).toMatchObject({
      service: 'shop',
      environment: 'dev',
      deploymentId: recorded.id,
      release: { id: 'rel_1', number: 1 },
      links: [{ url: `http://phoenix.test/api/deployments/${recorded.id}` }],
    });
  });

  it('tells of the alarm that tripped, then of the rollback with its datapoints', async () => {
    const first = controllerTelling();
    await first.whenFinished((await harness.deploy(first, harness.release('v1'))).id);
    const controller = controllerTelling(sink);
    const recorded = await harness.deploy(controller, harness.release('v2'), CANARY);
    await harness.until(recorded.id, (d) => d.status === 'baking');

    for (let i = 0; i < 3; i++) {
      harness.router.serve('shop-dev-2', { status: 500, count: 10 });
      harness.clock.jump(200);
    }
    await controller.whenFinished(recorded.id);

    const alarm = published.find((e) => e.type === 'alarm.state-changed');
    expect(alarm).toMatchObject({
      environment: 'dev',
      alarm: { name: 'release-errors', state: 'ALARM' },
      previousState: expect.stringMatching(/^(OK|INSUFFICIENT_DATA)$/),
      deploymentId: recorded.id,
    });
    const rolledBack = published.find((e) => e.type === 'deployment.rolled-back');
    expect(rolledBack).toMatchObject({
      reason: expect.stringMatching(/^alarm release-errors: /),
      rolledBackTo: { id: 'rel_1' },
      alarms: [
        {
          name: 'release-errors',
          state: 'ALARM',
          datapoints: expect.arrayContaining([expect.objectContaining({ value: 100 })]),
        },
      ],
    });
  });

  it('sends them to the webhook the service’s phoenix.yml names', async () => {
    const receiver = await HttpReceiver.start(() => ({ status: 204 }));
    const notifications = new ServiceNotifications({
      configs: {
        load: async () =>
          parsePhoenixConfig(
            [
              'service: shop',
              'notifications:',
              `  - { type: webhook, url: '${receiver.url()}', events: ['deployment.*'] }`,
              '',
            ].join('\n'),
            'phoenix.yml',
          ),
      },
      clock: systemClock(),
      logger: silentLogger(),
      resolveSecret: () => undefined,
      deliveryLog: new MemoryDeliveryLog(),
    });
    try {
      const controller = controllerTelling(notifications);

      const recorded = await harness.deploy(controller, harness.release('v1'));
      const started = await receiver.request(1);
      const succeeded = await receiver.request(2);
      await controller.whenFinished(recorded.id);

      expect(started.headers['x-phoenix-event']).toBe('deployment.started');
      expect(JSON.parse(started.body.toString())).toMatchObject({
        event: 'deployment.started',
        deploymentId: recorded.id,
      });
      expect(succeeded.headers['x-phoenix-event']).toBe('deployment.succeeded');
    } finally {
      await notifications.close();
      await receiver.close();
    }
  });
});
