import type { RunSummary } from '../pipeline/run-view.js';
import type { Service } from './service-repository.js';

/**
 * A service as the HTTP API shows it, and as the CLI reads it: the webhook secret and
 * server paths (hosted repositories) never leave the server.
 */
export interface ServiceView extends Omit<Service, 'repository' | 'webhookSecret'> {
  repository: { kind: 'hosted'; pushUrl: string } | { kind: 'external'; url: string };
  webhook: { url: string; secretConfigured: boolean };
  lastRun?: RunSummary;
}
