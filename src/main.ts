import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Executor } from './build/executor.js';
import { LocalExecutor } from './build/local-executor.js';
import { reapBuildProcesses } from './build/process-reaper.js';
import { unconfiguredSecrets, type SecretResolver } from './build/secrets.js';
import { BuildStageRunner } from './pipeline/build-stage.js';
import { Orchestrator } from './pipeline/orchestrator.js';
import { ReleaseStageRunner } from './pipeline/release-stage.js';
import { RepositoryConfigSource } from './pipeline/repository-config.js';
import { RunEventBus } from './pipeline/run-events.js';
import { mirrorPath, SourceWatcher } from './pipeline/source-watcher.js';
import { createHttpServer } from './server/http-server.js';
import { systemClock, type Clock } from './shared/clock.js';
import { phoenixHome } from './shared/home.js';
import { createLogger, type Logger } from './shared/logger.js';
import { Semaphore } from './shared/semaphore.js';
import { repositoryPath } from './source/hosted-repository.js';
import { openStore, type Store } from './store/store.js';

export const VERSION = '0.1.0';

/**
 * The composition root: the only place that picks implementations. Domain code receives
 * what it needs through constructors; swapping the local executor for Kubernetes Jobs or
 * CodeBuild later is a change here, by name, not an if-chain in domain code.
 */
export interface Phoenix {
  home: string;
  logger: Logger;
  executor: Executor;
  version: string;
  /** PHOENIX_ADMIN_TOKEN: the first admin token, for automation. */
  adminToken?: string;
}

export interface PhoenixOptions {
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  secrets?: SecretResolver;
  executor?: keyof typeof EXECUTORS;
}

type ExecutorFactory = (options: {
  home: string;
  logger: Logger;
  secrets: SecretResolver;
  env: NodeJS.ProcessEnv;
}) => Executor;

const EXECUTORS = {
  local: ({ home, logger, secrets, env }) =>
    new LocalExecutor({ home, logger, secrets, hostEnv: env }),
} satisfies Record<string, ExecutorFactory>;

export function createPhoenix(options: PhoenixOptions = {}): Phoenix {
  const env = options.env ?? process.env;
  const home = phoenixHome(env);
  const logger = options.logger ?? createLogger();
  const secrets = options.secrets ?? unconfiguredSecrets;
  const executor = EXECUTORS[options.executor ?? 'local']({ home, logger, secrets, env });
  const adminToken = env['PHOENIX_ADMIN_TOKEN'] || undefined;
  return { home, logger, executor, version: VERSION, adminToken };
}

export const DEFAULT_PORT = 8800;
export const DEFAULT_HOST = '127.0.0.1';
/** Builds running at once across all services: one per core of a small machine. */
export const DEFAULT_BUILD_CONCURRENCY = 2;

export interface ControlPlaneOptions {
  phoenix: Phoenix;
  port?: number;
  host?: string;
  buildConcurrency?: number;
  clock?: Clock;
}

export interface ControlPlane {
  url: string;
  port: number;
  store: Store;
  orchestrator: Orchestrator;
  bus: RunEventBus;
  app: FastifyInstance;
  /** The first admin token when Phoenix generated it now: print it once, it is stored hashed. */
  generatedAdminToken?: string;
  recovered: { resumed: number; failed: number };
  close(): Promise<void>;
}

/**
 * The control plane (`phoenix server`): store, orchestrator, sources and HTTP API, started in
 * the order that keeps promises: the store first (recovery needs it), runs left over by a
 * crash recovered before the API accepts new ones.
 */
export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const { phoenix } = options;
  const clock = options.clock ?? systemClock();
  await mkdir(phoenix.home, { recursive: true, mode: 0o700 });
  const store = openStore(join(phoenix.home, 'phoenix.db'), () => clock.now());
  const admin = store.tokens.ensureAdmin(phoenix.adminToken);
  const repositoriesRoot = join(phoenix.home, 'repositories');
  const bus = new RunEventBus();
  const mirrorsRoot = join(phoenix.home, 'mirrors');
  const sourceOf = (name: string): string => {
    const service = store.services.get(name);
    return service.repository.kind === 'hosted'
      ? repositoryPath(repositoriesRoot, name)
      : mirrorPath(mirrorsRoot, name);
  };
  const orchestrator = new Orchestrator({
    runs: store.runs,
    events: store.events,
    bus,
    configs: new RepositoryConfigSource(sourceOf),
    runners: {
      build: new BuildStageRunner({
        executor: phoenix.executor,
        sourceOf,
        slots: new Semaphore(options.buildConcurrency ?? DEFAULT_BUILD_CONCURRENCY),
        initiator: (context) => `phoenix/${context.run.trigger.actor}`,
      }),
      release: new ReleaseStageRunner({ releases: store.releases }),
    },
    clock,
    logger: phoenix.logger,
    reap: async (stage) => {
      if (stage.externalId !== undefined) await reapBuildProcesses(stage.externalId);
    },
  });
  const sources = new SourceWatcher({
    mirrorsRoot,
    clock,
    logger: phoenix.logger,
    submit: (input) => orchestrator.submit(input),
    alreadySubmitted: (service, ref, commit) =>
      store.runs
        .list({ service, limit: 50 })
        .some((run) => run.ref === ref && run.commit === commit),
  });
  const recovered = await orchestrator.recover();
  if (recovered.resumed + recovered.failed > 0)
    phoenix.logger.warn(recovered, 'recovered runs left by a previous server');
  for (const service of store.services.list()) sources.watch(service);

  let url = '';
  const app = createHttpServer({
    store,
    orchestrator,
    bus,
    repositoriesRoot,
    sources,
    repositoryOf: (service) => sourceOf(service.name),
    fetchExternal: (service) => sources.refresh(service),
    publicUrl: () => url,
    logger: phoenix.logger,
    now: () => clock.now(),
    version: phoenix.version,
  });
  const host = options.host ?? DEFAULT_HOST;
  await app.listen({ port: options.port ?? DEFAULT_PORT, host });
  const address = app.server.address();
  const port =
    typeof address === 'object' && address !== null ? address.port : (options.port ?? DEFAULT_PORT);
  url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url,
    port,
    store,
    orchestrator,
    bus,
    app,
    generatedAdminToken: admin?.source === 'generated' ? admin.token : undefined,
    recovered,
    close: async () => {
      sources.stop();
      await app.close();
      await orchestrator.stop();
      store.close();
    },
  };
}
