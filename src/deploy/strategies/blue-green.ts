import type { DeploymentStrategy } from '../deployment.js';
import { hooksAt, retirePhase, startPhase, type DeploymentStep, type PlanContext } from './step.js';

/** Blue/green's options; the defaults are CodeDeploy's for ECS, apart from the bake time. */
export type BlueGreenStrategy = Extract<DeploymentStrategy, { kind: 'blue-green' }>;

/** Time the previous release stays up after the switch when phoenix.yml names none. */
export { DEFAULT_BAKE_MS } from '../../config/environment-schema.js';

/**
 * Blue/green as CodeDeploy does it for ECS: start green; once healthy, the test listener
 * routes to it and the validation hooks run (AfterAllowTestTraffic, BeforeAllowTraffic);
 * production moves to green atomically; AfterAllowTraffic; then the bake time, during which
 * blue stays up for an instant rollback and green is judged on its live traffic; then blue
 * is drained and stopped. Until production moves, a failure leaves blue serving untouched.
 * With `manualPromote`, production moves only once a person promotes green. A first
 * deployment has no blue: nothing to keep warm, so no bake and no hold.
 */
export function planBlueGreen(strategy: BlueGreenStrategy, context: PlanContext): DeploymentStep[] {
  return [
    ...startPhase(context),
    ...hooksAt('healthy', 'testing', context),
    ...(strategy.testListener ? [{ kind: 'route-test', status: 'testing' } as const] : []),
    ...hooksAt('test-traffic', 'testing', context),
    ...hooksAt('before-shift', 'testing', context),
    ...(strategy.manualPromote && context.previous
      ? [{ kind: 'await-promotion', status: 'paused' } as const]
      : []),
    { kind: 'shift', status: 'shifting', weight: 100 },
    ...hooksAt('after-shift', 'shifting', context),
    ...(context.previous ? [{ kind: 'bake', status: 'baking', ms: strategy.bakeMs } as const] : []),
    ...retirePhase(context),
  ];
}
