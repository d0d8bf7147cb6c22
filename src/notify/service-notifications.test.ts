import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePhoenixConfig, type PhoenixConfig } from '../config/phoenix-config.js';
import { FakeClock } from '../shared/clock.js';
import { silentLogger } from '../shared/logger.js';
import { openStore, type Store } from '../store/store.js';
import { openScratchStore, type ScratchStore } from '../store/testing/scratch-store.js';
import type { DeliveryLog } from './delivery-log.js';
import { MemoryDeliveryLog } from './memory-delivery-log.js';
import { ServiceNotifications } from './service-notifications.js';
import { DeliveryWatch } from './testing/delivery-watch.js';
import { SAMPLE_EVENTS } from './testing/events.js';
import { HttpReceiver, type Reply } from './testing/http-receiver.js';
import { watchedLog } from './testing/watched-log.js';

// A server's notifications, stopped and started again on the same database: what waited to
// be retried is sent by the next server, through the channels of the commit it was about.

let scratch: ScratchStore;
let stores: Store[];
const cleanup: (() => Promise<void>)[] = [];

beforeEach(async () => {
  scratch = await openScratchStore({
    prefix: 'phoenix-service-notify-',
    now: Date.now,
    services: [],
  });
  stores = [scratch.store];
});

afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
  for (const store of stores) if (store.db.open) store.close();
  await scratch.close();
});

async function receiver(reply: (n: number) => Reply) {
  const started = await HttpReceiver.start(reply);
  cleanup.push(() => started.close());
  return started;
}

/** phoenix.yml per commit: one webhook channel, `ops`, at the URL the commit names. */
function configsAt(urls: Record<string, string>, loaded: string[] = []) {
  return {
    load: (service: string, commit: string): Promise<PhoenixConfig> => {
      loaded.push(commit);
      const url = urls[commit];
      if (url === undefined) return Promise.reject(new Error(`no commit ${commit}`));
      return Promise.resolve(
        parsePhoenixConfig(
          `service: ${service}\nnotifications:\n  - { type: webhook, name: ops, url: '${url}' }\n`,
          'phoenix.yml',
        ),
      );
    },
  };
}

function server(log: DeliveryLog, configs: ReturnType<typeof configsAt>) {
  const clock = new FakeClock();
  const watch = new DeliveryWatch();
  const notifications = new ServiceNotifications({
    configs,
    clock,
    logger: silentLogger(),
    resolveSecret: () => undefined,
    deliveryLog: watchedLog(log, watch),
  });
  cleanup.push(() => notifications.close());
  return { notifications, clock, watch };
}

function restartedStore(): Store {
  scratch.store.close();
  const store = openStore(`${scratch.folder}/phoenix.db`);
  stores.push(store);
  return store;
}

