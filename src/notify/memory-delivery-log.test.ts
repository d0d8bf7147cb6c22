import { describe, expect, it } from 'vitest';
import type { Delivery } from './delivery.js';
import { MemoryDeliveryLog } from './memory-delivery-log.js';
import { SAMPLE_EVENTS } from './testing/events.js';

function delivery(id: string, overrides: Partial<Delivery> = {}): Delivery {
  return {
    id,
    event: 'run.started',
    service: 'shop',
    channel: 'ops',
    channelType: 'webhook',
    status: 'delivered',
    attempts: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

const resend = { event: SAMPLE_EVENTS['run.started'], commit: 'c0ffee' };

// The store's contract, in memory (the store's own tests: notification-repository.test.ts).
describe('MemoryDeliveryLog', () => {
  it('keeps what resending needs while pending, and forgets it once final', () => {
    const log = new MemoryDeliveryLog();
    log.save(delivery('a', { status: 'pending', attempts: 0 }), resend);

    log.save(delivery('a', { status: 'pending', attempts: 1 }));
    const whilePending = log.unfinished();
    log.save(delivery('a', { status: 'failed' }));

    expect(whilePending).toEqual([
      { delivery: delivery('a', { status: 'pending', attempts: 1 }), resend },
    ]);
    expect(log.unfinished()).toEqual([]);
  });

  it('lists newest first, filtered, and keeps pending ones past its bound', () => {
    const log = new MemoryDeliveryLog(2);
    log.save(delivery('old', { status: 'pending' }), resend);
    for (const id of ['b', 'c', 'd'])
      log.save(delivery(id, { service: id === 'c' ? 'cart' : 'shop' }));

    expect(log.list({ limit: 10 }).map((d) => d.id)).toEqual(['d', 'c', 'old']);
    expect(log.list({ service: 'shop', limit: 10 }).map((d) => d.id)).toEqual(['d', 'old']);
    expect(log.list({ status: 'pending', limit: 1 }).map((d) => d.id)).toEqual(['old']);
  });
});
