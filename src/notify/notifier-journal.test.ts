import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../shared/clock.js';
import { silentLogger } from '../shared/logger.js';
import { openStore, type Store } from '../store/store.js';
import { openScratchStore, type ScratchStore } from '../store/testing/scratch-store.js';
import { createRoutes, type NotificationRoute } from './create-channels.js';
import type { DeliveryLog } from './delivery-log.js';
import { Notifier, type NotifierOptions } from './notifier.js';
import type { SecretRef } from './secret-ref.js';
import { DeliveryWatch } from './testing/delivery-watch.js';
import { SAMPLE_EVENTS } from './testing/events.js';
import { HttpReceiver, type Reply } from './testing/http-receiver.js';
import { ScriptedChannel } from './testing/scripted-channel.js';
import { watchedLog } from './testing/watched-log.js';

// A notifier with a journal on a real SQLite file: every state is saved, and what a closing
// (or crashed) notifier leaves pending is sent by the next one on the same database.

const COMMIT = 'c0ffee';
const SECRETS: Record<string, string> = {
  HOOK_SECRET: 'hmac-key-never-stored',
  HOOK_TOKEN: 'token-never-stored',
};

function resolveSecret(ref: SecretRef): string | undefined {
  return 'env' in ref ? SECRETS[ref.env] : SECRETS[ref.secret];
}

let scratch: ScratchStore;
let stores: Store[];
const cleanup: (() => Promise<void>)[] = [];

beforeEach(async () => {
  scratch = await openScratchStore({ prefix: 'phoenix-journal-', now: Date.now, services: [] });
  stores = [scratch.store];
});

afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
  for (const store of stores) if (store.db.open) store.close();
  await scratch.close();
});

/** The same database file, as a restarted server opens it. */
function reopen(): Store {
  const store = openStore(`${scratch.folder}/phoenix.db`);
  stores.push(store);
  return store;
}

async function receiver(reply: (n: number) => Reply) {
  const started = await HttpReceiver.start(reply);
  cleanup.push(() => started.close());
  return started;
}

function webhook(url: string) {
  return createRoutes([{ type: 'webhook', name: 'hook', url }], { resolveSecret });
}

function notifier(
  log: DeliveryLog,
  options: Partial<NotifierOptions> & { routes: NotificationRoute[] },
) {
  const clock = new FakeClock();
  const watch = new DeliveryWatch();
  const journal = watchedLog(log, watch);
  const instance = new Notifier({
    clock,
    log: silentLogger(),
    journal: { log: journal, commit: COMMIT },
    ...options,
  });
  cleanup.push(async () => {
    const closed = instance.close({ timeoutMs: 0 });
    clock.advance(0);
    await closed;
  });
  return { notifier: instance, clock, watch, journal };
}

/** What a restarted server does with the journal: each unfinished delivery, resumed. */
function resumeAll(log: DeliveryLog, into: Notifier): void {
  for (const { delivery, resend } of log.unfinished()) {
    if (resend !== undefined) into.resume(delivery, resend.event);
  }
}

