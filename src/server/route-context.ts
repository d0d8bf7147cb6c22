import type { Service } from '../store/service-repository.js';
import type { ServerMetrics } from './metrics.js';
import type { ServerDeps } from './server-deps.js';

/** What route plugins share: the dependencies plus the server's own running parts. */
export interface RouteContext {
  deps: ServerDeps;
  metrics: ServerMetrics;
  repositoryOf: (service: Service) => string | undefined;
  /** Without a trailing slash. */
  publicUrl: () => string;
  /** Open event streams (runs', deployments'), ended when the server closes. */
  streams: Set<{ close(): void }>;
}
