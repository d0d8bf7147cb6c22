import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../shared/logger.js';
import { ArtifactStore } from './artifact-store.js';
import { allocateBuildDirectory, projectName } from './build-directory.js';
import { buildPaths, memoryBackedFolder } from './build-paths.js';
import type { BuildSummary } from './build-result.js';
import type { BuildRequest, Executor } from './executor.js';
import { LocalBuild } from './local-build.js';
import type { SecretResolver } from './secrets.js';
import { inspectSource } from './workspace.js';

/** Folder holding `codebuild-hash-files`; put on every build's PATH, as CodeBuild does. */
export const LIBEXEC_DIRECTORY = fileURLToPath(new URL('../../libexec', import.meta.url));

export interface LocalExecutorOptions {
  /** PHOENIX_HOME: builds, artifacts and caches live below it. */
  home: string;
  secrets: SecretResolver;
  logger: Logger;
  now?: () => number;
  /** The environment builds may take allowlisted variables from (PATH, locale). */
  hostEnv?: NodeJS.ProcessEnv;
}

/** Runs builds on this machine: a fresh checkout per build, one shell session, nothing left behind. */
export class LocalExecutor implements Executor {
  private readonly now: () => number;
  private readonly store: ArtifactStore;
  private readonly stateRoot: string | undefined;

  constructor(private readonly options: LocalExecutorOptions) {
    this.now = options.now ?? Date.now;
    this.store = new ArtifactStore(join(options.home, 'artifacts'));
    this.stateRoot = memoryBackedFolder();
  }

  async run(request: BuildRequest, signal?: AbortSignal): Promise<BuildSummary> {
    const source = await inspectSource(request.sourceDirectory, request.revision);
    // A sub-folder of a repository is usually a service of its own: name the project after it.
    const project = projectName(
      request.project ?? basename(join(source.root, source.subdirectory)),
    );
    const directory = await allocateBuildDirectory(join(this.options.home, 'builds'), project);
    const paths = buildPaths(directory.path, this.stateRoot, `${project}-${directory.number}`);
    for (const path of [paths.source, paths.home, paths.tmp, paths.state]) {
      await mkdir(path, { recursive: true, mode: 0o700 });
    }
    const build = new LocalBuild({
      home: this.options.home,
      secrets: this.options.secrets,
      logger: this.options.logger,
      hostEnv: this.options.hostEnv ?? process.env,
      libexec: LIBEXEC_DIRECTORY,
      store: this.store,
      now: this.now,
      request,
      source,
      project,
      number: directory.number,
      paths,
      signal,
    });
    return build.run();
  }
}
