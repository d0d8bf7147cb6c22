import { randomUUID } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArtifactStore } from '../build/artifact-store.js';
import { PlatformError } from '../shared/errors.js';
import type { Release } from './release.js';

/** Unpacked releases live in `<PHOENIX_HOME>/releases/<release id>/`. */
export function releasesRootOf(home: string): string {
  return join(home, 'releases');
}

export interface ReleaseFilesOptions {
  artifacts: ArtifactStore;
  /** Usually releasesRootOf(PHOENIX_HOME). */
  releasesRoot: string;
}

const RELEASE_ID_PATTERN = /^rel_[0-9a-z]{1,40}$/;
/** `.<release id>.partial-<pid>-<uuid>`: an unpack in progress, or interrupted by a crash. */
const PARTIAL_PATTERN = /^\.(rel_[0-9a-z]+)\.partial-(\d+)-[0-9a-f-]+$/;
const WRITE_BITS = 0o222;

/** Where a release's files are (or will be) unpacked. */
export function releaseDirectory(releasesRoot: string, releaseId: string): string {
  if (!RELEASE_ID_PATTERN.test(releaseId)) {
    throw new PlatformError(`${JSON.stringify(releaseId)} is not a release id`);
  }
  return join(releasesRoot, releaseId);
}

/**
 * Returns the folder holding the release's files, unpacking its artifact there the first
 * time. The folder appears whole or not at all: the artifact is extracted into a partial
 * folder beside it, made read-only, then renamed into place. Calls may run concurrently, in
 * this process or others: each extracts on its own and the first rename wins; the others
 * drop their copy and return the winner's. Partial folders left by a crashed process are
 * removed by the next call for the same release.
 *
 * The folder is read-only (no write bit on any file or folder) because every deployment and
 * every instance of the release, in every environment, shares it: the release is what was
 * built, never something an instance changed. Instances write their logs to stdout and
 * stderr (the runtime keeps a log file per instance, outside the release) and scratch files
 * to $TMPDIR or $HOME. A deployment that must change files (appspec `files` and
 * `permissions`, hooks that build in place) works on a copy. Read-only is a guard against
 * mistakes, not a security boundary: a process running as root writes regardless.
 */
export async function ensureUnpacked(
  release: Pick<Release, 'id' | 'artifact'>,
  options: ReleaseFilesOptions,
): Promise<string> {
  const directory = releaseDirectory(options.releasesRoot, release.id);
  if (await isDirectory(directory)) return directory;
  await mkdir(options.releasesRoot, { recursive: true });
  await removeInterruptedUnpacks(options.releasesRoot, release.id);
  const partial = join(
    options.releasesRoot,
    `.${release.id}.partial-${process.pid}-${randomUUID()}`,
  );
  try {
    await options.artifacts.extract(release.artifact.digest, partial);
    await makeReadOnly(partial);
    await moveIntoPlace(partial, directory);
  } finally {
    await removeWritable(partial);
  }
  return directory;
}

/** Deletes a release's unpacked files (for clean-up of releases no environment runs). */
export async function removeUnpacked(releaseId: string, releasesRoot: string): Promise<void> {
  await removeWritable(releaseDirectory(releasesRoot, releaseId));
}

/**
 * Renames the partial folder to its final name. Losing the race to another unpack of the
 * same release is fine: the folder there has the same content. (A rename onto an empty
 * folder replaces it, which only an artifact without files can meet; the content is the same.)
 */
async function moveIntoPlace(partial: string, directory: string): Promise<void> {
  try {
    await rename(partial, directory);
  } catch (error) {
    const code = errorCode(error);
    if ((code === 'ENOTEMPTY' || code === 'EEXIST') && (await isDirectory(directory))) return;
    throw new PlatformError(`cannot move the unpacked release into ${directory}`, {
      cause: error,
    });
  }
}

/** Removes the release's partial folders whose process is gone (a crash mid-unpack). */
async function removeInterruptedUnpacks(releasesRoot: string, releaseId: string): Promise<void> {
  for (const name of await readdir(releasesRoot)) {
    const match = PARTIAL_PATTERN.exec(name);
    if (match?.[1] !== releaseId || isRunning(Number(match[2]))) continue;
    await removeWritable(join(releasesRoot, name));
  }
}

/** Clears every write bit below and on `root`, folders last; symbolic links are left as they are. */
async function makeReadOnly(root: string): Promise<void> {
  for (const entry of await readdir(root, { withFileTypes: true })) {
    const path = join(root, entry.name);
    if (entry.isDirectory()) await makeReadOnly(path);
    else if (entry.isFile()) await clearWriteBits(path);
  }
  await clearWriteBits(root);
}

async function clearWriteBits(path: string): Promise<void> {
  const { mode } = await stat(path);
  await chmod(path, mode & 0o7777 & ~WRITE_BITS);
}

/** `rm -rf` for a read-only tree: folders get their owner's write bit back first. */
async function removeWritable(path: string): Promise<void> {
  const stats = await lstat(path).catch(() => undefined);
  if (stats === undefined) return;
  if (stats.isDirectory()) await makeFoldersWritable(path);
  await rm(path, { recursive: true, force: true });
}

async function makeFoldersWritable(root: string): Promise<void> {
  await chmod(root, 0o700);
  for (const entry of await readdir(root, { withFileTypes: true })) {
    if (entry.isDirectory()) await makeFoldersWritable(join(root, entry.name));
  }
}

async function isDirectory(path: string): Promise<boolean> {
  const stats = await lstat(path).catch(() => undefined);
  return stats?.isDirectory() === true;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return errorCode(error) === 'EPERM';
  }
}

function errorCode(error: unknown): string | undefined {
  if (!(error instanceof Error) || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}
