import type { BuildRequest, Executor } from '../build/executor.js';
import type { BuildSummary } from '../build/build-result.js';
import type { SecretResolver } from '../build/secrets.js';
import { storeSecretResolver } from './build-secret-resolver.js';
import type { SecretStore } from './secret-store.js';

/**
 * An Executor whose builds see the secrets of their own service. The build engine's
 * SecretResolver is handed to an executor when it is made and is told nothing about the
 * build, so this makes one executor per build, from `executorWith` (main.ts's EXECUTORS
 * entry), with a resolver bound to `request.project`: the pipeline names a build's project
 * after its service. A build without a project sees secrets for all services only.
 * The executor contract holds unchanged: each build is its executor's only one.
 */
export function withServiceSecrets(options: {
  secrets: Pick<SecretStore, 'resolve'>;
  executorWith: (secrets: SecretResolver) => Executor;
}): Executor {
  return {
    run(request: BuildRequest, signal?: AbortSignal): Promise<BuildSummary> {
      const secrets = storeSecretResolver(
        options.secrets,
        request.project === undefined ? {} : { service: request.project },
      );
      return options.executorWith(secrets).run(request, signal);
    },
  };
}
