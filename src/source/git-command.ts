import { execFile } from 'node:child_process';
import { PlatformError } from '../shared/errors.js';

/** Enough for ref listings and file reads; more means something is wrong, not a bigger answer. */
export const DEFAULT_GIT_MAX_OUTPUT_BYTES = 32 * 1024 * 1024;

/** Transports git may use on Phoenix's behalf, redirects included (`ext::` and friends never). */
export const ALLOWED_GIT_PROTOCOLS = 'file:git:http:https:ssh';

/** Variables that would point git at another repository than the one Phoenix names. */
const INHERITED_LOCATORS = [
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_COMMON_DIR',
  'GIT_NAMESPACE',
  'GIT_PREFIX',
  'GIT_QUARANTINE_PATH',
];

export interface GitResult {
  stdout: string;
  stderr: string;
  /** null when git was killed (timeout). */
  exitCode: number | null;
  timedOut: boolean;
}

export interface GitOptions {
  timeoutMs?: number;
  maxOutputBytes?: number;
}

/**
 * Runs git with an argument array (never a shell) and never prompts. A non-zero exit is an
 * answer, not an exception: callers decide what it means. Rejects only when git cannot run
 * or its output exceeds the limit.
 */
export function runGit(args: readonly string[], options: GitOptions = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      {
        env: gitEnvironment(),
        encoding: 'utf8',
        maxBuffer: options.maxOutputBytes ?? DEFAULT_GIT_MAX_OUTPUT_BYTES,
        timeout: options.timeoutMs ?? 0,
        killSignal: 'SIGKILL',
      },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve({ stdout, stderr, exitCode: 0, timedOut: false });
        } else if (typeof error.code === 'number') {
          resolve({ stdout, stderr, exitCode: error.code, timedOut: false });
        } else if (error.killed === true && error.code === null) {
          resolve({ stdout, stderr, exitCode: null, timedOut: true });
        } else {
          reject(
            new PlatformError(`git ${args.join(' ')} failed: ${error.message}`, { cause: error }),
          );
        }
      },
    );
  });
}

export function gitMessage(result: GitResult): string {
  if (result.timedOut) return 'timed out';
  const text = result.stderr.trim();
  return text === ''
    ? `exit code ${String(result.exitCode)}`
    : text.split('\n').slice(-3).join(' ');
}

function gitEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !INHERITED_LOCATORS.includes(name)),
  );
  // ssh would ask for a password or a host key on the terminal; a server has nobody to answer.
  if (env['GIT_SSH_COMMAND'] === undefined && env['GIT_SSH'] === undefined) {
    env['GIT_SSH_COMMAND'] = 'ssh -o BatchMode=yes';
  }
  return {
    ...env,
    GIT_TERMINAL_PROMPT: '0',
    GIT_ALLOW_PROTOCOL: ALLOWED_GIT_PROTOCOLS,
    // Git's own messages end up in errors users read; keep them untranslated and stable.
    LC_ALL: 'C',
  };
}
