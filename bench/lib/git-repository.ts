import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Identity and settings given on the command line, so the host's git configuration cannot interfere. */
const GIT_SETTINGS = [
  '-c',
  'user.name=Phoenix bench',
  '-c',
  'user.email=bench@localhost',
  '-c',
  'commit.gpgsign=false',
  '-c',
  'init.defaultBranch=main',
];

function git(directory: string, ...args: string[]) {
  return run('git', [...GIT_SETTINGS, '-C', directory, ...args]);
}

/**
 * Creates a git repository at `directory` holding `files` (relative path → content) in one
 * commit on `main`; returns the commit id.
 */
export async function createGitRepository(
  directory: string,
  files: Readonly<Record<string, string>>,
): Promise<string> {
  await mkdir(directory, { recursive: true });
  await git(directory, 'init', '--quiet');
  return commitFiles(directory, files, 'Bench fixture');
}

/** Writes `files` into the repository and commits them on its branch; returns the commit id. */
export async function commitFiles(
  directory: string,
  files: Readonly<Record<string, string>>,
  message: string,
): Promise<string> {
  for (const [path, content] of Object.entries(files)) {
    const absolute = join(directory, path);
    await mkdir(dirname(absolute), { recursive: true });
    await writeFile(absolute, content);
  }
  await git(directory, 'add', '--all');
  await git(directory, 'commit', '--quiet', '--message', message);
  const { stdout } = await git(directory, 'rev-parse', 'HEAD');
  return stdout.trim();
}
