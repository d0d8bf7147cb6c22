import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../shared/clock.js';
import { silentLogger } from '../shared/logger.js';
import { createRoutes, type NotificationRoute } from './create-channels.js';
import { Notifier, type NotifierOptions } from './notifier.js';
import { DeliveryWatch } from './testing/delivery-watch.js';
import { SAMPLE_EVENTS } from './testing/events.js';
import { HttpReceiver, type Reply } from './testing/http-receiver.js';
import { captureLogs } from './testing/log-capture.js';
import { ScriptedChannel, type Step } from './testing/scripted-channel.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

/** Closes without waiting: abandons whatever is still under way. */
async function closeNow(instance: Notifier, clock: FakeClock): Promise<void> {
  const closed = instance.close({ timeoutMs: 0 });
  clock.advance(0);
  await closed;
}

function notifier(options: Partial<NotifierOptions> & { routes: NotificationRoute[] }) {
  const clock = new FakeClock();
  const watch = new DeliveryWatch();
  const logs = captureLogs();
  const instance = new Notifier({ clock, log: logs.log, onDelivery: watch.sink, ...options });
  cleanup.push(() => closeNow(instance, clock));
  return { notifier: instance, clock, watch, logs };
}

async function receiver(reply: (n: number) => Reply) {
  const started = await HttpReceiver.start(reply);
  cleanup.push(() => started.close());
  return started;
}

function webhookRoute(name: string, url: string): NotificationRoute[] {
  return createRoutes([{ type: 'webhook', name, url }], { resolveSecret: () => undefined });
}

function scripted(name: string, steps: Step[], filter: NotificationRoute['filter'] = {}) {
  const channel = new ScriptedChannel(name, steps);
  return { channel, route: { channel, filter } };
}

function failureLogs(lines: Record<string, unknown>[]) {
  return lines.filter((line) => line['msg'] === 'notification delivery failed');
}

