import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runGit } from '../source/git-command.js';
import { listRefs } from '../source/hosted-repository.js';
import { isCommitId } from '../source/ref-name.js';
import type { Service } from '../store/service-repository.js';

/**
 * Where Phoenix reads a service's commits when main.ts says nothing else: a hosted
 * service's bare repository, or an external repository that is a local path (or file://
 * URL). Remote external repositories are read from their mirror, which only the wiring
 * knows (ServerDeps.repositoryOf); without it they have none here.
 */
export function defaultRepositoryOf(service: Service): string | undefined {
  if (service.repository.kind === 'hosted') return service.repository.path;
  const { url } = service.repository;
  if (isAbsolute(url)) return url;
  if (url.startsWith('file://')) return fileURLToPath(url);
  return undefined;
}

/** The commit a full ref name points at, or undefined when the repository has no such ref. */
export async function resolveRef(repository: string, ref: string): Promise<string | undefined> {
  // Listing every ref keeps the ref out of git's arguments altogether.
  return (await listRefs(repository)).get(ref);
}

/** Whether `commit` (a full id) is a commit in the repository. */
export async function hasCommit(repository: string, commit: string): Promise<boolean> {
  if (!isCommitId(commit)) return false;
  const result = await runGit(['-C', repository, 'cat-file', '-e', `${commit}^{commit}`]);
  return result.exitCode === 0;
}
