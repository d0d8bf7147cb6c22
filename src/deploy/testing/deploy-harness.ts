import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  parsePhoenixConfig,
  type PhoenixConfig,
  type ReleaseConfig,
} from '../../config/phoenix-config.js';
import { RuntimeHarness } from '../../runtime/__fixtures__/runtime-harness.js';
import type { LocalRuntime } from '../../runtime/local/local-runtime.js';
import { NotFoundError } from '../../shared/errors.js';
import { silentLogger } from '../../shared/logger.js';
import { openStore, type Store } from '../../store/store.js';
import {
  DeploymentController,
  type DeploymentControllerOptions,
} from '../deployment-controller.js';
import type { Deployment, DeploymentStrategy } from '../deployment.js';
import type { DeployInput } from '../deployment-request.js';
import type { EnvironmentListeners } from '../deploy-context.js';
import type { DeployableRelease, ReleaseSource } from '../ports.js';
import { JumpClock } from './jump-clock.js';
import { RecordingRouter } from './recording-router.js';

const RELEASE_APP = fileURLToPath(new URL('../__fixtures__/release-app.mjs', import.meta.url));

/** Fast checks, so that a release is judged within a second or two. */
export const TEST_RELEASE_CONFIG: ReleaseConfig = {
  start: '"$NODE_BIN" server.mjs',
  portEnv: 'PORT',
  instances: 2,
  healthCheck: {
    path: '/health',
    intervalMs: 100,
    timeoutMs: 80,
    healthyThreshold: 2,
    unhealthyThreshold: 2,
    matcher: { text: '200-299', ranges: [{ from: 200, to: 299 }] },
    gracePeriodMs: 2_500,
  },
};

export const LISTENERS = {
  production: { name: 'shop-dev', port: 18_080 },
  test: { name: 'shop-dev-test', port: 18_081 },
} satisfies EnvironmentListeners;

export interface TestRelease extends DeployableRelease {
  directory: string;
  version: string;
}

export interface ReleaseOptions {
  /** false: /health answers 503. */
  healthy?: boolean;
  /** true: every instance exits at start (a crash loop). */
  crash?: boolean;
  /** appspec.yml's text. */
  appspec?: string;
  /** Other files of the release, e.g. hook scripts (made executable). */
  files?: Record<string, string>;
}

/**
 * One deployment test's world: a real store, the real local runtime (instances are real
 * processes of real release folders), the recording router, a clock that can skip a bake.
 * `cleanup` stops everything and returns the processes that leaked.
 */
export class DeployHarness {
  readonly clock = new JumpClock();
  readonly router = new RecordingRouter(this.clock);
  readonly store: Store;
  readonly config: PhoenixConfig;
  runtime: LocalRuntime;
  /** Every deployment as it was after each recorded change, in order. */
  readonly changes: Deployment[] = [];
  private readonly runtimes = new RuntimeHarness();
  private readonly root = mkdtempSync(join(tmpdir(), 'phoenix-deploy-'));
  private readonly releases = new Map<string, TestRelease>();
  private readonly controllers: DeploymentController[] = [];
  private readonly watchers: {
    test: (d: Deployment) => boolean;
    resolve: (d: Deployment) => void;
  }[] = [];

  constructor() {
    this.store = openStore(join(this.root, 'phoenix.db'), () => this.clock.now());
    this.store.services.create({ name: 'shop', repository: { kind: 'hosted', path: '/shop' } });
    this.runtime = this.runtimes.runtime({ clock: this.clock });
    this.config = parsePhoenixConfig(
      'service: shop\nrelease:\n  start: npm start\nenvironments:\n  - name: dev\n',
      'phoenix.yml',
    );
  }

  /** The mark of this test's instances (PHOENIX_TEST_RUN), for deployments made by hand. */
  get runtimeToken(): string {
    return this.runtimes.token;
  }

  get logDirectory(): string {
    return join(this.root, 'deployments');
  }

