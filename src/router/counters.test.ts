import { describe, expect, it } from 'vitest';
import { FakeClock } from '../shared/clock.js';
import { GroupCounters, statusClassOf } from './counters.js';
import { latencyQuantile, latencySlot, LATENCY_SLOTS } from './latency-histogram.js';
import { RouterMetrics } from './router-metrics.js';

function setup(): { clock: FakeClock; metrics: RouterMetrics; counters: GroupCounters } {
  const clock = new FakeClock(1_000_000);
  const metrics = new RouterMetrics(() => [
    { group: 'blue', targets: { initial: 0, healthy: 2, unhealthy: 1, draining: 0 }, inFlight: 3 },
  ]);
  return { clock, metrics, counters: new GroupCounters('blue', clock, metrics) };
}

describe('GroupCounters', () => {
  it('totals requests by status class, errors, retries and a cumulative latency histogram', () => {
    const { counters } = setup();

    counters.response(200, 0.4);
    counters.response(204, 3);
    counters.response(302, 30);
    counters.response(404, 7000);
    counters.response(503, 12);
    counters.upstreamError();
    counters.retry();

    const snapshot = counters.snapshot();
    expect(snapshot).toMatchObject({
      requests: 5,
      status2xx: 2,
      status3xx: 1,
      status4xx: 1,
      status5xx: 1,
      upstreamErrors: 1,
      retries: 1,
    });
    expect(snapshot.latencyMs.map(({ le, count }) => [le, count])).toEqual([
      [1, 1],
      [2, 1],
      [5, 2],
      [10, 2],
      [25, 3],
      [50, 4],
      [100, 4],
      [250, 4],
      [500, 4],
      [1000, 4],
      [2500, 4],
      [5000, 4],
    ]);
  });

  it('keeps 100 ms slices of the last minute, empty slices included', () => {
    const { clock, counters } = setup();
    const start = clock.now();

    counters.response(200, 1);
    clock.advance(100);
    counters.response(500, 1);
    counters.upstreamError();
    clock.advance(250);
    counters.response(200, 1);

    const slices = counters.window(start);
    expect(slices.map((slice) => [slice.start - start, slice.requests, slice.status5xx])).toEqual([
      [0, 1, 0],
      [100, 1, 1],
      [200, 0, 0],
      [300, 1, 0],
    ]);
    expect(slices[1]?.upstreamErrors).toBe(1);
  });

  it('forgets slices older than the span, even when the ring comes round to them', () => {
    const { clock, counters } = setup();
    const start = clock.now();

    counters.response(500, 1);
    clock.advance(60_000);
    counters.response(200, 1);

    const slices = counters.window();
    expect(slices).toHaveLength(600);
    expect(slices.reduce((sum, slice) => sum + slice.status5xx, 0)).toBe(0);
    expect(slices.at(-1)).toMatchObject({ start: start + 60_000, requests: 1, status2xx: 1 });
  });

  it('exposes every group in Prometheus text with its own registry', async () => {
    const { metrics, counters } = setup();

    counters.response(200, 3);
    counters.response(502, 1);
    counters.retry();
    const text = await metrics.render();

    expect(text).toContain(
      'phoenix_router_requests_total{target_group="blue",status_class="2xx"} 1',
    );
    expect(text).toContain(
      'phoenix_router_requests_total{target_group="blue",status_class="5xx"} 1',
    );
    expect(text).toContain('phoenix_router_retries_total{target_group="blue"} 1');
    expect(text).toContain(
      'phoenix_router_response_latency_seconds_bucket{le="0.005",target_group="blue"} 2',
    );
    expect(text).toContain('phoenix_router_targets{target_group="blue",state="unhealthy"} 1');
    expect(text).toContain('phoenix_router_in_flight_requests{target_group="blue"} 3');
  });

  it('drops a removed group from the Prometheus output', async () => {
    const { metrics, counters } = setup();
    counters.response(200, 3);

    metrics.removeGroup('blue');

    expect(await metrics.render()).not.toContain('phoenix_router_requests_total{');
  });
});

describe('latency helpers', () => {
  it.each([
    { ms: 0, slot: 0 },
    { ms: 1, slot: 0 },
    { ms: 1.01, slot: 1 },
    { ms: 5000, slot: 11 },
    { ms: 5000.5, slot: 12 },
  ])('puts $ms ms in slot $slot', ({ ms, slot }) => {
    expect(latencySlot(ms)).toBe(slot);
  });

  it.each([
    { counts: [[4, 100]], q: 0.5, expected: 17.5 },
    {
      counts: [
        [0, 50],
        [6, 50],
      ],
      q: 0.99,
      expected: 99,
    },
    { counts: [[12, 10]], q: 0.5, expected: 5000 },
    { counts: [], q: 0.5, expected: undefined },
  ])('estimates quantile $q of slots $counts as $expected', ({ counts, q, expected }) => {
    const bySlot = new Map(counts.map(([slot, count]) => [slot, count]));
    const slots = Array.from({ length: LATENCY_SLOTS }, (_, slot) => bySlot.get(slot) ?? 0);

    expect(latencyQuantile(slots, q)).toBe(expected);
  });

  it.each([
    { status: 101, expected: '1xx' },
    { status: 200, expected: '2xx' },
    { status: 399, expected: '3xx' },
    { status: 404, expected: '4xx' },
    { status: 502, expected: '5xx' },
  ])('classes $status as $expected', ({ status, expected }) => {
    expect(statusClassOf(status)).toBe(expected);
  });
});
