import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../../shared/clock.js';
import { silentLogger } from '../../shared/logger.js';
import { findProcessesWithVariable, INSTANCE_MARK_VARIABLE } from '../local/instance-reaper.js';
import { isActive, type InstanceRecord } from '../local/instance-record.js';
import { LocalRuntime, type LocalRuntimeOptions } from '../local/local-runtime.js';
import { StateFile } from '../local/state-file.js';
import type { InstanceEvent, Runtime, StartRequest } from '../runtime.js';

/** The instance app the runtime tests start: see instance-app.mjs for what it can do. */
export const INSTANCE_APP = fileURLToPath(new URL('./instance-app.mjs', import.meta.url));

/** Marks every process a test starts, so that the test can prove none is left behind. */
const TEST_RUN_VARIABLE = 'PHOENIX_TEST_RUN';

/**
 * One test's runtimes, state folder and release folder. `cleanup` closes the runtimes, stops
 * what is still recorded as running, and returns the processes that leaked (marked processes
 * of instances recorded as stopped, or anything left after the sweep).
 */
export class RuntimeHarness {
  readonly token = randomUUID();
  readonly stateDirectory: string;
  readonly releaseDirectory: string;
  private readonly root = mkdtempSync(join(tmpdir(), 'phoenix-runtime-'));
  private readonly runtimes: LocalRuntime[] = [];

  constructor() {
    this.stateDirectory = join(this.root, 'runtime');
    this.releaseDirectory = join(this.root, 'release');
    mkdirSync(this.releaseDirectory);
  }

  runtime(options: Partial<LocalRuntimeOptions> = {}): LocalRuntime {
    const runtime = new LocalRuntime({
      stateDirectory: this.stateDirectory,
      clock: systemClock(),
      logger: silentLogger(),
      hostEnv: { PATH: process.env['PATH'], HOME: '/home/phoenix', SECRET_TOKEN: 'host-only' },
      ...options,
    });
    this.runtimes.push(runtime);
    return runtime;
  }

  /** A request for the instance app; `app` sets APP_* variables (APP_EXIT_AT_START...). */
  request(overrides: Partial<StartRequest> = {}, app: Record<string, string> = {}): StartRequest {
    return {
      service: 'shop',
      environment: 'dev',
      releaseId: 'r1',
      directory: this.releaseDirectory,
      command: '"$NODE_BIN" "$APP_SCRIPT"',
      instances: 1,
      portEnv: 'PORT',
      ...overrides,
      env: {
        NODE_BIN: process.execPath,
        APP_SCRIPT: INSTANCE_APP,
        [TEST_RUN_VARIABLE]: this.token,
        ...app,
        ...overrides.env,
      },
    };
  }

  async cleanup(): Promise<number[]> {
    for (const runtime of this.runtimes) await runtime.close();
    const records = await this.stateFile().load();
    const active = new Set(records.filter((r) => isActive(r.status)).map((r) => r.id));
    const leaked = [];
    for (const pid of await this.markedProcesses()) {
      const id = await instanceIdOf(pid);
      if (id === undefined || !active.has(id)) leaked.push(pid);
    }
    const sweeper = new LocalRuntime({
      stateDirectory: this.stateDirectory,
      clock: systemClock(),
      logger: silentLogger(),
    });
    await sweeper.adopt();
    await sweeper.stop(
      sweeper.list().map((instance) => instance.id),
      { graceMs: 2_000 },
    );
    await sweeper.close();
    const left = await this.markedProcesses();
    for (const pid of [...leaked, ...left]) kill(pid);
    rmSync(this.root, { recursive: true, force: true });
    return [...new Set([...leaked, ...left])];
  }

  stateFile(): StateFile {
    return new StateFile(join(this.stateDirectory, 'instances.json'));
  }

  /** Replaces the state file, as an earlier control plane would have left it. */
  async writeState(records: readonly InstanceRecord[]): Promise<void> {
    await this.stateFile().save(records);
  }

  /** A plausible record of a running instance of this test's release. */
  record(overrides: Partial<InstanceRecord> = {}): InstanceRecord {
    const id = overrides.id ?? randomUUID();
    return {
      id,
      service: 'shop',
      environment: 'dev',
      releaseId: 'r1',
      index: 0,
      port: 29_999,
      status: 'running',
      startedAt: new Date().toISOString(),
      restarts: 0,
      logFile: join(this.stateDirectory, 'logs', `${id}.log`),
      directory: this.releaseDirectory,
      command: 'sleep 600',
      portEnv: 'PORT',
      env: { [TEST_RUN_VARIABLE]: this.token },
      restart: true,
      restartTimes: [],
      ...overrides,
    };
  }

  markedProcesses(): Promise<number[]> {
    return findProcessesWithVariable(TEST_RUN_VARIABLE, this.token);
  }
}

async function instanceIdOf(pid: number): Promise<string | undefined> {
  try {
    const environ = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0');
    const prefix = `${INSTANCE_MARK_VARIABLE}=`;
    return environ.find((entry) => entry.startsWith(prefix))?.slice(prefix.length);
  } catch {
    return undefined;
  }
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Gone already.
  }
}

type EventOf<T extends InstanceEvent['type']> = Extract<InstanceEvent, { type: T }>;

/** Every event of a runtime, and a way to wait for the next one that matches. */
export class EventLog {
  readonly events: InstanceEvent[] = [];
  private waiters: { match: (event: InstanceEvent) => boolean; resolve: (e: never) => void }[] = [];

  constructor(runtime: Runtime) {
    runtime.subscribe((event) => {
      this.events.push(event);
      const matching = this.waiters.filter((waiter) => waiter.match(event));
      this.waiters = this.waiters.filter((waiter) => !waiter.match(event));
      for (const waiter of matching) waiter.resolve(event as never);
    });
  }

  /** The next matching event from now on: call it before acting. */
  next<T extends InstanceEvent['type']>(type: T, instanceId?: string): Promise<EventOf<T>> {
    return new Promise<EventOf<T>>((resolve) => {
      this.waiters.push({
        match: (event) =>
          event.type === type && (instanceId === undefined || event.instance.id === instanceId),
        resolve,
      });
    });
  }

  types(instanceId?: string): string[] {
    return this.events
      .filter((event) => instanceId === undefined || event.instance.id === instanceId)
      .map((event) => event.type);
  }
}

/**
 * GET http://127.0.0.1:<port><path>. A refused connection is retried until `timeoutMs`, for
 * an instance that is not listening yet: this waits for an answer, not for a fixed time.
 */
export async function httpGet(
  port: number,
  path: string,
  timeoutMs = 10_000,
): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await getOnce(port, path);
    } catch (error) {
      const code = error instanceof Error && 'code' in error ? error.code : undefined;
      if (code !== 'ECONNREFUSED' || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

function getOnce(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}

export interface AppReport {
  pid: number;
  cwd: string;
  env: Record<string, string>;
  names: string[];
}

/** What the instance app on `port` reports about itself. */
export async function appReport(port: number): Promise<AppReport> {
  const { body } = await httpGet(port, '/env');
  return JSON.parse(body) as AppReport;
}
