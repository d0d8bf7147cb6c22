import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export interface TimedPush {
  /** Wall clock (epoch ms, sub-millisecond) just before `git push` was spawned. */
  startedAt: number;
  /** From spawning `git push` until it exited. */
  wallMs: number;
}

/** Milliseconds since the epoch with performance.now()'s resolution, comparable with server times. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * `git push <url> HEAD:refs/heads/<branch>` over smart HTTP, timed from just before the spawn
 * until git exits. Git reads no configuration but its own defaults (no credential helper, no
 * global or system file), so the host cannot slow or change a push.
 */
export function timedPush(options: {
  directory: string;
  url: string;
  branch: string;
  scratchHome: string;
}): Promise<TimedPush> {
  const startedAt = wallNow();
  const started = performance.now();
  const child = spawn(
    'git',
    [
      '-c',
      'credential.helper=',
      'push',
      '--quiet',
      options.url,
      `HEAD:refs/heads/${options.branch}`,
    ],
    {
      cwd: options.directory,
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: options.scratchHome,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_TERMINAL_PROMPT: '0',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      const wallMs = performance.now() - started;
      if (code === 0) resolve({ startedAt, wallMs });
      else child.once('close', () => reject(new Error(`git push exited with ${code}: ${stderr}`)));
    });
  });
}
