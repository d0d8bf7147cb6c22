import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../shared/clock.js';
import { silentLogger } from '../shared/logger.js';
import { createRoutes } from './create-channels.js';
import { Notifier } from './notifier.js';
import type { SlackMessage } from './slack-message.js';
import { DeliveryWatch } from './testing/delivery-watch.js';
import { SAMPLE_EVENTS } from './testing/events.js';
import { HttpReceiver, type Reply } from './testing/http-receiver.js';

const TOKEN_PATH = '/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX';

describe('slack channel', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of cleanup.splice(0).reverse()) await close();
  });

  async function setup(reply: (n: number) => Reply) {
    const receiver = await HttpReceiver.start(reply);
    cleanup.push(() => receiver.close());
    const watch = new DeliveryWatch();
    const secrets: Record<string, string> = { SLACK_URL: receiver.url(TOKEN_PATH) };
    const notifier = new Notifier({
      routes: createRoutes([{ type: 'slack', name: 'ops', url: { secret: 'SLACK_URL' } }], {
        resolveSecret: (ref) => ('secret' in ref ? secrets[ref.secret] : undefined),
      }),
      clock: new FakeClock(),
      log: silentLogger(),
      onDelivery: watch.sink,
    });
    cleanup.push(() => notifier.close());
    return { receiver, watch, notifier };
  }

  it('posts a readable message with links to the incoming webhook', async () => {
    const { receiver, watch, notifier } = await setup(() => ({ status: 200, body: 'ok' }));

    notifier.publish(SAMPLE_EVENTS['deployment.failed']);
    const request = await receiver.request(1);

    expect(request.path).toBe(TOKEN_PATH);
    expect(request.headers['content-type']).toBe('application/json');
    const body = JSON.parse(request.body.toString('utf8')) as SlackMessage;
    expect(body.text).toBe(
      'shop release #12 failed to deploy to prod\nReason: health check failed on 2 of 3 instances\n<https://phoenix.example.com/runs/run_01|Run #42>',
    );
    expect(body.blocks[0]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: '*shop release #12 failed to deploy to prod*' },
    });
    expect(body.blocks.at(-1)).toEqual({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: '<https://phoenix.example.com/runs/run_01|Run #42>' }],
    });
    expect(await watch.final()).toMatchObject({
      status: 'delivered',
      channel: 'ops',
      channelType: 'slack',
    });
  });

  it('masks the webhook URL in the recorded error', async () => {
    const { watch, notifier } = await setup(() => ({
      status: 404,
      body: `no_service: ${TOKEN_PATH} is not a hook`,
    }));

    notifier.publish(SAMPLE_EVENTS['run.failed']);
    const delivery = await watch.final();

    expect(delivery).toMatchObject({ status: 'failed', attempts: 1 });
    expect(delivery.lastError).toBe(
      'endpoint answered 404 Not Found: no_service: *** is not a hook',
    );
  });
});
