import { mkdir, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { ConflictError, NotFoundError, PlatformError } from '../shared/errors.js';
import { pathExists } from '../shared/path-exists.js';
import { runGit, type GitResult, gitMessage } from './git-command.js';
import { inputError } from './input-error.js';
import { isCommitId, isZeroCommit } from './ref-name.js';

/** Lower-case letters, digits and dashes: safe as a folder name, a URL segment and a log field. */
export const REPOSITORY_NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;

/** Ref name → object id. Annotated tags are peeled to what they point at (normally a commit). */
export type RefMap = Map<string, string>;

/** Why `name` cannot name a hosted repository, or undefined when it can. */
export function validateRepositoryName(name: string): string | undefined {
  if (REPOSITORY_NAME_PATTERN.test(name)) return undefined;
  return 'a repository name is 1 to 63 lower-case letters, digits and dashes, starting with a letter';
}

/** Where the bare repository `name` lives under `root`: `<root>/<name>.git`. */
export function repositoryPath(root: string, name: string): string {
  const problem = validateRepositoryName(name);
  if (problem !== undefined)
    throw inputError('repository name', 'name', `${JSON.stringify(name)}: ${problem}`);
  const base = resolve(root);
  const path = join(base, `${name}.git`);
  const inside = relative(base, path);
  // The pattern already rules out separators and dots; this guards against it being loosened.
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside) || inside.includes('/')) {
    throw inputError(
      'repository name',
      'name',
      `${JSON.stringify(name)} leaves the repositories folder`,
    );
  }
  return path;
}

/**
 * Makes an empty bare repository whose default branch is main. Pushes over HTTP are allowed
 * (the server authenticates them), incoming objects are checked, and every ref update is
 * logged with the pusher's name. Fails with ConflictError when the name is taken.
 */
export async function createBareRepository(root: string, name: string): Promise<{ path: string }> {
  const path = repositoryPath(root, name);
  await mkdir(resolve(root), { recursive: true });
  try {
    await mkdir(path);
  } catch (error) {
    if (isErrorCode(error, 'EEXIST')) {
      throw new ConflictError(`repository ${name} already exists`, { cause: error });
    }
    throw new PlatformError(`cannot create ${path}`, { cause: error });
  }
  try {
    await gitIn(path, ['init', '--quiet', '--bare', '--initial-branch=main']);
    await gitIn(path, ['config', 'http.receivepack', 'true']);
    await gitIn(path, ['config', 'receive.fsckObjects', 'true']);
    await gitIn(path, ['config', 'core.logAllRefUpdates', 'always']);
  } catch (error) {
    await rm(path, { recursive: true, force: true });
    throw error;
  }
  return { path };
}

/** True when `path` holds a bare repository (what createBareRepository made). */
export async function isBareRepository(path: string): Promise<boolean> {
  try {
    if (!(await stat(join(path, 'HEAD'))).isFile()) return false;
  } catch {
    return false;
  }
  const result = await runGit(['-C', path, 'rev-parse', '--is-bare-repository']);
  return result.exitCode === 0 && result.stdout.trim() === 'true';
}

/** Every ref with the object it names; annotated tags peeled to their target. */
export async function listRefs(path: string): Promise<RefMap> {
  const output = await gitIn(path, [
    'for-each-ref',
    '--format=%(objectname)%00%(*objectname)%00%(refname)',
  ]);
  const refs: RefMap = new Map();
  for (const line of output.split('\n')) {
    const [object, peeled, ref] = line.split('\0');
    if (object === undefined || ref === undefined) continue;
    refs.set(ref, peeled === undefined || peeled === '' ? object : peeled);
  }
  return refs;
}

/**
 * Files that differ between two commits (added, modified, deleted; a rename lists both
 * names). Undefined when there is nothing to compare with: a new ref (`before` missing or
 * all zeros), a deleted ref, or a `before` this repository does not have.
 */
export async function changedPaths(
  path: string,
  before: string | undefined,
  after: string,
): Promise<string[] | undefined> {
  if (before === undefined || isZeroCommit(before) || isZeroCommit(after)) return undefined;
  requireCommitId(before, 'before');
  requireCommitId(after, 'after');
  if (!(await hasCommit(path, before))) return undefined;
  if (!(await hasCommit(path, after))) throw new NotFoundError(`no commit ${after} in ${path}`);
  const output = await gitIn(path, [
    'diff',
    '--name-only',
    '-z',
    '--no-renames',
    before,
    after,
    '--',
  ]);
  return output.split('\0').filter((name) => name !== '');
}

/**
 * A file's content at a commit, or undefined when the commit has no such file (or it is a
 * folder). NotFoundError when the commit itself is unknown.
 */
export async function readFileAt(
  path: string,
  commit: string,
  file: string,
): Promise<string | undefined> {
  requireCommitId(commit, 'commit');
  const problem = repositoryFileProblem(file);
  if (problem !== undefined)
    throw inputError('file path', 'file', `${JSON.stringify(file)}: ${problem}`);
  if (!(await hasCommit(path, commit))) throw new NotFoundError(`no commit ${commit} in ${path}`);
  const object = `${commit}:${file}`;
  const type = await runGit(['-C', path, 'cat-file', '-t', object]);
  if (type.exitCode !== 0 || type.stdout.trim() !== 'blob') return undefined;
  return gitIn(path, ['cat-file', 'blob', object]);
}

/** Paths inside a commit are relative and plain: `rev:./x` would mean the caller's folder. */
function repositoryFileProblem(file: string): string | undefined {
  // eslint-disable-next-line no-control-regex -- control characters are what this looks for
  if (file === '' || /[\u0000-\u001f\u007f]/.test(file))
    return 'is empty or has a control character';
  if (file.startsWith('/')) return 'must be relative to the repository root';
  if (file.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    return 'must not contain empty, "." or ".." parts';
  }
  return undefined;
}

function requireCommitId(value: string, key: string): void {
  if (!isCommitId(value))
    throw inputError('commit', key, `${JSON.stringify(value)} is not a full commit id`);
}

async function hasCommit(path: string, commit: string): Promise<boolean> {
  const result = await runGit(['-C', path, 'cat-file', '-e', `${commit}^{commit}`]);
  return result.exitCode === 0;
}

/** Runs git in a repository; a missing repository is NotFoundError, any other failure PlatformError. */
async function gitIn(path: string, args: readonly string[]): Promise<string> {
  const result: GitResult = await runGit(['-C', path, ...args]);
  if (result.exitCode === 0) return result.stdout;
  if (!(await pathExists(path))) throw new NotFoundError(`no repository at ${path}`);
  throw new PlatformError(`git ${args[0] ?? ''} failed in ${path}: ${gitMessage(result)}`);
}

function isErrorCode(error: unknown, code: string): boolean {
  return error instanceof Error && 'code' in error && error.code === code;
}
