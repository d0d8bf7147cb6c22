import type { StartRequest } from '../runtime.js';
import { INSTANCE_MARK_VARIABLE } from './instance-reaper.js';

/** Host variables an instance may see; Phoenix's own settings and secrets stay out. */
export const INSTANCE_HOST_ALLOWLIST = [
  'PATH',
  'HOME',
  'LANG',
  'LANGUAGE',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'USER',
  'LOGNAME',
] as const;

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

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
  const env: Record<string, string> = {};
  for (const name of INSTANCE_HOST_ALLOWLIST) {
    const value = host[name];
    if (value !== undefined) env[name] = value;
  }
  env['PATH'] ??= DEFAULT_PATH;
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
