import type { DeploymentStrategy } from '../deployment.js';
import { hooksAt, retirePhase, startPhase, type DeploymentStep, type PlanContext } from './step.js';

export type AllAtOnceStrategy = Extract<DeploymentStrategy, { kind: 'all-at-once' }>;

/**
 * All at once (CodeDeploy's ECSAllAtOnce): start the new release, wait until it is healthy,
 * route the test listener to it when there is one and run the validation hooks, move all of
 * production to it in one atomic change, then drain and stop the previous one. With a bake
 * time, the previous release stays up that long after the shift while the new one is judged.
 */
export function planAllAtOnce(strategy: AllAtOnceStrategy, context: PlanContext): DeploymentStep[] {
  return [
    ...startPhase(context),
    ...hooksAt('healthy', 'testing', context),
    ...(strategy.testListener ? [{ kind: 'route-test', status: 'testing' } as const] : []),
    ...hooksAt('test-traffic', 'testing', context),
    ...hooksAt('before-shift', 'testing', context),
    { kind: 'shift', status: 'shifting', weight: 100 },
    ...hooksAt('after-shift', 'shifting', context),
    ...(context.previous && strategy.bakeMs > 0
      ? [{ kind: 'bake', status: 'baking', ms: strategy.bakeMs } as const]
      : []),
    ...retirePhase(context),
  ];
}
