import type { DeploymentStrategy } from '../deployment.js';
import { planAllAtOnce } from './all-at-once.js';
import { planBlueGreen } from './blue-green.js';
import { planCanary, planLinear } from './canary.js';
import type { DeploymentStep, PlanContext } from './step.js';

/** The steps a deployment with this strategy goes through. */
export function planDeployment(
  strategy: DeploymentStrategy,
  context: PlanContext,
): DeploymentStep[] {
  switch (strategy.kind) {
    case 'all-at-once':
      return planAllAtOnce(strategy, context);
    case 'blue-green':
      return planBlueGreen(strategy, context);
    case 'canary':
      return planCanary(strategy, context);
    case 'linear':
      return planLinear(strategy, context);
  }
}
