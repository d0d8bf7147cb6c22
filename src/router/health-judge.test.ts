import { describe, expect, it } from 'vitest';
import {
  initialHealth,
  nextHealth,
  type CheckResult,
  type HealthStatus,
  type TargetHealthRecord,
} from './health-judge.js';
import type { HealthCheckSpec } from './traffic-router.js';

const SPEC: HealthCheckSpec = {
  path: '/health',
  intervalMs: 1000,
  timeoutMs: 500,
  healthyThreshold: 3,
  unhealthyThreshold: 2,
  matcher: [[200, 299]],
  gracePeriodMs: 10_000,
};

const REGISTERED = 1_000_000;
const AFTER_GRACE = REGISTERED + 20_000;

function record(
  status: HealthStatus,
  counts: { successes?: number; failures?: number } = {},
): TargetHealthRecord {
  return {
    ...initialHealth(REGISTERED),
    status,
    successes: counts.successes ?? 0,
    failures: counts.failures ?? 0,
  };
}

const ok = (at = AFTER_GRACE): CheckResult => ({ kind: 'response', status: 200, at });
const error500 = (at = AFTER_GRACE): CheckResult => ({ kind: 'response', status: 500, at });
const timeout = (at = AFTER_GRACE): CheckResult => ({ kind: 'failure', reason: 'timed out', at });
const refused = (at = AFTER_GRACE): CheckResult => ({ kind: 'refused', at });

describe('nextHealth', () => {
  it.each([
    // initial: one pass is enough, as for a newly registered ALB target
    { from: record('initial'), result: ok(REGISTERED + 1), to: 'healthy' },
    { from: record('initial'), result: error500(REGISTERED + 1), to: 'initial' },
    { from: record('initial', { failures: 5 }), result: timeout(REGISTERED + 1), to: 'initial' },
    { from: record('initial'), result: refused(REGISTERED + 1), to: 'initial' },
    { from: record('initial'), result: error500(), to: 'initial' },
    { from: record('initial', { failures: 1 }), result: error500(), to: 'unhealthy' },
    { from: record('initial'), result: refused(), to: 'unhealthy' },
    // healthy: the unhealthy threshold counts consecutive failures
    { from: record('healthy'), result: ok(), to: 'healthy' },
    { from: record('healthy'), result: error500(), to: 'healthy' },
    { from: record('healthy', { failures: 1 }), result: error500(), to: 'unhealthy' },
    { from: record('healthy', { failures: 1 }), result: timeout(), to: 'unhealthy' },
    { from: record('healthy'), result: refused(), to: 'unhealthy' },
    // grace is for slow starts only: a healthy target is judged at once
    { from: record('healthy', { failures: 1 }), result: error500(REGISTERED + 1), to: 'unhealthy' },
    // unhealthy: the healthy threshold counts consecutive passes
    { from: record('unhealthy'), result: ok(), to: 'unhealthy' },
    { from: record('unhealthy', { successes: 1 }), result: ok(), to: 'unhealthy' },
    { from: record('unhealthy', { successes: 2 }), result: ok(), to: 'healthy' },
    { from: record('unhealthy', { successes: 2 }), result: error500(), to: 'unhealthy' },
  ])('$from.status + $result.kind $result.status → $to', ({ from, result, to }) => {
    const next = nextHealth(from, result, SPEC);

    expect(next.status).toBe(to);
  });

  it.each([
    { status: 204, matcher: [[200, 299]] as const, passes: true },
    { status: 301, matcher: [[200, 299]] as const, passes: false },
    {
      status: 301,
      matcher: [
        [200, 299],
        [301, 302],
      ] as const,
      passes: true,
    },
    { status: 404, matcher: [[404, 404]] as const, passes: true },
  ])('matcher $matcher on $status passes: $passes', ({ status, matcher, passes }) => {
    const spec = { ...SPEC, matcher };

    const next = nextHealth(record('initial'), { kind: 'response', status, at: AFTER_GRACE }, spec);

    expect(next.status === 'healthy').toBe(passes);
  });

  it('counts consecutive results and resets the other count', () => {
    const afterFailure = nextHealth(record('healthy', { successes: 4 }), error500(), SPEC);
    const afterPass = nextHealth(record('healthy', { failures: 1 }), ok(), SPEC);

    expect(afterFailure).toMatchObject({ successes: 0, failures: 1 });
    expect(afterPass).toMatchObject({ successes: 1, failures: 0 });
  });

  it('keeps failures in the grace period out of the count, with the reason', () => {
    const next = nextHealth(record('initial'), error500(REGISTERED + 1), SPEC);

    expect(next.failures).toBe(0);
    expect(next.reason).toBe('health check answered 500, expected 200-299 (in the grace period)');
  });

  it('moves `since` only when the status changes, and clears the reason on a pass', () => {
    const first = nextHealth(record('healthy'), error500(AFTER_GRACE), SPEC);
    const down = nextHealth(first, timeout(AFTER_GRACE + 1000), SPEC);
    const stillDown = nextHealth(down, ok(AFTER_GRACE + 2000), SPEC);

    expect(first.since).toBe(REGISTERED);
    expect(down).toMatchObject({
      status: 'unhealthy',
      since: AFTER_GRACE + 1000,
      reason: 'timed out',
    });
    expect(stillDown.since).toBe(AFTER_GRACE + 1000);
    expect(stillDown.reason).toBeUndefined();
  });
});