describe('Notifier retries', () => {
  it('delivers on the third attempt after two failures, backing off 1 s then 4 s', async () => {
    const hook = await receiver((n) => (n < 3 ? { status: 503, body: 'busy' } : { status: 200 }));
    const {
      notifier: n,
      clock,
      watch,
      logs,
    } = notifier({ routes: webhookRoute('hook', hook.url()) });
    const start = clock.now();

    n.publish(SAMPLE_EVENTS['deployment.succeeded']);
    await hook.request(1);
    const first = await watch.retryScheduled(1);
    clock.advance(1000);
    await hook.request(2);
    const second = await watch.retryScheduled(2);
    clock.advance(4000);
    const done = await watch.final();

    expect(first.nextAttemptAt).toBe(new Date(start + 1000).toISOString());
    expect(first.lastError).toBe('endpoint answered 503 Service Unavailable: busy');
    expect(second.nextAttemptAt).toBe(new Date(start + 1000 + 4000).toISOString());
    expect(done).toMatchObject({ status: 'delivered', attempts: 3 });
    expect(hook.requests.map((r) => r.headers['x-phoenix-delivery'])).toEqual([
      done.id,
      done.id,
      done.id,
    ]);
    expect(failureLogs(logs.lines())).toEqual([]);
  });

  it('times out a hanging endpoint, retries, then fails without blocking publish', async () => {
    const hang = await receiver(() => 'hang');
    const fine = await receiver(() => ({ status: 204 }));
    const {
      notifier: n,
      clock,
      watch,
      logs,
    } = notifier({
      routes: [...webhookRoute('hanging', hang.url()), ...webhookRoute('fine', fine.url())],
      attemptTimeoutMs: 5000,
      retry: { maxAttempts: 2 },
    });

    n.publish(SAMPLE_EVENTS['deployment.failed']);
    const atReturn = n.deliveries();
    await hang.request(1);
    const other = await watch.final('fine');
    clock.advance(5000);
    const retry = await watch.retryScheduled(1, 'hanging');
    clock.advance(1000);
    await hang.request(2);
    clock.advance(5000);
    const failed = await watch.final('hanging');

    expect(atReturn.map((d) => [d.channel, d.status, d.attempts])).toEqual([
      ['hanging', 'pending', 0],
      ['fine', 'pending', 0],
    ]);
    expect(other.status).toBe('delivered');
    expect(retry.lastError).toBe('no answer within 5s');
    expect(failed).toMatchObject({
      status: 'failed',
      attempts: 2,
      lastError: 'no answer within 5s',
    });
    expect(failureLogs(logs.lines())).toEqual([
      expect.objectContaining({
        level: 40,
        deliveryId: failed.id,
        event: 'deployment.failed',
        service: 'shop',
        environment: 'prod',
        channel: 'hanging',
        channelType: 'webhook',
        attempts: 2,
        error: 'no answer within 5s',
      }),
    ]);
  });

  it('stops waiting for a channel that ignores its abort signal', async () => {
    const { channel, route } = scripted('stubborn', ['hang', 'ok']);
    const { notifier: n, clock, watch } = notifier({ routes: [route], attemptTimeoutMs: 2000 });

    n.publish(SAMPLE_EVENTS['run.started']);
    await watch.until((d) => d.attempts === 1);
    clock.advance(2000);
    await watch.retryScheduled(1);
    clock.advance(1000);
    const done = await watch.final();

    expect(done).toMatchObject({ status: 'delivered', attempts: 2 });
    expect(channel.requests[0]?.signal.aborted).toBe(true);
  });

  it('records an error a channel throws synchronously, and masks its secrets', async () => {
    const channel = new ScriptedChannel('leaky', ['fail'], ['s3cr3t-token']);
    const { notifier: n, watch } = notifier({
      routes: [{ channel, filter: {} }],
      retry: { maxAttempts: 1 },
    });

    expect(() => n.publish(SAMPLE_EVENTS['run.started'])).not.toThrow();
    const done = await watch.final();

    expect(done).toMatchObject({ status: 'failed', attempts: 1, lastError: 'failed ***' });
  });

  it('never lets a channel or a sink throw into publish', async () => {
    const { route } = scripted('thrower', ['throw-sync']);
    const { notifier: n, watch } = notifier({ routes: [route], retry: { maxAttempts: 1 } });
    const brokenClock = new FakeClock();
    const broken = new Notifier({
      routes: [scripted('fine', ['ok']).route],
      clock: brokenClock,
      log: silentLogger(),
      onDelivery: () => {
        throw new Error('sink broken');
      },
    });
    cleanup.push(() => closeNow(broken, brokenClock));

    expect(() => n.publish(SAMPLE_EVENTS['run.started'])).not.toThrow();
    expect(() => broken.publish(SAMPLE_EVENTS['run.started'])).not.toThrow();

    expect(await watch.final()).toMatchObject({
      status: 'failed',
      lastError: 'thrown before any await',
    });
    await broken.close();
    expect(broken.deliveries()).toMatchObject([{ status: 'delivered', attempts: 1 }]);
  });
});

describe('Notifier filters', () => {
  it.each([
    ['run.failed', ['everything', 'failures', 'prod-failures']],
    ['deployment.failed', ['everything', 'deploys', 'failures', 'prod-failures']],
    ['deployment.succeeded', ['everything', 'deploys']],
    ['approval.waiting', ['everything']],
    ['alarm.state-changed', ['everything']],
  ] as const)('sends %s to %j', async (type, expected) => {
    const routes = [
      scripted('everything', ['ok']).route,
      scripted('deploys', ['ok'], { events: ['deployment.*'] }).route,
      scripted('failures', ['ok'], { events: ['*.failed'] }).route,
      scripted('prod-failures', ['ok'], { events: ['*.failed'], environments: ['prod'] }).route,
      scripted('dev-only', ['ok'], { environments: ['dev'] }).route,
    ];
    const { notifier: n } = notifier({ routes });

    n.publish(SAMPLE_EVENTS[type]);

    expect(n.deliveries().map((d) => d.channel)).toEqual(expected);
  });
});

