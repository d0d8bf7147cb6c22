import { allowedHostVariables } from '../../shared/host-env.js';
import type { StartRequest } from '../runtime.js';
import { INSTANCE_MARK_VARIABLE } from './instance-reaper.js';

export interface InstanceIdentity {
  id: string;
  index: number;
  port: number;
}

/**
 * An instance's whole environment, lowest precedence first: allowlisted host variables, the
 * environment's variables from the request, then the port and PHOENIX_* identity, which
 * nobody may override (the mark is how the runtime finds the instance's processes).
 */
export function instanceEnvironment(
  host: NodeJS.ProcessEnv,
  request: Pick<StartRequest, 'service' | 'environment' | 'releaseId' | 'portEnv' | 'env'>,
  identity: InstanceIdentity,
): Record<string, string> {
  const env = allowedHostVariables(host);
  Object.assign(env, request.env);
  Object.assign(env, {
    [request.portEnv]: String(identity.port),
    PHOENIX_SERVICE: request.service,
    PHOENIX_ENVIRONMENT: request.environment,
    PHOENIX_RELEASE: request.releaseId,
    PHOENIX_INSTANCE: String(identity.index),
    [INSTANCE_MARK_VARIABLE]: identity.id,
  });
  return env;
}
