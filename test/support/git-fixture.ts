import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A throwaway folder; `remove()` in afterEach. */
export function tempDir(prefix = 'phoenix-test-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Phoenix Test',
  GIT_AUTHOR_EMAIL: 'test@phoenix.invalid',
  GIT_COMMITTER_NAME: 'Phoenix Test',
  GIT_COMMITTER_EMAIL: 'test@phoenix.invalid',
};

/** The environment of git as a user runs it: no prompts, no system or personal configuration. */
export function userGitEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'],
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    ...GIT_ENV,
  };
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    env: { ...process.env, ...GIT_ENV },
    encoding: 'utf8',
  }).trim();
}

/** A real git repository holding `files`, committed; returns the commit id. */
export function gitRepo(path: string, files: Record<string, string>): string {
  mkdirSync(path, { recursive: true });
  git(path, 'init', '-q', '-b', 'main');
  return commitFiles(path, files);
}

export function commitFiles(
  path: string,
  files: Record<string, string>,
  message = 'change',
): string {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(path, name)), { recursive: true });
    writeFileSync(join(path, name), content);
  }
  git(path, 'add', '-A');
  git(path, 'commit', '-q', '--allow-empty', '-m', message);
  return git(path, 'rev-parse', 'HEAD');
}