  /** A release folder with the app, its version, and whatever files the test gives it. */
  release(version: string, options: ReleaseOptions = {}): TestRelease {
    const number = this.releases.size + 1;
    const id = `rel_${number}`;
    const directory = join(this.root, 'releases', id);
    mkdirSync(directory, { recursive: true });
    copyFileSync(RELEASE_APP, join(directory, 'server.mjs'));
    writeFileSync(
      join(directory, 'release.json'),
      JSON.stringify({ version, healthy: options.healthy ?? true, crash: options.crash ?? false }),
    );
    if (options.appspec !== undefined)
      writeFileSync(join(directory, 'appspec.yml'), options.appspec);
    for (const [path, content] of Object.entries(options.files ?? {})) {
      mkdirSync(dirname(join(directory, path)), { recursive: true });
      writeFileSync(join(directory, path), content, { mode: 0o755 });
    }
    const release: TestRelease = {
      id,
      service: 'shop',
      number,
      commit: `c0ffee${number}`,
      config: TEST_RELEASE_CONFIG,
      directory,
      version,
    };
    this.releases.set(id, release);
    return release;
  }

  releaseSource(): ReleaseSource {
    return {
      get: (id) => {
        const release = this.releases.get(id);
        if (release === undefined) throw new NotFoundError(`release ${id} not found`);
        return release;
      },
      directory: async (id) => {
        const release = this.releases.get(id);
        if (release === undefined) throw new NotFoundError(`release ${id} not found`);
        return release.directory;
      },
    };
  }

  controller(overrides: Partial<DeploymentControllerOptions> = {}): DeploymentController {
    const controller = new DeploymentController({
      deployments: this.store.deployments,
      runtime: this.runtime,
      router: this.router,
      releases: this.releaseSource(),
      clock: this.clock,
      logger: silentLogger(),
      listenersFor: () => LISTENERS,
      logDirectory: this.logDirectory,
      stopGraceMs: 2_000,
      drainTimeoutMs: 1_000,
      onChange: (deployment) => this.observe(deployment),
      ...overrides,
    });
    this.controllers.push(controller);
    return controller;
  }

  deploy(
    controller: DeploymentController,
    release: TestRelease,
    strategy?: DeploymentStrategy,
    monitor?: DeployInput['monitor'],
  ): Promise<Deployment> {
    return controller.deploy({
      ...(monitor === undefined ? {} : { monitor }),
      service: 'shop',
      environment: 'dev',
      releaseId: release.id,
      config: this.config,
      trigger: { type: 'manual', actor: 'alice' },
      env: { NODE_BIN: process.execPath, PHOENIX_TEST_RUN: this.runtimes.token },
      ...(strategy === undefined ? {} : { strategy }),
    });
  }

  /** Resolves with the first recorded state of the deployment that passes `test`. */
  until(id: string, test: (deployment: Deployment) => boolean): Promise<Deployment> {
    const seen = this.changes.find((d) => d.id === id && test(d));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => {
      this.watchers.push({ test: (d) => d.id === id && test(d), resolve });
    });
  }

  /**
   * A control plane that dies: its controller stops where it is (nothing more recorded) and
   * its runtime lets go of the instances, which keep running.
   */
  async crash(controller: DeploymentController): Promise<void> {
    await controller.stop();
    await this.runtime.close();
  }

  /** The control plane comes back: a new runtime adopts what still runs. */
  async restart(): Promise<void> {
    this.runtime = this.runtimes.runtime({ clock: this.clock });
    await this.runtime.adopt();
  }

  /** The version the production (or test) listener would serve now, asked over HTTP. */
  async serving(listener: 'production' | 'test' = 'production'): Promise<string | undefined> {
    const target = this.router.targetOf(LISTENERS[listener].name);
    if (target === undefined) return undefined;
    const body = await httpGet(target.port);
    return (JSON.parse(body) as { version: string }).version;
  }

  async cleanup(): Promise<number[]> {
    for (const controller of this.controllers) await controller.stop();
    this.router.close();
    const leaked = await this.runtimes.cleanup();
    this.store.close();
    rmSync(this.root, { recursive: true, force: true });
    return leaked;
  }

  /** What the harness learns of every change (for `until`); a controller built with its own onChange passes them on. */
  observe(deployment: Deployment): void {
    this.changes.push(deployment);
    for (const watcher of [...this.watchers]) {
      if (!watcher.test(deployment)) continue;
      this.watchers.splice(this.watchers.indexOf(watcher), 1);
      watcher.resolve(deployment);
    }
  }
}

/** GET / of an instance; rejects when nothing answers (a stopped instance). */
export function httpGet(port: number, path = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}
