import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * `--sandbox`: the build's shell runs under bubblewrap with the whole filesystem read-only
 * except the build's own folder (source, HOME, TMPDIR), a private /tmp, /proc and /dev, and
 * its own PID namespace, so a build cannot change the host or see its processes. The network
 * stays shared: builds download dependencies.
 */
export function bubblewrapArgs(writable: readonly string[], workingDirectory: string): string[] {
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
