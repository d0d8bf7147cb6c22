import type { DeploymentChanges } from '../deploy/deployment-changes.js';
import type { ApprovalGates } from '../approval/approval-gates.js';
import type { DeploymentController } from '../deploy/deployment-controller.js';
import type { EnvironmentDeployer } from '../deploy/environment-deployer.js';
import type { ServiceNotifications } from '../notify/service-notifications.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { DeploymentMetricsSources } from './metrics.js';
import type { ListenerRegistry } from '../deploy/listener-registry.js';
import type { Orchestrator } from '../pipeline/orchestrator.js';
import type { RunEventBus } from '../pipeline/run-events.js';
import type { Logger } from '../shared/logger.js';
import type { Service } from '../store/service-repository.js';
import type { Store } from '../store/store.js';

/** Pollers for external repositories: the server tells them about services it adds or removes. */
export interface SourceWatcher {
  watch(service: Service): void;
  unwatch(name: string): void;
}

/** What the HTTP server needs; wired once in main.ts. */
export interface ServerDeps {
  store: Store;
  orchestrator: Orchestrator;
  bus: RunEventBus;
  /** Hosted bare repositories live here, at repositoryPath(root, name). */
  repositoriesRoot: string;
  sources: SourceWatcher;
  /** Where clients reach this server, e.g. http://127.0.0.1:8800, for push and hook URLs. */
  publicUrl: () => string;
  logger: Logger;
  now: () => number;
  version: string;
  /** Largest JSON request body; DEFAULT_MAX_JSON_BYTES (1 MiB) when absent. */
  maxJsonBytes?: number;
  /** Largest webhook delivery; DEFAULT_MAX_WEBHOOK_BYTES (5 MiB) when absent. */
  maxWebhookBytes?: number;
  /** Largest push (pack) over smart HTTP; git-http's DEFAULT_MAX_PUSH_BYTES when absent. */
  maxPushBytes?: number;
  /**
   * The git repository Phoenix reads a service's commits from: the same one the
   * orchestrator's config source and build stage use (hosted bare repository or mirror).
   * Undefined when there is none yet. Defaults to defaultRepositoryOf.
   */
  repositoryOf?: (service: Service) => string | undefined;
  /**
   * Brings an external service's mirror up to date (a fetch), called when a forge webhook
   * announces a push, before the pushed commit is looked up. Without it, a commit the
   * mirror lacks is left to the poller.
   */
  fetchExternal?: (service: Service) => Promise<void>;
  /** Comment lines sent on idle event streams so proxies keep them open; default 15 s. */
  heartbeatMs?: number;
  /** Node process metrics (CPU, memory, event loop) on /metrics; default true. */
  processMetrics?: boolean;
  /** Starts deployments (and rollbacks) asked for over the API; without it they are refused (409). */
  deployer?: Pick<
    EnvironmentDeployer,
    'deployRelease' | 'rollback' | 'takeDown' | 'environmentsOf'
  >;
  /** Every recorded change of a deployment, for its event stream; without it that is refused (409). */
  deploymentChanges?: Pick<DeploymentChanges, 'subscribe'>;
  /** Promotes, pauses, resumes and aborts deployments in flight; without it those are refused (409). */
  deployments?: Pick<DeploymentController, 'promote' | 'abort' | 'pause' | 'resume' | 'logFile'>;
  /** Deployment and instance metrics on /metrics; without them, runs and requests only. */
  deploymentMetrics?: DeploymentMetricsSources;
  /** Approval gates: what waits, and people's decisions; without it those routes are refused (409). */
  approvals?: Pick<ApprovalGates, 'waiting' | 'approve' | 'reject'>;
  /** Notification deliveries, for `GET /api/notifications`; none listed without it. */
  notifications?: Pick<ServiceNotifications, 'deliveries'>;
  /** Secrets (`/api/secrets`); without it those routes are refused (409). */
  secrets?: SecretStore;
  /** The environments' listener ports, shown with their status. */
  listeners?: Pick<ListenerRegistry, 'ports'>;
}
