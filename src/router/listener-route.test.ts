import { describe, expect, it } from 'vitest';
import { FakeClock } from '../shared/clock.js';
import { silentLogger } from '../shared/logger.js';
import { HealthChecker, type ProbeOutcome } from './health-checker.js';
import { ListenerRoute } from './listener-route.js';
import { RouterEvents } from './router-events.js';
import { RouterMetrics } from './router-metrics.js';
import type { Target } from './target.js';
import { TargetGroup } from './target-group.js';
import type { HealthCheckSpec } from './traffic-router.js';

const CHECK: HealthCheckSpec = {
  path: '/health',
  intervalMs: 1000,
  timeoutMs: 500,
  healthyThreshold: 1,
  unhealthyThreshold: 1,
  matcher: [[200, 299]],
  gracePeriodMs: 0,
};

type Scenario = Record<string, Record<string, 'healthy' | 'unhealthy' | 'initial' | 'draining'>>;

/**
 * Groups whose targets reach the given states through the real judge: the probe answers
 * 200 or 500 per target, the fake clock runs one round of checks, drains are real drains.
 */
async function groupsFor(scenario: Scenario): Promise<Map<string, TargetGroup>> {
  const clock = new FakeClock();
  const answers = new Map<string, ProbeOutcome | 'never'>();
  let pending = 0;
  const probe = (target: { id: string }): Promise<ProbeOutcome> => {
    const answer = answers.get(target.id) ?? { kind: 'response', status: 200 };
    // An initial target is one whose first check has not answered yet.
    return answer === 'never' ? new Promise(() => undefined) : Promise.resolve(answer);
  };
  const checker = new HealthChecker({ clock, probe });
  const events = new RouterEvents();
  const options = {
    clock,
    checker,
    metrics: new RouterMetrics(() => []),
    events,
    logger: silentLogger(),
  };
  const groups = new Map<string, TargetGroup>();
  for (const [name, targets] of Object.entries(scenario)) {
    const ids = Object.keys(targets);
    for (const [id, state] of Object.entries(targets)) {
      if (state === 'unhealthy') answers.set(id, { kind: 'response', status: 500 });
      if (state === 'initial') answers.set(id, 'never');
      else pending++;
    }
    const specs = ids.map((id, index) => ({ id, host: '127.0.0.1', port: 1000 + index }));
    const group = new TargetGroup(
      { name, targets: specs, healthCheck: CHECK, draining: [] },
      options,
    );
    groups.set(name, group);
  }
  const checked = new Promise<void>((resolve) => {
    events.subscribe((event) => {
      if (event.type === 'health-check' && --pending === 0) resolve();
    });
  });
  clock.advance(0);
  if (pending > 0) await checked;
  for (const [name, targets] of Object.entries(scenario)) {
    const draining = Object.entries(targets).filter(([, state]) => state === 'draining');
    groups.get(name)?.drain(draining.map(([id]) => id));
  }
  checker.close();
  return groups;
}

function picks(route: ListenerRoute, count: number, exclude?: Set<Target>): string[] {
  return Array.from({ length: count }, () => route.pick(exclude)?.spec.id ?? '-');
}

describe('ListenerRoute', () => {
  it.each<{
    case: string;
    scenario: Scenario;
    weights: Record<string, number>;
    expected: string[];
  }>([
    {
      case: 'weights first, round-robin inside a group',
      scenario: { blue: { b1: 'healthy', b2: 'healthy' }, green: { g1: 'healthy' } },
      weights: { blue: 50, green: 50 },
      expected: ['b1', 'g1', 'b2', 'g1'],
    },
    {
      case: 'an unhealthy target is skipped',
      scenario: { blue: { b1: 'unhealthy', b2: 'healthy' } },
      weights: { blue: 100 },
      expected: ['b2', 'b2', 'b2'],
    },
    {
      case: 'a group without healthy targets gives its share away',
      scenario: { blue: { b1: 'healthy' }, green: { g1: 'unhealthy', g2: 'initial' } },
      weights: { blue: 10, green: 90 },
      expected: ['b1', 'b1', 'b1'],
    },
    {
      case: 'all unhealthy: fail open across the weighted groups',
      scenario: { blue: { b1: 'unhealthy' }, green: { g1: 'initial' } },
      weights: { blue: 50, green: 50 },
      expected: ['b1', 'g1', 'b1', 'g1'],
    },
    {
      case: 'draining targets are never picked, not even failing open',
      scenario: { blue: { b1: 'draining', b2: 'unhealthy' } },
      weights: { blue: 100 },
      expected: ['b2', 'b2'],
    },
    {
      case: 'everything draining: no target',
      scenario: { blue: { b1: 'draining' } },
      weights: { blue: 100 },
      expected: ['-'],
    },
    {
      case: 'weight 0 gets nothing, even failing open',
      scenario: { blue: { b1: 'unhealthy' }, green: { g1: 'healthy' } },
      weights: { blue: 100, green: 0 },
      expected: ['b1', 'b1'],
    },
    {
      case: 'no weighted target left: healthy targets of weight 0 groups take the requests',
      scenario: { blue: { b1: 'healthy', b2: 'unhealthy' }, green: { g1: 'draining' } },
      weights: { blue: 0, green: 100 },
      expected: ['b1', 'b1'],
    },
    {
      case: 'the weight 0 fallback never fails open nor picks draining targets',
      scenario: { blue: { b1: 'unhealthy', b2: 'draining' }, green: { g1: 'draining' } },
      weights: { blue: 0, green: 100 },
      expected: ['-'],
    },
  ])('$case', async ({ scenario, weights, expected }) => {
    const groups = await groupsFor(scenario);
    const route = new ListenerRoute(
      Object.entries(weights).flatMap(([name, weight]) => {
        const group = groups.get(name);
        return group === undefined ? [] : [{ group, weight }];
      }),
    );

    expect(picks(route, expected.length)).toEqual(expected);
  });

  it('never picks an excluded target, falling back to unhealthy ones before giving up', async () => {
    const groups = await groupsFor({ blue: { b1: 'healthy', b2: 'unhealthy' } });
    const blue = groups.get('blue');
    if (blue === undefined) throw new Error('no group');
    const route = new ListenerRoute([{ group: blue, weight: 100 }]);
    const b1 = route.pick();
    const b2 = b1 === undefined ? undefined : route.pick(new Set([b1]));

    expect([b1?.spec.id, b2?.spec.id]).toEqual(['b1', 'b2']);
    expect(b1 && b2 ? route.pick(new Set([b1, b2])) : 'missing').toBeUndefined();
  });

  it('retries a crashed lone green on healthy blue while blue has weight 0 during a bake', async () => {
    const groups = await groupsFor({ blue: { b1: 'healthy' }, green: { g1: 'unhealthy' } });
    const blue = groups.get('blue');
    const green = groups.get('green');
    if (blue === undefined || green === undefined) throw new Error('no group');
    const route = new ListenerRoute([
      { group: blue, weight: 0 },
      { group: green, weight: 100 },
    ]);

    const first = route.pick();
    const retry = first === undefined ? undefined : route.pick(new Set([first]));

    expect([first?.spec.id, retry?.spec.id]).toEqual(['g1', 'b1']);
  });
});