describe('Notifier journal', () => {
  it('saves each state of a delivery, with its event only while pending', async () => {
    const hook = await receiver((n) => (n === 1 ? { status: 503 } : { status: 204 }));
    const {
      notifier: n,
      clock,
      watch,
      journal,
    } = notifier(scratch.store.notifications, {
      routes: webhook(hook.url()),
    });

    n.publish(SAMPLE_EVENTS['deployment.failed']);
    await watch.retryScheduled(1);
    clock.advance(1000);
    const done = await watch.final();

    expect(
      journal.saves.map(({ delivery: d, resend }) => [
        d.status,
        d.attempts,
        d.nextAttemptAt !== undefined,
        resend?.commit,
      ]),
    ).toEqual([
      ['pending', 0, false, COMMIT],
      ['pending', 1, false, COMMIT],
      ['pending', 1, true, COMMIT],
      ['pending', 2, false, COMMIT],
      ['delivered', 2, false, undefined],
    ]);
    expect(journal.saves[0]?.resend?.event).toMatchObject({
      type: 'deployment.failed',
      deploymentId: 'dep_01',
    });
    expect(scratch.store.notifications.list({ limit: 10 })).toEqual([done]);
    expect(done).toMatchObject({
      event: 'deployment.failed',
      service: 'shop',
      environment: 'prod',
      deploymentId: 'dep_01',
      channel: 'hook',
      channelType: 'webhook',
      status: 'delivered',
      attempts: 2,
      lastError: 'endpoint answered 503 Service Unavailable',
      lastAttemptAt: new Date(clock.now()).toISOString(),
    });
    expect(scratch.store.notifications.unfinished()).toEqual([]);
  });

  it('stores no URL, token or signing key of a channel', async () => {
    const hook = await receiver(() => ({ status: 503, body: 'busy' }));
    SECRETS['HOOK_URL'] = `${hook.url()}?token=token-never-stored`;
    const { notifier: n, watch } = notifier(scratch.store.notifications, {
      routes: createRoutes(
        [
          {
            type: 'webhook',
            name: 'hook',
            url: { env: 'HOOK_URL' },
            secret: { env: 'HOOK_SECRET' },
          },
        ],
        { resolveSecret },
      ),
    });

    n.publish(SAMPLE_EVENTS['run.failed']);
    await watch.retryScheduled(1);

    const rows = JSON.stringify(
      scratch.store.db.prepare('SELECT * FROM notification_deliveries').all(),
    );
    expect(rows).toContain('npm test exited with 1');
    expect(rows).not.toContain('token-never-stored');
    expect(rows).not.toContain('hmac-key-never-stored');
    expect(rows).not.toContain('127.0.0.1');
  });

  it('hands a delivery waiting to retry over to the notifier started next', async () => {
    const hook = await receiver((n) => (n === 1 ? { status: 503 } : { status: 204 }));
    const first = notifier(scratch.store.notifications, { routes: webhook(hook.url()) });
    first.notifier.publish(SAMPLE_EVENTS['deployment.succeeded']);
    const waiting = await first.watch.retryScheduled(1);

    await first.notifier.close({ handOver: true });
    scratch.store.close();
    const restarted = reopen();
    const second = notifier(restarted.notifications, { routes: webhook(hook.url()) });
    resumeAll(restarted.notifications, second.notifier);
    const resumed = await second.watch.until((d) => d.id === waiting.id);
    second.clock.advance(1000);
    const done = await second.watch.final();

    expect(hook.requests).toHaveLength(2);
    expect(resumed).toMatchObject({ status: 'pending', attempts: 1 });
    expect(done).toMatchObject({ id: waiting.id, status: 'delivered', attempts: 2 });
    const [before, after] = hook.requests;
    expect(after?.headers['x-phoenix-delivery']).toBe(waiting.id);
    // The same event; its keys may come back from the store in another order.
    expect(JSON.parse(String(after?.body))).toEqual(JSON.parse(String(before?.body)));
    expect(restarted.notifications.list({ limit: 10 })).toEqual([done]);
  });

  it('waits out the retry delay a restart comes in the middle of', async () => {
    const hook = await receiver((n) => (n === 1 ? { status: 503 } : { status: 204 }));
    const first = notifier(scratch.store.notifications, { routes: webhook(hook.url()) });
    first.notifier.publish(SAMPLE_EVENTS['run.started']);
    await first.watch.retryScheduled(1);
    await first.notifier.close({ handOver: true });

    const second = notifier(scratch.store.notifications, { routes: webhook(hook.url()) });
    resumeAll(scratch.store.notifications, second.notifier);
    await second.watch.until((d) => d.status === 'pending');
    second.clock.advance(999);
    const early = second.notifier.deliveries();
    second.clock.advance(1);
    const done = await second.watch.final();

    expect(early).toMatchObject([{ status: 'pending', attempts: 1 }]);
    expect(done).toMatchObject({ status: 'delivered', attempts: 2 });
  });

  it('hands over what shutdown cut off, and the next notifier sends it', async () => {
    const hook = await receiver((n) => (n === 1 ? 'hang' : { status: 204 }));
    const first = notifier(scratch.store.notifications, { routes: webhook(hook.url()) });
    first.notifier.publish(SAMPLE_EVENTS['approval.waiting']);
    await hook.request(1);

    const closed = first.notifier.close({ timeoutMs: 2000, handOver: true });
    first.clock.advance(2000);
    await closed;
    const [left] = scratch.store.notifications.unfinished();
    const second = notifier(scratch.store.notifications, { routes: webhook(hook.url()) });
    resumeAll(scratch.store.notifications, second.notifier);
    await second.watch.until((d) => d.status === 'pending');
    // The first clock stood at +2 s when it gave up; the retry is due 1 s after that.
    second.clock.advance(3000);
    const done = await second.watch.final();

    expect(left?.delivery).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastError: 'abandoned: shutting down',
      approvalId: 'apr_01',
      runId: 'run_01',
    });
    expect(left?.resend?.event).toMatchObject({ type: 'approval.waiting', approvalId: 'apr_01' });
    expect(done).toMatchObject({ id: left?.delivery.id, status: 'delivered', attempts: 2 });
  });

  it('sends a queued delivery a crash left, at once', async () => {
    const hook = await receiver(() => ({ status: 204 }));
    const crashed = notifier(scratch.store.notifications, {
      routes: [{ channel: new ScriptedChannel('hook', ['hang']), filter: {} }],
      concurrency: 1,
    });
    crashed.notifier.publish(SAMPLE_EVENTS['run.started']);
    crashed.notifier.publish(SAMPLE_EVENTS['run.succeeded']);
    await crashed.watch.until((d) => d.attempts === 1);

    // No close: the process died. One attempt was under way, one delivery queued.
    const restarted = reopen();
    const second = notifier(restarted.notifications, { routes: webhook(hook.url()) });
    resumeAll(restarted.notifications, second.notifier);
    const started = await second.watch.until(
      (d) => d.status === 'delivered' && d.event === 'run.started',
    );
    const succeeded = await second.watch.until(
      (d) => d.status === 'delivered' && d.event === 'run.succeeded',
    );

    expect(hook.requests.map((r) => r.headers['x-phoenix-event']).sort()).toEqual([
      'run.started',
      'run.succeeded',
    ]);
    expect([started.attempts, succeeded.attempts]).toEqual([2, 1]);
  });

  it('gives up as interrupted what it cannot send again', async () => {
    const channel = new ScriptedChannel('hook', ['hang']);
    const first = notifier(scratch.store.notifications, {
      routes: [{ channel, filter: {} }],
      retry: { maxAttempts: 1 },
    });
    first.notifier.publish(SAMPLE_EVENTS['run.started']);
    await first.watch.until((d) => d.attempts === 1);
    const other = notifier(scratch.store.notifications, {
      routes: [{ channel: new ScriptedChannel('elsewhere', ['hang']), filter: {} }],
    });
    other.notifier.publish(SAMPLE_EVENTS['run.failed']);
    await other.watch.until((d) => d.attempts === 1);

    // A crash: both left pending. The first's one attempt was cut off; the second's channel
    // is not among the routes of the notifier started next.
    const next = notifier(scratch.store.notifications, {
      routes: [{ channel: new ScriptedChannel('hook'), filter: {} }],
      retry: { maxAttempts: 1 },
    });
    for (const { delivery, resend } of scratch.store.notifications.unfinished()) {
      if (delivery.channel === 'elsewhere' || resend === undefined) continue;
      next.notifier.resume(delivery, resend.event);
    }
    const cutOff = await next.watch.final();
    const gone = notifier(scratch.store.notifications, { routes: webhook('http://127.0.0.1:9') });
    resumeAll(scratch.store.notifications, gone.notifier);
    const orphan = await gone.watch.final();

    expect(cutOff).toMatchObject({
      status: 'failed',
      attempts: 1,
      lastError:
        'interrupted: the server stopped before it was delivered (its last attempt was cut off)',
    });
    expect(orphan).toMatchObject({
      channel: 'elsewhere',
      status: 'failed',
      lastError: 'interrupted: the server stopped before it was delivered (its channel is gone)',
    });
    expect(scratch.store.notifications.unfinished()).toEqual([]);
  });

  it('gives up waiting retries at close unless told to hand them over', async () => {
    const { notifier: n, watch } = notifier(scratch.store.notifications, {
      routes: [{ channel: new ScriptedChannel('down', ['fail']), filter: {} }],
    });
    n.publish(SAMPLE_EVENTS['run.started']);
    await watch.retryScheduled(1);

    await n.close();

    expect(scratch.store.notifications.list({ limit: 10 })).toMatchObject([
      { status: 'failed', lastError: 'failed (not retried: shutting down)' },
    ]);
    expect(scratch.store.notifications.unfinished()).toEqual([]);
  });

  it('delivers even when the journal cannot save', async () => {
    const broken: DeliveryLog = {
      save: () => {
        throw new Error('disk full');
      },
      list: () => [],
      unfinished: () => [],
    };
    const channel = new ScriptedChannel('fine', ['ok']);
    const { notifier: n } = notifier(broken, { routes: [{ channel, filter: {} }] });

    n.publish(SAMPLE_EVENTS['run.started']);
    await n.close();

    expect(n.deliveries()).toMatchObject([{ status: 'delivered', attempts: 1 }]);
  });
});
