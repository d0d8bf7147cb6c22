import { describe, expect, it } from 'vitest';
import { Semaphore } from './semaphore.js';

describe('Semaphore', () => {
  it('lets at most limit holders in and serves waiters in order', async () => {
    const semaphore = new Semaphore(2);
    const order: string[] = [];

    const a = await semaphore.acquire();
    const b = await semaphore.acquire();
    const c = semaphore.acquire().then((release) => (order.push('c'), release));
    const d = semaphore.acquire().then((release) => (order.push('d'), release));
    expect(semaphore.waiting).toBe(2);
    a();
    (await c)();
    b();
    (await d)();

    expect(order).toEqual(['c', 'd']);
    expect(semaphore.inUse).toBe(0);
  });

  it('drops an aborted waiter without leaking a slot, and ignores double releases', async () => {
    const semaphore = new Semaphore(1);
    const controller = new AbortController();
    const held = await semaphore.acquire();

    const aborted = semaphore.acquire(controller.signal);
    controller.abort(new Error('cancelled'));
    await expect(aborted).rejects.toThrow('cancelled');
    held();
    held();

    expect(semaphore.inUse).toBe(0);
    expect(semaphore.waiting).toBe(0);
  });

  it('refuses a limit below one', () => {
    expect(() => new Semaphore(0)).toThrow(RangeError);
  });
});
