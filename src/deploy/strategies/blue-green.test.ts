import { describe, expect, it } from 'vitest';
import type { HookPoint } from '../../config/appspec-hooks.js';
import { brief } from '../testing/plan-brief.js';
import { planBlueGreen, type BlueGreenStrategy } from './blue-green.js';

const BAKE = {
  kind: 'blue-green',
  bakeMs: 300_000,
  testListener: true,
  manualPromote: false,
} satisfies BlueGreenStrategy;
const ECS_HOOKS: HookPoint[] = [
  'before-install',
  'healthy',
  'test-traffic',
  'before-shift',
  'after-shift',
];

describe('planBlueGreen', () => {
  it.each<[string, BlueGreenStrategy, boolean, HookPoint[], string[]]>([
    [
      'a replacement with every ECS hook',
      BAKE,
      true,
      ECS_HOOKS,
      [
        'starting run-hooks:before-install',
        'starting start',
        'starting await-healthy',
        'testing run-hooks:healthy',
        'testing route-test',
        'testing run-hooks:test-traffic',
        'testing run-hooks:before-shift',
        'shifting shift:100',
        'shifting run-hooks:after-shift',
        'baking bake',
        'draining drain-previous',
        'draining stop-previous',
      ],
    ],
    [
      'a replacement without hooks',
      BAKE,
      true,
      [],
      [
        'starting start',
        'starting await-healthy',
        'testing route-test',
        'shifting shift:100',
        'baking bake',
        'draining drain-previous',
        'draining stop-previous',
      ],
    ],
    [
      'a replacement without a test listener',
      { ...BAKE, testListener: false },
      true,
      [],
      [
        'starting start',
        'starting await-healthy',
        'shifting shift:100',
        'baking bake',
        'draining drain-previous',
        'draining stop-previous',
      ],
    ],
    [
      'a first deployment: no blue to keep warm, so no bake and nothing to drain',
      BAKE,
      false,
      ['test-traffic'],
      [
        'starting start',
        'starting await-healthy',
        'testing route-test',
        'testing run-hooks:test-traffic',
        'shifting shift:100',
      ],
    ],
  ])('plans %s', (_name, strategy, previous, hookPoints, expected) => {
    expect(brief(planBlueGreen(strategy, { previous, hookPoints }))).toEqual(expected);
  });

  it('routes test traffic before the validation hooks, and production only after them', () => {
    const plan = planBlueGreen(BAKE, { previous: true, hookPoints: ECS_HOOKS });
    const at = (predicate: (kind: string, point?: string) => boolean): number =>
      plan.findIndex((step) =>
        predicate(step.kind, step.kind === 'run-hooks' ? step.point : undefined),
      );

    const test = at((kind) => kind === 'route-test');
    const validation = at((_kind, point) => point === 'test-traffic');
    const gate = at((_kind, point) => point === 'before-shift');
    const shift = at((kind) => kind === 'shift');

    expect(test < validation && validation < gate && gate < shift).toBe(true);
  });

  it('bakes for the strategy’s time', () => {
    const plan = planBlueGreen({ ...BAKE, bakeMs: 42 }, { previous: true, hookPoints: [] });

    expect(plan).toContainEqual({ kind: 'bake', status: 'baking', ms: 42 });
  });
});
