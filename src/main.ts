import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ArtifactStore } from './build/artifact-store.js';
import type { Executor } from './build/executor.js';
import { LocalExecutor } from './build/local-executor.js';
import { reapBuildProcesses } from './build/process-reaper.js';
import { unconfiguredSecrets, type SecretResolver } from './build/secrets.js';
import { DeploymentController } from './deploy/deployment-controller.js';
import { DeploymentChanges } from './deploy/deployment-changes.js';
import { EnvironmentDeployer } from './deploy/environment-deployer.js';
import { ListenerRegistry, listenerRegistryPath } from './deploy/listener-registry.js';
import type { ReleaseSource } from './deploy/ports.js';
import { BuildStageRunner } from './pipeline/build-stage.js';
import { ApprovalGates } from './approval/approval-gates.js';
import { approvalNotifier, deploymentNotifier, runNotifier } from './notify/event-sources.js';
import { ServiceNotifications } from './notify/service-notifications.js';
import { ensureSecretKey, SECRETS_KEY_ENV } from './secrets/secret-key.js';
import { SecretStore } from './secrets/secret-store.js';
import { withServiceSecrets } from './secrets/service-secrets-executor.js';
import { ApprovalStageRunner } from './pipeline/approval-stage.js';
import { DeployStageRunner } from './pipeline/deploy-stage.js';
import { Orchestrator, type ConfigSource } from './pipeline/orchestrator.js';
import { ReleaseStageRunner } from './pipeline/release-stage.js';
import { RepositoryConfigSource } from './pipeline/repository-config.js';
import { RunEventBus } from './pipeline/run-events.js';
import { mirrorPath, SourceWatcher } from './pipeline/source-watcher.js';
import { ensureUnpacked, releasesRootOf } from './release/release-files.js';
import { adminTokenPath, ensureAdminToken } from './router/admin-token.js';
import { HttpTrafficRouter } from './router/http-traffic-router.js';
import { DEFAULT_ADMIN_PORT } from './router/router.js';
import { LocalRuntime } from './runtime/local/local-runtime.js';
import type { Runtime } from './runtime/runtime.js';
import { createHttpServer } from './server/http-server.js';
import { systemClock, type Clock } from './shared/clock.js';
import { PlatformError } from './shared/errors.js';
import { phoenixHome } from './shared/home.js';
import { createLogger, type Logger } from './shared/logger.js';
import { Semaphore } from './shared/semaphore.js';
import { repositoryPath } from './source/hosted-repository.js';
import { resolveRef } from './server/service-source.js';
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
  /** The same kind of executor, resolving buildspec secrets with `secrets`: one per build's service. */
  executorWith: (secrets: SecretResolver) => Executor;
  version: string;
  /** PHOENIX_SECRETS_KEY: the secrets key (base64), instead of PHOENIX_HOME/secrets.key. */
  secretsKey?: string;
  /** PHOENIX_ADMIN_TOKEN: the first admin token, for automation. */
  adminToken?: string;
  /** PHOENIX_ROUTER_URL: the admin API of `phoenix router`. */
  routerUrl: string;
  runtime: keyof typeof RUNTIMES;
}

export interface PhoenixOptions {
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  secrets?: SecretResolver;
  executor?: keyof typeof EXECUTORS;
  runtime?: keyof typeof RUNTIMES;
}

/** Where the control plane finds `phoenix router` unless PHOENIX_ROUTER_URL says otherwise. */
export const DEFAULT_ROUTER_URL = `http://127.0.0.1:${DEFAULT_ADMIN_PORT}`;

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

type RuntimeFactory = (options: { home: string; clock: Clock; logger: Logger }) => Runtime;

/** Where releases run; Kubernetes and ECS join this map. */
const RUNTIMES = {
  local: ({ home, clock, logger }) =>
    new LocalRuntime({ stateDirectory: join(home, 'runtime'), clock, logger }),
} satisfies Record<string, RuntimeFactory>;

