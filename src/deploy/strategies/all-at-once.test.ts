import { describe, expect, it } from 'vitest';
import type { HookPoint } from '../../config/appspec-hooks.js';
import { planAllAtOnce } from './all-at-once.js';
import { brief } from '../testing/plan-brief.js';

const NO_BAKE = { kind: 'all-at-once', bakeMs: 0, testListener: false } as const;

const ECS_HOOKS: HookPoint[] = ['before-install', 'healthy', 'before-shift', 'after-shift'];
const EC2_HOOKS: HookPoint[] = [
  'before-install',
  'after-install',
  'after-start',
  'healthy',
  'before-shift',
  'after-shift',
  'after-drain',
  'before-stop',
];

describe('planAllAtOnce', () => {
  it.each<[string, boolean, HookPoint[], string[]]>([
    [
      'a first deployment without hooks',
      false,
      [],
      ['starting start', 'starting await-healthy', 'shifting shift:100'],
    ],
    [
      'a replacement without hooks',
      true,
      [],
      [
        'starting start',
        'starting await-healthy',
        'shifting shift:100',
        'draining drain-previous',
        'draining stop-previous',
      ],
    ],
    [
      'a replacement with ECS hooks',
      true,
      ECS_HOOKS,
      [
        'starting run-hooks:before-install',
        'starting start',
        'starting await-healthy',
        'testing run-hooks:healthy',
        'testing run-hooks:before-shift',
        'shifting shift:100',
        'shifting run-hooks:after-shift',
        'draining drain-previous',
        'draining stop-previous',
      ],
    ],
    [
      'a replacement with every EC2 hook',
      true,
      EC2_HOOKS,
      [
        'starting run-hooks:before-install',
        'starting run-hooks:after-install',
        'starting start',
        'starting run-hooks:after-start',
        'starting await-healthy',
        'testing run-hooks:healthy',
        'testing run-hooks:before-shift',
        'shifting shift:100',
        'shifting run-hooks:after-shift',
        'draining drain-previous',
        'draining run-hooks:after-drain',
        'draining run-hooks:before-stop',
        'draining stop-previous',
      ],
    ],
  ])('plans %s', (_name, previous, hookPoints, expected) => {
    expect(brief(planAllAtOnce(NO_BAKE, { previous, hookPoints }))).toEqual(expected);
  });

  it('routes test traffic before production when the environment has a test listener', () => {
    const plan = planAllAtOnce(
      { ...NO_BAKE, testListener: true },
      { previous: true, hookPoints: ['healthy', 'test-traffic'] },
    );

    expect(brief(plan)).toEqual([
      'starting start',
      'starting await-healthy',
      'testing run-hooks:healthy',
      'testing route-test',
      'testing run-hooks:test-traffic',
      'shifting shift:100',
      'draining drain-previous',
      'draining stop-previous',
    ]);
  });

  it('runs test-traffic hooks without a test listener too, before production moves', () => {
    const plan = planAllAtOnce(NO_BAKE, { previous: false, hookPoints: ['test-traffic'] });

    expect(brief(plan)).toEqual([
      'starting start',
      'starting await-healthy',
      'testing run-hooks:test-traffic',
      'shifting shift:100',
    ]);
  });
});
