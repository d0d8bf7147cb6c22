import type { DeployStrategy } from '../../config/appspec-hooks.js';
import type { DeploymentStrategy, StrategyKind } from '../deployment.js';
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

/**
 * Which appspec lifecycle a strategy follows. Canary and linear shift production in steps
 * but otherwise follow blue/green's events, as CodeDeploy's ECS deployments do.
 */
export const APPSPEC_LIFECYCLE: Record<StrategyKind, DeployStrategy> = {
  'all-at-once': 'all-at-once',
  'blue-green': 'blue-green',
  canary: 'blue-green',
  linear: 'blue-green',
};
