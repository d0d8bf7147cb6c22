import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Delivery } from '../notify/delivery.js';
import { SAMPLE_EVENTS } from '../notify/testing/events.js';
import { NotificationRepository } from './notification-repository.js';
import { openStore } from './store.js';
import { openScratchStore, type ScratchStore } from './testing/scratch-store.js';

const T0 = Date.UTC(2026, 0, 1);

let scratch: ScratchStore;
let repository: NotificationRepository;

beforeEach(async () => {
  scratch = await openScratchStore({
    prefix: 'phoenix-notifications-',
    now: () => T0,
    services: ['shop', 'cart'],
  });
  repository = scratch.store.notifications;
});

afterEach(async () => {
  await scratch.close();
});

let counter = 0;

function delivery(overrides: Partial<Delivery> = {}): Delivery {
  counter += 1;
  const at = new Date(T0 + counter * 1000).toISOString();
  return {
    id: `delivery-${counter}`,
    event: 'deployment.failed',
    service: 'shop',
    channel: 'ops',
    channelType: 'webhook',
    status: 'delivered',
    attempts: 1,
    createdAt: at,
    updatedAt: at,
    ...overrides,
  };
}

const resend = { event: SAMPLE_EVENTS['deployment.failed'], commit: 'c0ffee' };

describe('NotificationRepository', () => {
  it('reads back every field, newest first', () => {
    const full = delivery({
      environment: 'prod',
      runId: 'run_01',
      deploymentId: 'dep_01',
      approvalId: 'apr_01',
      channelType: 'slack',
      status: 'pending',
      attempts: 2,
      lastError: 'endpoint answered 503 Service Unavailable',
      lastAttemptAt: '2026-01-01T00:00:05.000Z',
      nextAttemptAt: '2026-01-01T00:00:09.000Z',
    });
    const bare = delivery({ event: 'run.started' });

    repository.save(full, resend);
    repository.save(bare);

    expect(repository.list({ limit: 10 })).toEqual([bare, full]);
  });

  it('updates a delivery in place, keeping its place in the list', () => {
    const first = delivery({ status: 'pending', attempts: 0 });
    const second = delivery();
    repository.save(first, resend);
    repository.save(second);

    const done = { ...first, status: 'delivered' as const, attempts: 1 };
    repository.save(done);

    expect(repository.list({ limit: 10 })).toEqual([second, done]);
  });

  it('filters by service and status, and stops at the limit', () => {
    const saved = [
      delivery({ service: 'shop', status: 'failed' }),
      delivery({ service: 'cart', status: 'failed' }),
      delivery({ service: 'shop', status: 'delivered' }),
      delivery({ service: 'shop', status: 'failed' }),
    ];
    for (const d of saved) repository.save(d);

    const ids = (query: Parameters<NotificationRepository['list']>[0]) =>
      repository.list(query).map((d) => d.id);

    expect(ids({ service: 'shop', limit: 10 })).toEqual([saved[3], saved[2], saved[0]].map(id));
    expect(ids({ status: 'failed', limit: 10 })).toEqual([saved[3], saved[1], saved[0]].map(id));
    expect(ids({ service: 'shop', status: 'failed', limit: 1 })).toEqual([saved[3]?.id]);
  });

  it('keeps what resending needs while pending, and forgets it once final', () => {
    const pending = delivery({ status: 'pending', attempts: 0 });
    repository.save(pending, resend);
    const attempted = { ...pending, attempts: 1, nextAttemptAt: '2026-01-01T00:10:00.000Z' };

    repository.save(attempted);
    const whilePending = repository.unfinished();
    repository.save({ ...attempted, status: 'failed', lastError: 'gone' });

    expect(whilePending).toEqual([{ delivery: attempted, resend }]);
    expect(repository.unfinished()).toEqual([]);
    expect(storedColumns(pending.id)).toEqual({ event_json: null, config_commit: null });
  });

  it('lists a pending delivery saved without its event as unfinished, without it', () => {
    const pending = delivery({ status: 'pending' });

    repository.save(pending);

    expect(repository.unfinished()).toEqual([{ delivery: pending }]);
  });

  it('keeps everything across closing and reopening the file', () => {
    const pending = delivery({ status: 'pending', attempts: 1 });
    const finished = delivery();
    repository.save(pending, resend);
    repository.save(finished);
    scratch.store.close();

    const reopened = openStore(`${scratch.folder}/phoenix.db`, () => T0);
    try {
      expect(reopened.notifications.list({ limit: 10 })).toEqual([finished, pending]);
      expect(reopened.notifications.unfinished()).toEqual([{ delivery: pending, resend }]);
    } finally {
      reopened.close();
    }
  });

  it('keeps the newest deliveries, and pending ones until they are final', () => {
    const bounded = new NotificationRepository(scratch.store.db, 3);
    const oldPending = delivery({ status: 'pending' });
    bounded.save(oldPending, resend);
    const finished = [1, 2, 3, 4].map(() => delivery());
    for (const d of finished) bounded.save(d);
    const whilePending = bounded.list({ limit: 10 }).map(id);

    bounded.save({ ...oldPending, status: 'delivered' });
    bounded.save(delivery({ id: 'newest' }));

    expect(whilePending).toEqual([...finished.slice(1).reverse(), oldPending].map(id));
    expect(bounded.list({ limit: 10 }).map(id)).toEqual([
      'newest',
      ...finished.slice(2).reverse().map(id),
    ]);
  });

  it('deletes a service’s deliveries with the service', () => {
    repository.save(delivery({ service: 'shop' }));
    const other = delivery({ service: 'cart' });
    repository.save(other);

    scratch.store.services.delete('shop');

    expect(repository.list({ limit: 10 })).toEqual([other]);
  });

  it('gives an unreadable stored event no resend, and the other deliveries theirs', () => {
    const damaged = delivery({ id: 'd-damaged', status: 'pending' });
    const intact = delivery({ id: 'd-intact', status: 'pending' });
    repository.save(damaged, resend);
    repository.save(intact, resend);
    scratch.store.db
      .prepare(
        `UPDATE notification_deliveries SET event_json = '{"type":"nope"}' WHERE id = 'd-damaged'`,
      )
      .run();

    const unfinished = repository.unfinished();

    expect(unfinished.map((u) => [u.delivery.id, u.resend !== undefined])).toEqual([
      ['d-damaged', false],
      ['d-intact', true],
    ]);
  });

  it('is created by a migration of its own', () => {
    const names = scratch.store.db
      .prepare<[], { name: string }>('SELECT name FROM schema_migrations ORDER BY version')
      .all()
      .map((row) => row.name);

    expect(names).toContain('notification deliveries');
  });
});

function id(d: Delivery | undefined): string | undefined {
  return d?.id;
}

function storedColumns(deliveryId: string) {
  return scratch.store.db
    .prepare<[string], { event_json: string | null; config_commit: string | null }>(
      'SELECT event_json, config_commit FROM notification_deliveries WHERE id = ?',
    )
    .get(deliveryId);
}
