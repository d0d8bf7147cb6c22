import type { Deployment } from './deployment.js';
import type { DeploymentStore } from './ports.js';

export interface EnvironmentStatus {
  environment: string;
  /** The release production routes to, as the last finished deployment left it. */
  servingReleaseId?: string;
  /** The newest deployment, finished or not. */
  latest: Deployment;
}

/** Per environment of a service (or for one): what serves, and the newest deployment. */
export function environmentStatus(
  deployments: Pick<DeploymentStore, 'latest' | 'servingRelease'>,
  service: string,
  environment?: string,
): EnvironmentStatus[] {
  return deployments.latest(service, environment).map((latest) => {
    const servingReleaseId = deployments.servingRelease(service, latest.environment);
    return {
      environment: latest.environment,
      latest,
      ...(servingReleaseId === undefined ? {} : { servingReleaseId }),
    };
  });
}