describe('Notifier queue', () => {
  it('drops the oldest waiting delivery when the queue is full', async () => {
    const { channel, route } = scripted('slow', ['hang', 'ok']);
    const {
      notifier: n,
      watch,
      logs,
    } = notifier({ routes: [route], concurrency: 1, maxQueued: 2 });

    for (const number of [1, 2, 3, 4]) {
      n.publish({ ...SAMPLE_EVENTS['run.started'], run: { id: `run_${number}`, number } });
    }
    const dropped = await watch.final();
    channel.release();
    await watch.until((d) => d.status === 'delivered' && d.id === n.deliveries()[3]?.id);

    const [first, second, third, fourth] = n.deliveries();
    expect(dropped.id).toBe(second?.id);
    expect(second).toMatchObject({
      status: 'failed',
      attempts: 0,
      lastError: 'dropped: more than 2 deliveries waiting',
    });
    expect([first?.status, third?.status, fourth?.status]).toEqual([
      'delivered',
      'delivered',
      'delivered',
    ]);
    expect(
      channel.requests.map((r) => r.event.type === 'run.started' && r.event.run.number),
    ).toEqual([1, 3, 4]);
    expect(failureLogs(logs.lines())).toHaveLength(1);
  });

  it('counts deliveries waiting to retry against the bound', async () => {
    const { route } = scripted('down', ['fail']);
    const { notifier: n, watch } = notifier({ routes: [route], maxQueued: 1 });

    n.publish(SAMPLE_EVENTS['run.started']);
    const waiting = await watch.retryScheduled(1);
    n.publish(SAMPLE_EVENTS['run.succeeded']);
    const dropped = await watch.final();

    expect(dropped.id).toBe(waiting.id);
    expect(dropped.lastError).toBe('dropped: more than 1 deliveries waiting');
  });

  it('keeps a bounded history, finished deliveries going first', async () => {
    const { route } = scripted('quick', ['ok']);
    const { notifier: n, watch } = notifier({ routes: [route], maxRecorded: 3 });

    for (const number of [1, 2, 3, 4, 5]) {
      n.publish({ ...SAMPLE_EVENTS['run.started'], run: { id: `run_${number}`, number } });
    }
    const whilePending = n.deliveries();
    const last = whilePending[4];
    await watch.until((d) => d.id === last?.id && d.status === 'delivered');

    expect(whilePending).toHaveLength(5);
    expect(n.deliveries().map((d) => d.id)).toEqual(whilePending.slice(2).map((d) => d.id));
  });
});

describe('Notifier close', () => {
  it('waits for a delivery under way', async () => {
    const { channel, route } = scripted('slow', ['hang']);
    const { notifier: n, watch } = notifier({ routes: [route] });
    n.publish(SAMPLE_EVENTS['deployment.started']);
    await watch.until((d) => d.attempts === 1);

    const closed = n.close({ timeoutMs: 5000 });
    channel.release();
    await closed;

    expect(n.deliveries()[0]).toMatchObject({ status: 'delivered' });
  });

  it('abandons what is still under way at the timeout and retries nothing', async () => {
    const hang = scripted('hang', ['hang']);
    const down = scripted('down', ['fail']);
    const { notifier: n, clock, watch } = notifier({ routes: [hang.route, down.route] });
    n.publish(SAMPLE_EVENTS['deployment.started']);
    await watch.retryScheduled(1, 'down');

    const closed = n.close({ timeoutMs: 3000 });
    clock.advance(3000);
    await closed;
    n.publish(SAMPLE_EVENTS['deployment.succeeded']);

    expect(n.deliveries().map((d) => [d.channel, d.status, d.lastError])).toEqual([
      ['hang', 'failed', 'abandoned: shutting down'],
      ['down', 'failed', 'failed (not retried: shutting down)'],
    ]);
    expect(clock.pendingTimers()).toBe(0);
  });
});
