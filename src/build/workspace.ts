import { execFile } from 'node:child_process';
import { cp, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { basename, join, posix, sep } from 'node:path';
import { promisify } from 'node:util';
import { NotFoundError, PlatformError } from '../shared/errors.js';

const run = promisify(execFile);

/** What was checked out, for CODEBUILD_SOURCE_VERSION and friends. */
export interface SourceInfo {
  /** The repository (or plain folder) the build was asked to build. */
  root: string;
  isGit: boolean;
  /** Where the requested folder sits inside the repository ('' for its root). */
  subdirectory: string;
  /** Full commit id, for git sources. */
  commit?: string;
  /** Branch name when the commit is a branch tip, else undefined. */
  branch?: string;
  /** What the user asked for (`main`, a tag, a commit); defaults to the branch or commit. */
  requestedVersion?: string;
  remoteUrl?: string;
  /** Uncommitted changes in the source that the build does not include. */
  dirty: boolean;
  hasSubmodules: boolean;
}

/** A reference from outside never reaches git as an option or a shell word. */
export function isSafeRevision(revision: string): boolean {
  return (
    /^[A-Za-z0-9][A-Za-z0-9._/@{}^~-]*$/.test(revision) &&
    !revision.includes('..') &&
    revision.length <= 255
  );
}

async function git(cwd: string, args: readonly string[]): Promise<string> {
  const { stdout } = await run('git', ['-C', cwd, ...args], { maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

async function gitOptional(cwd: string, args: readonly string[]): Promise<string | undefined> {
  try {
    const value = await git(cwd, args);
    return value === '' ? undefined : value;
  } catch {
    return undefined;
  }
}

/** Finds what to build: the git repository containing `directory` at `revision`, or the plain folder. */
export async function inspectSource(directory: string, revision?: string): Promise<SourceInfo> {
  if (revision !== undefined && !isSafeRevision(revision)) {
    throw new NotFoundError(`not a valid git revision: ${JSON.stringify(revision)}`);
  }
  if ((await gitOptional(directory, ['rev-parse', '--is-bare-repository'])) === 'true') {
    return inspectBare(directory, revision);
  }
  const top = await gitOptional(directory, ['rev-parse', '--show-toplevel']);
  if (top === undefined) {
    if (revision !== undefined)
      throw new NotFoundError(
        `${directory} is not a git repository, so it has no revision ${revision}`,
      );
    return { root: directory, isGit: false, subdirectory: '', dirty: false, hasSubmodules: false };
  }
  const wanted = revision ?? 'HEAD';
  const commit = await gitOptional(top, [
    'rev-parse',
    '--verify',
    '--quiet',
    '--end-of-options',
    `${wanted}^{commit}`,
  ]);
  if (commit === undefined) {
    throw new NotFoundError(
      revision === undefined
        ? `${top} has no commits yet: commit something to build`
        : `no commit ${revision} in ${top}`,
    );
  }
  const branch =
    revision === undefined
      ? await gitOptional(top, ['symbolic-ref', '--quiet', '--short', 'HEAD'])
      : undefined;
  const status =
    revision === undefined
      ? await git(top, ['status', '--porcelain', '--untracked-files=normal'])
      : '';
  const modules = await gitOptional(top, ['ls-files', '--', '.gitmodules']);
  const prefix = (await gitOptional(directory, ['rev-parse', '--show-prefix'])) ?? '';
  return {
    root: top,
    isGit: true,
    subdirectory: prefix.replace(/\/+$/, ''),
    commit,
    branch,
    requestedVersion: revision ?? branch ?? commit,
    remoteUrl: await gitOptional(top, ['config', '--get', 'remote.origin.url']),
    dirty: status !== '',
    hasSubmodules: modules !== undefined,
  };
}

/** A bare repository (Phoenix's hosted repositories, mirrors): no working tree, so never dirty. */
async function inspectBare(directory: string, revision: string | undefined): Promise<SourceInfo> {
  const wanted = revision ?? 'HEAD';
  const commit = await gitOptional(directory, [
    'rev-parse',
    '--verify',
    '--quiet',
    '--end-of-options',
    `${wanted}^{commit}`,
  ]);
  if (commit === undefined) throw new NotFoundError(`no commit ${wanted} in ${directory}`);
  return {
    root: directory,
    isGit: true,
    subdirectory: '',
    commit,
    requestedVersion: revision ?? commit,
    remoteUrl: await gitOptional(directory, ['config', '--get', 'remote.origin.url']),
    dirty: false,
    hasSubmodules: false,
  };
}

/**
 * Makes the build's own copy of the source: a clone at the commit (never the user's working
 * tree), or a copy of a plain folder. The clone borrows objects from the source repository
 * (`--shared`), so it costs a checkout, not a full copy of history.
 */
export async function checkout(source: SourceInfo, destination: string): Promise<void> {
  await mkdir(destination, { recursive: true });
  if (await hasEntries(destination))
    throw new PlatformError(`workspace ${destination} is not empty`);
  if (!source.isGit || source.commit === undefined) {
    await cp(source.root, destination, {
      recursive: true,
      verbatimSymlinks: true,
      filter: (path) => basename(path) !== '.phoenix',
    });
    return;
  }
  await run('git', [
    'clone',
    '--quiet',
    '--shared',
    '--no-checkout',
    '--',
    source.root,
    destination,
  ]);
  await git(destination, [
    '-c',
    'advice.detachedHead=false',
    'checkout',
    '--quiet',
    '--detach',
    source.commit,
  ]);
  if (source.hasSubmodules) {
    await git(destination, ['submodule', 'update', '--init', '--recursive', '--quiet']);
  }
}

async function hasEntries(directory: string): Promise<boolean> {
  return (await readdir(directory)).length > 0;
}

export async function removeWorkspace(paths: readonly string[]): Promise<void> {
  for (const path of paths) await rm(path, { recursive: true, force: true, maxRetries: 3 });
}

export function sourceDirectory(buildDirectory: string): string {
  return join(buildDirectory, 'src');
}

/** A file as committed at the source's commit (or as on disk for a plain folder). */
export async function readSourceFile(source: SourceInfo, relativePath: string): Promise<string> {
  const inRepository = posix.join(source.subdirectory, relativePath.split(sep).join('/'));
  if (!source.isGit || source.commit === undefined) {
    return readFile(join(source.root, inRepository), 'utf8');
  }
  try {
    return await git(source.root, ['show', `${source.commit}:${inRepository}`]);
  } catch (error) {
    throw new NotFoundError(`no ${inRepository} in commit ${source.commit.slice(0, 12)}`, {
      cause: error,
    });
  }
}
