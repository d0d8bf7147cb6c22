import type { ReleaseConfig } from '../config/phoenix-config.js';
import type {
  Deployment,
  DeploymentEvent,
  DeploymentStatus,
  DeploymentStrategy,
  DeploymentTarget,
  DeploymentTrigger,
  RollbackOutcome,
} from './deployment.js';
import type { DeploymentStep } from './strategies/step.js';

/** What a deployment needs to know of a release; the release store implements `ReleaseSource`. */
export interface DeployableRelease {
  id: string;
  service: string;
  /** 1, 2, 3... per service: names the release's target groups. */
  number: number;
  commit?: string;
  /**
   * How its instances start and are health-checked, as phoenix.yml said at its commit; when
   * absent, the deployment's phoenix.yml says it.
   */
  config?: ReleaseConfig;
}

export interface ReleaseSource {
  /** Throws NotFoundError. */
  get(id: string): DeployableRelease | Promise<DeployableRelease>;
  /** The unpacked release: instances run there, appspec hooks are found there. */
  directory(id: string): Promise<string>;
}

export interface NewDeployment {
  service: string;
  environment: string;
  releaseId: string;
  previousReleaseId?: string;
  strategy: DeploymentStrategy;
  plan: DeploymentStep[];
  target: DeploymentTarget;
  trigger: DeploymentTrigger;
}

export interface NewDeploymentEvent {
  type: string;
  reason?: string;
  data?: Record<string, unknown>;
}

/** One change of a deployment, written together with the event that explains it. */
export interface DeploymentChange {
  /** Checked against DEPLOYMENT_TRANSITIONS when it differs from the stored status. */
  status?: DeploymentStatus;
  /** The step about to start; its start time is now. */
  step?: number;
  /** Replaces the stored reason when given. */
  reason?: string;
  outcome?: RollbackOutcome;
  /** With a finished status: the release production routes to. */
  servingReleaseId?: string;
  event: NewDeploymentEvent;
}

/**
 * Durable deployments. The SQLite repository implements it; every change is written (with
 * its timeline event, atomically) before the controller acts on it outside.
 */
export interface DeploymentStore {
  /** Records a pending deployment; ConflictError when one is unfinished for the environment. */
  create(input: NewDeployment): Deployment;
  /** Throws NotFoundError. */
  get(id: string): Deployment;
  /** Throws IllegalTransitionError, NotFoundError. */
  record(id: string, change: DeploymentChange): Deployment;
  append(id: string, event: NewDeploymentEvent): DeploymentEvent;
  /** Oldest first: what a restarted control plane must finish or roll back. */
  unfinished(): Deployment[];
  /** The newest deployment of each environment of the service (or of one environment). */
  latest(service: string, environment?: string): Deployment[];
  /** Newest first, at most `limit`. */
  list(query: { service: string; environment?: string; limit: number }): Deployment[];
  /** The release production routes to, as the last finished deployment left it. */
  servingRelease(service: string, environment: string): string | undefined;
  /** Per environment at rest, the successful deployment of the release that serves it. */
  serving(): Deployment[];
}
