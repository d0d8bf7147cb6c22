import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * `--sandbox`: the build's shell runs under bubblewrap with the whole filesystem read-only
 * except the build's own folder (source, HOME, TMPDIR), a private /tmp, /proc and /dev, and
 * its own PID namespace, so a build cannot change the host or see its processes. PHOENIX_HOME
 * is hidden behind an empty tmpfs (only the build's own folders are bound back), so a build
 * cannot read the database, other builds, caches or mirrors. The network stays shared:
 * builds download dependencies.
 */
export function bubblewrapArgs(
  writable: readonly string[],
  workingDirectory: string,
  /** Folders replaced by an empty tmpfs (PHOENIX_HOME: tokens, other builds, mirrors). */
  hidden: readonly string[] = [],
): string[] {
  return [
    'bwrap',
    '--die-with-parent',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--ro-bind',
    '/',
    '/',
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    '--tmpfs',
    '/tmp',
    ...hidden.flatMap((path) => ['--tmpfs', path]),
    ...writable.flatMap((path) => ['--bind', path, path]),
    '--chdir',
    workingDirectory,
    '--',
  ];
}

/** Whether bubblewrap is installed and allowed to create namespaces on this machine. */
export async function bubblewrapWorks(): Promise<boolean> {
  try {
    await run('bwrap', [
      '--ro-bind',
      '/',
      '/',
      '--unshare-pid',
      '--proc',
      '/proc',
      '--dev',
      '/dev',
      '--',
      'true',
    ]);
    return true;
  } catch {
    return false;
  }
}
