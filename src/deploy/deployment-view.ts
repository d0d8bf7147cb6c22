import type {
  DeploymentEvent,
  DeploymentStatus,
  DeploymentStrategy,
  DeploymentTrigger,
  RollbackOutcome,
} from './deployment.js';
import type { ListenerPorts } from './listener-registry.js';

/**
 * A deployment as the API shows it: everything but what stays on the server (the hook log's
 * path, the start command and the environment's variables, which may be secret-ish).
 */
export interface DeploymentView {
  id: string;
  service: string;
  environment: string;
  releaseId: string;
  releaseNumber: number;
  commit?: string;
  previousReleaseId?: string;
  strategy: DeploymentStrategy;
  status: DeploymentStatus;
  reason?: string;
  outcome?: RollbackOutcome;
  /** The planned steps, in words; `step` is the index of the one under way (-1: none yet). */
  steps: string[];
  step: number;
  trigger: DeploymentTrigger;
  servingReleaseId?: string;
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
  timeline: DeploymentEvent[];
  url: string;
}

/** One environment of a service: what serves, where, and the newest deployment. */
export interface EnvironmentStatusView {
  environment: string;
  servingRelease?: { id: string; number?: number };
  /** The router's listener ports, as recorded when the environment was last deployed. */
  listeners?: ListenerPorts;
  latest: DeploymentView;
}

export interface ServiceStatusView {
  service: string;
  environments: EnvironmentStatusView[];
  /**
   * Environments phoenix.yml (on the default branch) names that have no deployment yet, in
   * its order: where they will listen, and the approval gate one waits at, if any.
   */
  undeployed: UndeployedEnvironmentView[];
}

export interface UndeployedEnvironmentView {
  environment: string;
  listeners?: ListenerPorts;
  waitingApproval?: {
    id: string;
    runId: string;
    /** The run's number: `shop #3`. */
    runNumber: number;
    approvals: number;
    required: number;
    expiresAt: string;
  };
}
