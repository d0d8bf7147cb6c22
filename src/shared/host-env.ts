/**
 * Host variables a child process Phoenix starts (a build, a release instance) may see: the
 * locale, the time zone and who it runs as. Everything else (tokens, keys, Phoenix's own
 * settings and secrets) stays out.
 */
export const HOST_ALLOWLIST = [
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

export type HostVariable = (typeof HOST_ALLOWLIST)[number];

/** PATH for a child process when the host has none. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The variables among `names` that `host` sets, in the order of `names`, then PATH as
 * DEFAULT_PATH when the host has none.
 */
export function allowedHostVariables(
  host: NodeJS.ProcessEnv,
  names: readonly HostVariable[] = HOST_ALLOWLIST,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of names) {
    const value = host[name];
    if (value !== undefined) env[name] = value;
  }
  env['PATH'] ??= DEFAULT_PATH;
  return env;
}
