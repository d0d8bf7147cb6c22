import { randomBytes } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';

/** Where one build keeps its things. Only the log, the summary and the reports outlive it. */
export interface BuildPaths {
  /** `<PHOENIX_HOME>/builds/<project>/<number>` */
  root: string;
  /** The checkout. */
  source: string;
  /** HOME of the build's commands. */
  home: string;
  /** TMPDIR of the build's commands. */
  tmp: string;
  /** The shell session's scratch state. */
  state: string;
  log: string;
  reports: string;
  summary: string;
}

/**
 * The shell session rewrites a small state file after every command. On a disk mounted with
 * `discard`, truncating a file costs about a millisecond; on tmpfs it costs microseconds, so
 * the state lives in /dev/shm where the machine has one.
 */
export function memoryBackedFolder(): string | undefined {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return undefined;
  }
}

export function buildPaths(root: string, stateRoot: string | undefined, name: string): BuildPaths {
  return {
    root,
    source: join(root, 'src'),
    home: join(root, 'home'),
    tmp: join(root, 'tmp'),
    state:
      stateRoot === undefined
        ? join(root, 'state')
        : join(stateRoot, `phoenix-${name}-${randomBytes(6).toString('hex')}`),
    log: join(root, 'build.log'),
    reports: join(root, 'reports'),
    summary: join(root, 'summary.json'),
  };
}
