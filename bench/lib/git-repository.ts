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

/** Creates a git repository at `directory` holding `files` (relative path → content) in one commit. */
export async function createGitRepository(
  directory: string,
  files: Readonly<Record<string, string>>,
): Promise<void> {
  await mkdir(directory, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    const absolute = join(directory, path);
    await mkdir(dirname(absolute), { recursive: true });
    await writeFile(absolute, content);
  }
  const git = (...args: string[]) => run('git', [...GIT_SETTINGS, '-C', directory, ...args]);
  await git('init', '--quiet');
  await git('add', '--all');
  await git('commit', '--quiet', '--message', 'Bench fixture');
}
