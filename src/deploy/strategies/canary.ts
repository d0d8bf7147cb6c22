import type { DeploymentStrategy } from '../deployment.js';
import { hooksAt, retirePhase, startPhase, type DeploymentStep, type PlanContext } from './step.js';

export type CanaryStrategy = Extract<DeploymentStrategy, { kind: 'canary' }>;

/**
 * Canary as CodeDeploy does it for ECS (ECSCanary10Percent5Minutes): start the new release
 * and validate it as blue/green does (test listener, hooks); send `percent` of production
 * to it and judge it for `intervalMs` on its live traffic; then (after a person promotes it,
 * with `manualPromote`) all of production; then the bake with the previous release up. A
 * first deployment has no previous release to split with: it goes to 100% at once.
 */
export function planCanary(strategy: CanaryStrategy, context: PlanContext): DeploymentStep[] {
  const steps: DeploymentStep[] = [...beforeShifts(strategy.testListener, context)];
  if (context.previous) {
    steps.push(
      { kind: 'shift', status: 'shifting', weight: strategy.percent },
      { kind: 'bake', status: 'baking', ms: strategy.intervalMs },
    );
    if (strategy.manualPromote) steps.push({ kind: 'await-promotion', status: 'paused' });
  }
  return [...steps, ...afterShifts(strategy.bakeMs, context)];
}

export type LinearStrategy = Extract<DeploymentStrategy, { kind: 'linear' }>;

/**
 * Linear (ECSLinear10PercentEvery1Minutes): `percent` more of production every
 * `intervalMs`, each share judged for the interval before the next, until 100; then the
 * bake. A first deployment goes to 100% at once.
 */
export function planLinear(strategy: LinearStrategy, context: PlanContext): DeploymentStep[] {
  const steps: DeploymentStep[] = [...beforeShifts(strategy.testListener, context)];
  if (context.previous) {
    for (let weight = strategy.percent; weight < 100; weight += strategy.percent) {
      steps.push(
        { kind: 'shift', status: 'shifting', weight },
        { kind: 'bake', status: 'baking', ms: strategy.intervalMs },
      );
    }
  }
  return [...steps, ...afterShifts(strategy.bakeMs, context)];
}

/** Up to the first move of production: blue/green's start and validation. */
function beforeShifts(testListener: boolean, context: PlanContext): DeploymentStep[] {
  return [
    ...startPhase(context),
    ...hooksAt('healthy', 'testing', context),
    ...(testListener ? [{ kind: 'route-test', status: 'testing' } as const] : []),
    ...hooksAt('test-traffic', 'testing', context),
    ...hooksAt('before-shift', 'testing', context),
  ];
}

/** The last move to 100%, AfterAllowTraffic, the watch window and the previous release's retirement. */
function afterShifts(bakeMs: number, context: PlanContext): DeploymentStep[] {
  return [
    { kind: 'shift', status: 'shifting', weight: 100 },
    ...hooksAt('after-shift', 'shifting', context),
    ...(context.previous && bakeMs > 0
      ? [{ kind: 'bake', status: 'baking', ms: bakeMs } as const]
      : []),
    ...retirePhase(context),
  ];
}
