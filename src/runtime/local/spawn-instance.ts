import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PlatformError } from '../../shared/errors.js';
import { readProcessStat } from './proc.js';

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnedInstance {
  child: ChildProcess;
  pid: number;
  /** Settles when the process exits; listened to from the spawn on, so no exit is missed. */
  exited: Promise<ExitStatus>;
  /** Field 22 of /proc/<pid>/stat, recorded to tell this process from a later one with its pid. */
  startTime: number;
}

/**
 * Starts `bash -c <command>` as the leader of a new process group (and session), so one
 * signal reaches everything it starts. The user's command is one argument: nothing is pasted
 * into another shell line. stdout and stderr are the log file itself, opened O_APPEND: no pipe
 * to us, so the instance keeps logging (and never gets SIGPIPE) when the control plane dies.
 */
export async function spawnInstance(options: {
  command: string;
  cwd: string;
  env: Record<string, string>;
  logFile: string;
}): Promise<SpawnedInstance> {
  await mkdir(dirname(options.logFile), { recursive: true, mode: 0o700 });
  const log = await open(options.logFile, 'a', 0o600);
  let child: ChildProcess;
  let failed: Promise<unknown>;
  let exited: Promise<ExitStatus>;
  try {
    child = spawn('bash', ['-c', options.command], {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
    });
    // Both are emitted on a later tick: listen before awaiting anything.
    failed = new Promise((resolve) => child.on('error', resolve));
    exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
  } finally {
    // The child has its own copy of the descriptor now.
    await log.close();
  }
  // Running instances must not keep the control plane's event loop alive.
  child.unref();
  const pid = child.pid;
  if (pid === undefined) {
    throw new PlatformError(`cannot start bash in ${options.cwd}`, { cause: await failed });
  }
  const stat = await readProcessStat(pid);
  // The process may have exited already (a command that fails at once); its start time is
  // unknowable then, and the exit event follows.
  return { child, pid, exited, startTime: stat?.startTime ?? 0 };
}