describe('ServiceNotifications across a restart', () => {
  it('sends a delivery waiting to retry after the next server starts', async () => {
    const hook = await receiver((n) => (n === 1 ? { status: 503 } : { status: 204 }));
    const first = server(scratch.store.notifications, configsAt({ c1: hook.url() }));
    first.notifications.publish(SAMPLE_EVENTS['deployment.failed'], 'c1');
    const waiting = await first.watch.retryScheduled(1);

    await first.notifications.close();
    const store = restartedStore();
    const loaded: string[] = [];
    const second = server(store.notifications, configsAt({ c1: hook.url() }, loaded));
    await second.notifications.resume();
    second.clock.advance(1000);
    const done = await second.watch.final();

    expect(loaded).toEqual(['c1']);
    expect(done).toMatchObject({ id: waiting.id, status: 'delivered', attempts: 2 });
    expect(hook.requests.map((r) => r.headers['x-phoenix-delivery'])).toEqual([
      waiting.id,
      waiting.id,
    ]);
    expect(second.notifications.deliveries({ limit: 10 })).toEqual([done]);
  });

  it('sends each delivery through the channels of its own commit', async () => {
    const old = await receiver((n) => (n === 1 ? { status: 503 } : { status: 204 }));
    const current = await receiver(() => ({ status: 204 }));
    const first = server(
      scratch.store.notifications,
      configsAt({ c1: old.url(), c2: current.url() }),
    );
    first.notifications.publish(SAMPLE_EVENTS['run.started'], 'c1');
    await first.watch.retryScheduled(1);

    await first.notifications.close();
    const second = server(
      scratch.store.notifications,
      configsAt({ c1: old.url(), c2: current.url() }),
    );
    await second.notifications.resume();
    second.notifications.publish(SAMPLE_EVENTS['run.succeeded'], 'c2');
    await current.request(1);
    second.clock.advance(1000);
    await old.request(2);
    await second.watch.until((d) => d.event === 'run.started' && d.status === 'delivered');

    expect(old.requests.map((r) => r.headers['x-phoenix-event'])).toEqual([
      'run.started',
      'run.started',
    ]);
    expect(current.requests.map((r) => r.headers['x-phoenix-event'])).toEqual(['run.succeeded']);
  });

  it('journals each delivery with the newest commit that names the same channels', async () => {
    const hook = await receiver(() => ({ status: 503 }));
    const same = hook.url();
    const first = server(scratch.store.notifications, configsAt({ feature: same, main: same }));
    first.notifications.publish(SAMPLE_EVENTS['run.started'], 'feature');
    await first.watch.retryScheduled(1);
    const second = first.watch.until(
      (d) => d.event === 'run.succeeded' && d.attempts === 1 && d.nextAttemptAt !== undefined,
    );
    first.notifications.publish(SAMPLE_EVENTS['run.succeeded'], 'main');
    await second;

    await first.notifications.close();
    const commits = scratch.store.notifications
      .unfinished()
      .map((u) => [u.delivery.event, u.resend?.commit]);

    // The feature branch may be gone when a later server resends; main's delivery names main.
    expect(commits).toEqual([
      ['run.started', 'feature'],
      ['run.succeeded', 'main'],
    ]);
  });

  it('records as interrupted what it cannot send again', async () => {
    const hook = await receiver(() => ({ status: 503 }));
    const first = server(scratch.store.notifications, configsAt({ c1: hook.url() }));
    first.notifications.publish(SAMPLE_EVENTS['deployment.started'], 'c1');
    await first.watch.retryScheduled(1);
    await first.notifications.close();

    // The commit cannot be read any more (the repository was deleted, say).
    const second = server(scratch.store.notifications, configsAt({}));
    await second.notifications.resume();

    expect(second.notifications.deliveries({ limit: 10 })).toMatchObject([
      {
        status: 'failed',
        attempts: 1,
        lastError:
          'interrupted: the server stopped before it was delivered (the channels at c1 could not be read)',
      },
    ]);
    expect(scratch.store.notifications.unfinished()).toEqual([]);
    expect(hook.requests).toHaveLength(1);
  });
});

describe('ServiceNotifications deliveries', () => {
  it('lists from its log, newest first, by service and status, up to the limit', async () => {
    const hook = await receiver(() => ({ status: 204 }));
    const log = new MemoryDeliveryLog();
    const { notifications, watch } = server(log, configsAt({ c1: hook.url() }));

    notifications.publish(SAMPLE_EVENTS['run.started'], 'c1');
    notifications.publish({ ...SAMPLE_EVENTS['run.failed'], service: 'cart' }, 'c1');
    await watch.until((d) => d.service === 'cart' && d.status === 'delivered');
    await watch.until((d) => d.service === 'shop' && d.status === 'delivered');

    const listed = (query: Parameters<ServiceNotifications['deliveries']>[0]) =>
      notifications.deliveries(query).map((d) => [d.service, d.event]);
    expect(listed({ limit: 10 })).toEqual([
      ['cart', 'run.failed'],
      ['shop', 'run.started'],
    ]);
    expect(listed({ service: 'shop', limit: 10 })).toEqual([['shop', 'run.started']]);
    expect(listed({ status: 'failed', limit: 10 })).toEqual([]);
    expect(listed({ limit: 1 })).toEqual([['cart', 'run.failed']]);
  });
});
