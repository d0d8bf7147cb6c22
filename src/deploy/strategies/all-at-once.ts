import { hooksAt, retirePhase, startPhase, type DeploymentStep, type PlanContext } from './step.js';

/**
 * All at once (CodeDeploy's ECSAllAtOnce): start the new release, wait until it is healthy,
 * move all of production to it in one atomic change, then drain and stop the previous one.
 * No test listener and no bake: the hooks before the shift are the only validation.
 */
export function planAllAtOnce(context: PlanContext): DeploymentStep[] {
  return [
    ...startPhase(context),
    ...hooksAt('healthy', 'testing', context),
    ...hooksAt('before-shift', 'testing', context),
    { kind: 'shift', status: 'shifting', weight: 100 },
    ...hooksAt('after-shift', 'shifting', context),
    ...retirePhase(context),
  ];
}
