import type { Deployment } from '../deploy/deployment.js';
import type { DeploymentView } from '../deploy/deployment-view.js';
import { describeStep } from '../deploy/strategies/step.js';

/** What the API shows of a deployment (see DeploymentView). */
export function deploymentView(deployment: Deployment): DeploymentView {
  const { target } = deployment;
  return {
    id: deployment.id,
    service: deployment.service,
    environment: deployment.environment,
    releaseId: deployment.releaseId,
    releaseNumber: target.releaseNumber,
    ...(target.commit === undefined ? {} : { commit: target.commit }),
    ...(deployment.previousReleaseId === undefined
      ? {}
      : { previousReleaseId: deployment.previousReleaseId }),
    strategy: deployment.strategy,
    status: deployment.status,
    ...(deployment.reason === undefined ? {} : { reason: deployment.reason }),
    ...(deployment.outcome === undefined ? {} : { outcome: deployment.outcome }),
    steps: deployment.plan.map(describeStep),
    step: deployment.step,
    trigger: deployment.trigger,
    ...(deployment.servingReleaseId === undefined
      ? {}
      : { servingReleaseId: deployment.servingReleaseId }),
    createdAt: deployment.createdAt,
    updatedAt: deployment.updatedAt,
    ...(deployment.finishedAt === undefined ? {} : { finishedAt: deployment.finishedAt }),
    timeline: deployment.timeline,
    url: `/api/deployments/${deployment.id}`,
  };
}
