import { join } from 'node:path';
import { LocalExecutor } from '../../src/build/local-executor.js';
import { reapBuildProcesses } from '../../src/build/process-reaper.js';
import { unconfiguredSecrets } from '../../src/build/secrets.js';
import { BuildStageRunner } from '../../src/pipeline/build-stage.js';
import { Orchestrator } from '../../src/pipeline/orchestrator.js';
import { ReleaseStageRunner } from '../../src/pipeline/release-stage.js';
import { RepositoryConfigSource } from '../../src/pipeline/repository-config.js';
import type { Run } from '../../src/pipeline/run.js';
import type { StageRunners } from '../../src/pipeline/stage-runner.js';
import { RunEventBus, type RunEvent } from '../../src/pipeline/run-events.js';
import { systemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { Semaphore } from '../../src/shared/semaphore.js';
import { createBareRepository, repositoryPath } from '../../src/source/hosted-repository.js';
import { openStore, type Store } from '../../src/store/store.js';
import { commitFiles, git, gitRepo, tempDir } from './git-fixture.js';

export const PHOENIX_YML = (extra = ''): string =>
  `service: shop\n${extra}build:\n  buildspec: buildspec.yml\n  retries: 0\n`;

/** A real store, real executor and real hosted repository, wired like the server wires them. */
export class PipelineFixture {
  readonly dir = tempDir('phoenix-pipeline-');
  readonly home = join(this.dir.path, 'home');
  readonly repositories = join(this.home, 'repositories');
  readonly work = join(this.dir.path, 'work');
  readonly bus = new RunEventBus();
  readonly store: Store;
  orchestrator: Orchestrator;

  constructor() {
    this.store = openStore(join(this.home, 'phoenix.db'));
    this.orchestrator = this.createOrchestrator();
  }

  /** An orchestrator wired as the server wires it, with `runners` added (a deploy stage's). */
  createOrchestrator(runners: StageRunners = {}): Orchestrator {
    const executor = new LocalExecutor({
      home: this.home,
      secrets: unconfiguredSecrets,
      logger: silentLogger(),
    });
    const sourceOf = (service: string): string => repositoryPath(this.repositories, service);
    return new Orchestrator({
      runs: this.store.runs,
      events: this.store.events,
      bus: this.bus,
      configs: new RepositoryConfigSource(sourceOf),
      runners: {
        build: new BuildStageRunner({
          executor,
          sourceOf,
          slots: new Semaphore(2),
          initiator: () => 'test',
        }),
        release: new ReleaseStageRunner({ releases: this.store.releases }),
        ...runners,
      },
      clock: systemClock(),
      logger: silentLogger(),
      reap: async (stage) => {
        if (stage.kind === 'build' && stage.externalId !== undefined)
          await reapBuildProcesses(stage.externalId);
      },
    });
  }

  /** Creates the hosted repository `shop` and its service, with a first commit pushed. */
  async init(files: Record<string, string>): Promise<string> {
    await createBareRepository(this.repositories, 'shop');
    this.store.services.create({
      name: 'shop',
      repository: { kind: 'hosted', path: repositoryPath(this.repositories, 'shop') },
    });
    gitRepo(this.work, files);
    git(this.work, 'remote', 'add', 'origin', repositoryPath(this.repositories, 'shop'));
    git(this.work, 'push', '-q', 'origin', 'main');
    return git(this.work, 'rev-parse', 'HEAD');
  }

  /** Commits and pushes; returns the new commit. */
  push(files: Record<string, string>, branch = 'main'): string {
    git(this.work, 'checkout', '-q', '-B', branch);
    const commit = commitFiles(this.work, files);
    git(this.work, 'push', '-q', '-f', 'origin', branch);
    return commit;
  }

  async submit(commit: string, ref = 'refs/heads/main'): Promise<Run> {
    const result = await this.orchestrator.submit({
      service: 'shop',
      ref,
      commit,
      trigger: { type: 'push', actor: 'test' },
    });
    if (!('run' in result)) throw new Error(`run ignored: ${result.ignored}`);
    return result.run;
  }

  async finished(run: Run): Promise<Run> {
    await this.orchestrator.whenFinished(run.id);
    return this.store.runs.get(run.id);
  }

  /** Resolves with the first bus event that matches; never times out by itself. */
  next(predicate: (event: RunEvent) => boolean): Promise<RunEvent> {
    return new Promise((resolve) => {
      const unsubscribe = this.bus.subscribe((event) => {
        if (!predicate(event)) return;
        unsubscribe();
        resolve(event);
      });
    });
  }

  async close(): Promise<void> {
    await this.orchestrator.stop();
    this.store.close();
    this.dir.remove();
  }
}

/** phoenix.yml with a release section: its runs end with a release stage. */
export const RELEASE_YML = PHOENIX_YML('release:\n  start: node server.js\n  instances: 2\n');

/** A buildspec whose primary artifact `shop-web` holds server.js, naming the commit built. */
export const RELEASE_BUILDSPEC = [
  'version: 0.2',
  'phases:',
  '  build:',
  '    commands:',
  '      - mkdir -p dist && echo "// $CODEBUILD_RESOLVED_SOURCE_VERSION" > dist/server.js',
  'artifacts:',
  '  name: shop-web',
  '  base-directory: dist',
  '  files:',
  "    - '**/*'",
].join('\n');

/** A buildspec whose build waits until `gate` exists, then prints `message`. */
export function gatedBuildspec(gate: string, message = 'built'): string {
  return [
    'version: 0.2',
    'phases:',
    '  build:',
    '    commands:',
    `      - 'echo waiting; while [ ! -f ${gate} ]; do sleep 0.02; done; echo ${message}'`,
  ].join('\n');
}
