import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../shared/clock.js';
import type { CheckResult } from './health-judge.js';
import { HealthChecker } from './health-checker.js';
import { freePort, HEALTH_PATH, startUpstream, type Upstream } from './testing/upstream.js';
import type { HealthCheckSpec } from './traffic-router.js';

const SPEC: HealthCheckSpec = {
  path: HEALTH_PATH,
  intervalMs: 5000,
  timeoutMs: 1000,
  healthyThreshold: 2,
  unhealthyThreshold: 2,
  matcher: [[200, 299]],
  gracePeriodMs: 0,
};

/** Collects results and lets a test wait for the next one. */
class Results {
  readonly all: CheckResult[] = [];
  private waiters: ((result: CheckResult) => void)[] = [];

  readonly push = (result: CheckResult): void => {
    this.all.push(result);
    for (const waiter of this.waiters.splice(0)) waiter(result);
  };

  next(): Promise<CheckResult> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

describe('HealthChecker', () => {
  const clock = new FakeClock();
  let checker: HealthChecker;
  let upstreams: Upstream[] = [];

  afterEach(async () => {
    checker.close();
    for (const upstream of upstreams) await upstream.kill();
    upstreams = [];
  });

  async function upstream(): Promise<Upstream> {
    const started = await startUpstream('a');
    upstreams.push(started);
    return started;
  }

  it('checks at once, then every interval after the previous check', async () => {
    const target = await upstream();
    checker = new HealthChecker({ clock });
    const results = new Results();

    let next = results.next();
    checker.watch('g/a', { id: 'a', host: '127.0.0.1', port: target.port }, SPEC, results.push);
    clock.advance(0);
    const first = await next;
    target.healthStatus = 503;
    clock.advance(SPEC.intervalMs - 1);
    const beforeInterval = results.all.length;
    next = results.next();
    clock.advance(1);
    const second = await next;

    expect(first).toMatchObject({ kind: 'response', status: 200 });
    expect(beforeInterval).toBe(1);
    expect(second).toMatchObject({ kind: 'response', status: 503 });
  });

  it('reports a refused connection as a failure', async () => {
    const port = await freePort();
    checker = new HealthChecker({ clock });
    const results = new Results();

    const next = results.next();
    checker.watch('g/a', { id: 'a', host: '127.0.0.1', port }, SPEC, results.push);
    clock.advance(0);

    expect(await next).toMatchObject({ kind: 'failure', reason: 'connection refused' });
  });

  it('fails a check that does not answer within the timeout', async () => {
    const silent = await startUpstream('silent');
    upstreams.push(silent);
    silent.server.removeAllListeners('request');
    const requestArrived = new Promise<void>((resolve) => {
      silent.server.on('request', () => resolve());
    });
    checker = new HealthChecker({ clock });
    const results = new Results();

    const next = results.next();
    checker.watch('g/a', { id: 'a', host: '127.0.0.1', port: silent.port }, SPEC, results.push);
    clock.advance(0);
    await requestArrived;
    clock.advance(SPEC.timeoutMs);

    expect(await next).toMatchObject({ kind: 'failure', reason: 'timed out after 1000ms' });
  });

  it('stops checking a target that is no longer watched', async () => {
    const target = await upstream();
    checker = new HealthChecker({ clock });
    const results = new Results();

    const next = results.next();
    checker.watch('g/a', { id: 'a', host: '127.0.0.1', port: target.port }, SPEC, results.push);
    clock.advance(0);
    await next;
    checker.unwatch('g/a');
    clock.advance(SPEC.intervalMs * 3);

    expect(results.all).toHaveLength(1);
    expect(checker.watching).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });
});