export function createPhoenix(options: PhoenixOptions = {}): Phoenix {
  const env = options.env ?? process.env;
  const home = phoenixHome(env);
  const logger = options.logger ?? createLogger();
  const secrets = options.secrets ?? unconfiguredSecrets;
  const executorWith = (resolver: SecretResolver): Executor =>
    EXECUTORS[options.executor ?? 'local']({ home, logger, secrets: resolver, env });
  const executor = executorWith(secrets);
  const secretsKey = env[SECRETS_KEY_ENV] || undefined;
  const adminToken = env['PHOENIX_ADMIN_TOKEN'] || undefined;
  const routerUrl = env['PHOENIX_ROUTER_URL'] || DEFAULT_ROUTER_URL;
  const runtime = options.runtime ?? 'local';
  return {
    home,
    logger,
    executor,
    executorWith,
    version: VERSION,
    ...(secretsKey === undefined ? {} : { secretsKey }),
    ...(adminToken === undefined ? {} : { adminToken }),
    routerUrl,
    runtime,
  };
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
  deployments: Deployments;
  close(): Promise<void>;
}

/** The deployment side of the control plane, as startControlPlane wires it. */
export interface Deployments {
  controller: DeploymentController;
  deployer: EnvironmentDeployer;
  changes: DeploymentChanges;
  listeners: ListenerRegistry;
  runtime: Runtime;
  router: HttpTrafficRouter;
  /** The pipeline's `deploy` stages. */
  stageRunner: DeployStageRunner;
}

/**
 * Releases run by the runtime, behind `phoenix router` (a process of its own, driven over its
 * admin API with the token both find in PHOENIX_HOME/router/admin-token). Nothing here needs
 * the router to be up: a deployment asked for while it is down is refused, saying so.
 */
