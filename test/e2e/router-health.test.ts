import { once } from 'node:events';
import { request, type IncomingMessage } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/shared/clock.js';
import { RouterHarness, send, tally } from '../../src/router/testing/router-harness.js';
import {
  HEALTH_PATH,
  type Upstream,
  type UpstreamHandler,
} from '../../src/router/testing/upstream.js';
import type { HealthCheckSpec } from '../../src/router/traffic-router.js';

const CHECK: HealthCheckSpec = {
  path: HEALTH_PATH,
  intervalMs: 1000,
  timeoutMs: 500,
  healthyThreshold: 2,
  unhealthyThreshold: 2,
  matcher: [[200, 299]],
  gracePeriodMs: 0,
};

/** An upstream whose /slow requests wait until the test releases them. */
function slowWhenAsked(): {
  handler: UpstreamHandler;
  arrived: Promise<void>;
  release: () => void;
} {
  let arrive: () => void = () => undefined;
  let release: () => void = () => undefined;
  const arrived = new Promise<void>((resolve) => (arrive = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  const handler: UpstreamHandler = (req, res, self) => {
    req.resume();
    if (req.url !== '/slow') {
      res.end(self.name);
      return;
    }
    arrive();
    void released.then(() => res.end(`${self.name} slow`));
  };
  return { handler, arrived, release };
}

describe('router health checks and drains on a fake clock', () => {
  let clock: FakeClock;
  let harness: RouterHarness;

  beforeEach(async () => {
    clock = new FakeClock();
    harness = await RouterHarness.start({ clock });
  });

  afterEach(async () => {
    await harness.close();
  });

  /** Puts the group and runs the first checks; resolves once its `fresh` targets are healthy. */
  async function healthyGroup(name: string, targets: Upstream[], fresh = targets): Promise<void> {
    const healthy = harness.targetsReach(
      name,
      fresh.map((t) => t.name),
      'healthy',
    );
    await harness.group(name, targets, { check: CHECK, waitFor: 'nothing' });
    clock.advance(0);
    await healthy;
  }

  /** Advances one interval and waits for the checks of `targets` in `group` to report. */
  async function checkRound(group: string, targets: readonly string[]): Promise<void> {
    const waiting = new Set(targets);
    const reported = harness.waitFor((event) => {
      if (event.type === 'health-check' && event.group === group) waiting.delete(event.target);
      return waiting.size === 0;
    });
    clock.advance(CHECK.intervalMs);
    await reported;
  }

  it('takes an unhealthy target out of rotation and brings it back after the thresholds', async () => {
    const url = await harness.listener('web');
    const a = await harness.upstream('a');
    const b = await harness.upstream('b');
    await healthyGroup('blue', [a, b]);
    await harness.client.applyWeights('web', [{ group: 'blue', weight: 100 }]);

    a.healthStatus = 500;
    await checkRound('blue', ['a', 'b']);
    const afterOneFailure = await tally(url, 4);
    await checkRound('blue', ['a', 'b']);
    const whileUnhealthy = await tally(url, 10);
    const health = await harness.client.health('blue');
    a.healthStatus = 200;
    await checkRound('blue', ['a', 'b']);
    const afterOnePass = await tally(url, 4);
    await checkRound('blue', ['a', 'b']);
    const recovered = await tally(url, 10);

    expect(afterOneFailure).toEqual({ a: 2, b: 2 });
    expect(whileUnhealthy).toEqual({ b: 10 });
    expect(health).toMatchObject([
      { id: 'a', state: 'unhealthy', reason: 'health check answered 500, expected 200-299' },
      { id: 'b', state: 'healthy' },
    ]);
    expect(afterOnePass).toEqual({ b: 4 });
    expect(recovered).toEqual({ a: 5, b: 5 });
  });

  it('gives a group without healthy targets no traffic: its share goes to the others', async () => {
    const url = await harness.listener('web');
    const blue = await harness.upstream('blue');
    const green = await harness.upstream('green');
    await healthyGroup('blue', [blue]);
    await healthyGroup('green', [green]);
    await harness.client.applyWeights('web', [
      { group: 'blue', weight: 50 },
      { group: 'green', weight: 50 },
    ]);

    green.healthStatus = 503;
    await checkRound('green', ['green']);
    await checkRound('green', ['green']);
    const greenDown = await tally(url, 10);
    blue.healthStatus = 503;
    await checkRound('blue', ['blue']);
    await checkRound('blue', ['blue']);
    const allDown = await tally(url, 10);

    expect(greenDown).toEqual({ blue: 10 });
    // Every target unhealthy: the listener fails open, as an ALB does.
    expect(allDown).toEqual({ blue: 5, green: 5 });
  });

  it('keeps a slow-starting target in its grace period out of rotation without failing it', async () => {
    const url = await harness.listener('web');
    const a = await harness.upstream('a');
    const b = await harness.upstream('b');
    await healthyGroup('blue', [a]);
    await harness.client.applyWeights('web', [{ group: 'blue', weight: 100 }]);
    b.healthStatus = 503;

    await harness.group('blue', [a, b], {
      check: { ...CHECK, gracePeriodMs: 5000 },
      waitFor: 'nothing',
    });
    await checkRound('blue', ['a', 'b']);
    await checkRound('blue', ['a', 'b']);
    await checkRound('blue', ['a', 'b']);
    const during = await harness.client.health('blue');
    b.healthStatus = 200;
    const healthy = harness.targetsReach('blue', ['b'], 'healthy');
    await checkRound('blue', ['a', 'b']);
    await healthy;

    expect(during[1]).toMatchObject({ id: 'b', state: 'initial' });
    expect(during[1]?.reason).toContain('in the grace period');
    expect(await tally(url, 4)).toEqual({ a: 2, b: 2 });
  });

  it('lets an in-flight request finish while draining, sending no new ones', async () => {
    const url = await harness.listener('web');
    const slow = slowWhenAsked();
    const a = await harness.upstream('a', slow.handler);
    const b = await harness.upstream('b');
    await healthyGroup('blue', [a]);
    await harness.client.applyWeights('web', [{ group: 'blue', weight: 100 }]);
    const inFlight = send(url, { path: '/slow' });
    await slow.arrived;
    await healthyGroup('blue', [a, b], [b]);

    let drained = false;
    const draining = harness.targetsReach('blue', ['a'], 'draining');
    const drain = harness.client.drain('blue', ['a'], 30_000).then((result) => {
      drained = true;
      return result;
    });
    await draining;
    const duringDrain = await tally(url, 10);
    const drainedEarly = drained;
    slow.release();

    expect(duringDrain).toEqual({ b: 10 });
    expect(drainedEarly).toBe(false);
    expect(await inFlight).toMatchObject({ status: 200, body: 'a slow' });
    expect(await drain).toEqual({ drained: 1, abandoned: 0 });
    expect(await harness.client.health('blue')).toMatchObject([
      { id: 'a', state: 'draining' },
      { id: 'b' },
    ]);
  });

  it('cuts off what is still in flight when the drain times out', async () => {
    const url = await harness.listener('web');
    const slow = slowWhenAsked();
    const a = await harness.upstream('a', slow.handler);
    await healthyGroup('blue', [a]);
    await harness.client.applyWeights('web', [{ group: 'blue', weight: 100 }]);
    const cutOff = sendStream(url, '/slow');
    await slow.arrived;

    const draining = harness.targetsReach('blue', ['a'], 'draining');
    const drain = harness.client.drain('blue', 'all', 5000);
    await draining;
    clock.advance(5000);

    expect(await drain).toEqual({ drained: 1, abandoned: 1 });
    expect(await cutOff).toEqual({ status: 504 });
    slow.release();
  });
});

/** Status of a request, or how it ended when it got none. */
async function sendStream(
  url: string,
  path: string,
): Promise<{ status: number } | { error: string }> {
  const req = request(new URL(path, url));
  req.end();
  try {
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    res.resume();
    return { status: res.statusCode ?? 0 };
  } catch (error) {
    return { error: String(error) };
  }
}