export async function createDeployments(options: {
  phoenix: Pick<Phoenix, 'home' | 'logger' | 'routerUrl' | 'runtime'>;
  store: Store;
  clock: Clock;
  configs: ConfigSource;
  /** The commit at the head of a service's default branch, for deployments asked for by hand. */
  headOf: (service: string) => Promise<string | undefined>;
  /** Resolves `{ secret: NAME }` variables of environments; without it they fail to start. */
  secrets?: Pick<SecretStore, 'resolve'>;
}): Promise<Deployments> {
  const { phoenix, store, clock } = options;
  const { home, logger } = phoenix;
  const router = new HttpTrafficRouter({
    url: phoenix.routerUrl,
    token: await ensureAdminToken(adminTokenPath(home)),
  });
  const runtime = RUNTIMES[phoenix.runtime]({ home, clock, logger });
  const listeners = ListenerRegistry.open(listenerRegistryPath(home));
  const artifacts = new ArtifactStore(join(home, 'artifacts'));
  const releasesRoot = releasesRootOf(home);
  const releases: ReleaseSource = {
    get: (id) => store.releases.get(id),
    directory: (id) => ensureUnpacked(store.releases.get(id), { artifacts, releasesRoot }),
  };
  const changes = new DeploymentChanges();
  const controller = new DeploymentController({
    deployments: store.deployments,
    runtime,
    router,
    releases,
    clock,
    logger,
    listenersFor: (service, environment) => listeners.listenersFor(service, environment),
    logDirectory: join(home, 'deployments'),
    onChange: (deployment) => changes.emit(deployment),
    ...(options.secrets === undefined
      ? {}
      : { secret: (name, scope) => options.secrets?.resolve(name, scope) }),
  });
  const deployer = new EnvironmentDeployer({
    controller,
    listeners,
    routerReady: () => router.ready(),
    configs: {
      load: (service, commit) => options.configs.load(service, commit),
      current: async (service) => {
        const head = await options.headOf(service);
        return head === undefined ? undefined : options.configs.load(service, head);
      },
    },
    releases: store.releases,
  });
  const stageRunner = new DeployStageRunner({
    deployer,
    deployments: {
      get: (id) => store.deployments.get(id),
      latest: (service, environment) => store.deployments.latest(service, environment)[0],
      whenFinished: (id) => controller.whenFinished(id),
      abort: (id, actor) => controller.abort(id, actor),
      subscribe: (listener) => changes.subscribe(listener),
    },
  });
  return { controller, deployer, changes, listeners, runtime, router, stageRunner };
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
  // The key first: a server that cannot open its secrets stops here, saying why.
  const secretsKey = await ensureSecretKey({
    home: phoenix.home,
    ...(phoenix.secretsKey === undefined ? {} : { fromEnv: phoenix.secretsKey }),
  });
  const store = openStore(join(phoenix.home, 'phoenix.db'), () => clock.now());
  const secrets = new SecretStore({ repository: store.secrets, key: secretsKey.bytes });
  try {
    secrets.checkKey();
  } catch (error) {
    store.close();
    throw error;
  }
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
  const configs = new RepositoryConfigSource(sourceOf);
  const headOf = (name: string): Promise<string | undefined> =>
    resolveRef(sourceOf(name), `refs/heads/${store.services.get(name).defaultBranch}`);
  const deployments = await createDeployments({
    phoenix,
    store,
    clock,
    configs,
    headOf,
    secrets,
  });
  const approvals = new ApprovalGates({ approvals: store.approvals, clock });
  let url = '';
  const publicUrl = (): string => url;
  const notifications = new ServiceNotifications({
    configs,
    clock,
    logger: phoenix.logger,
    // A channel's secrets: Phoenix's own (as every service sees them), or the server's env.
    resolveSecret: (ref) =>
      'secret' in ref ? secrets.resolve(ref.secret, {}) : process.env[ref.env],
    deliveryLog: store.notifications,
  });
  // What the last server left unfinished is sent again; this never throws.
  void notifications.resume();
  const stopRunNotices = bus.subscribe(runNotifier(notifications, publicUrl));
  const stopDeploymentNotices = deployments.changes.subscribe(
    deploymentNotifier(notifications, publicUrl),
  );
  const orchestrator = new Orchestrator({
    runs: store.runs,
    events: store.events,
    bus,
    configs,
    runners: {
      build: new BuildStageRunner({
        executor: withServiceSecrets({ secrets, executorWith: phoenix.executorWith }),
        sourceOf,
        slots: new Semaphore(options.buildConcurrency ?? DEFAULT_BUILD_CONCURRENCY),
        initiator: (context) => `phoenix/${context.run.trigger.actor}`,
      }),
      release: new ReleaseStageRunner({ releases: store.releases }),
      approval: new ApprovalStageRunner({
        approvals: store.approvals,
        gates: approvals,
        onGate: approvalNotifier(notifications, publicUrl),
      }),
      deploy: deployments.stageRunner,
    },
    clock,
    logger: phoenix.logger,
    // A deploy stage's deployment is the controller's to recover, not a process to kill.
    reap: async (stage) => {
      if (stage.kind === 'build' && stage.externalId !== undefined)
        await reapBuildProcesses(stage.externalId);
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
  // Instances first (they outlived the last control plane), then the deployments using them,
  // then the runs, whose deploy stages follow those deployments again.
  await deployments.runtime.adopt();
  const deploymentsRecovered = await deployments.controller.recover();
  if (deploymentsRecovered.decisions.length > 0)
    phoenix.logger.warn(
      { deployments: deploymentsRecovered.decisions.length },
      'recovered deployments left by a previous server',
    );
  const recovered = await orchestrator.recover();
  if (recovered.resumed + recovered.failed > 0)
    phoenix.logger.warn(recovered, 'recovered runs left by a previous server');
  for (const service of store.services.list()) sources.watch(service);

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
    deployer: deployments.deployer,
    deployments: deployments.controller,
    deploymentChanges: deployments.changes,
    approvals,
    secrets,
    notifications,
    deploymentMetrics: {
      services: store.services,
      deployments: store.deployments,
      releases: store.releases,
      changes: deployments.changes,
      runtime: deployments.runtime,
    },
    listeners: deployments.listeners,
  });
  const host = options.host ?? DEFAULT_HOST;
  const close = async (): Promise<void> => {
    sources.stop();
    await app.close();
    // Runs first: a deploy stage stops following before its deployment stops.
    await orchestrator.stop();
    await deployments.controller.stop();
    await deployments.runtime.close();
    stopRunNotices();
    stopDeploymentNotices();
    await notifications.close();
    store.close();
  };
  try {
    await app.listen({ port: options.port ?? DEFAULT_PORT, host });
  } catch (error) {
    // Everything started so far stops again: nothing is left running or half-open.
    await close();
    throw listenError(error, host, options.port ?? DEFAULT_PORT);
  }
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
    deployments,
    close,
  };
}

/** A port Phoenix cannot listen on, said plainly (the usual cause: another process has it). */
function listenError(error: unknown, host: string, port: number): Error {
  const code = (error as { code?: unknown } | null)?.code;
  const why =
    code === 'EADDRINUSE'
      ? 'it is in use by another process'
      : code === 'EACCES'
        ? 'this user may not listen on it'
        : error instanceof Error
          ? error.message
          : String(error);
  return new PlatformError(
    `cannot listen on ${host} port ${port}: ${why}; choose another with --port`,
    { cause: error },
  );
}
