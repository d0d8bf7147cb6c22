import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { adminTokenPath, ensureAdminToken } from '../../src/router/admin-token.js';
import { HttpTrafficRouter } from '../../src/router/http-traffic-router.js';
import { LocalRuntime } from '../../src/runtime/local/local-runtime.js';
import { StateFile } from '../../src/runtime/local/state-file.js';
import { systemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { reapInstanceProcesses, type MarkedProcess } from './instance-sweep.js';
import { LoggedProcess, type LogRecord } from './logged-process.js';
import { PhoenixApi } from './phoenix-api.js';
import { CLI } from './phoenix-server.js';

/** Time instances get between SIGTERM and SIGKILL when the bench stops them at the end. */
const FINAL_STOP_GRACE_MS = 2_000;

/** A real `phoenix router` and `phoenix server` sharing one PHOENIX_HOME, as users run them. */
export interface DeployStack {
  home: string;
  /** HOME of every process the bench starts, so the host's git configuration stays out. */
  scratchHome: string;
  adminToken: string;
  router: LoggedProcess;
  server: LoggedProcess;
  api: PhoenixApi;
  /** The router's admin API, with the token the router and the server share. */
  routerAdmin: HttpTrafficRouter;
}

/** What the bench found when it tore the stack down; every figure should be empty. */
export interface Teardown {
  /** Instances the runtime still recorded as running, stopped with SIGTERM. */
  instancesStopped: number;
  /** Instance processes still alive after that (found by their mark in /proc), SIGKILLed. */
  leftovers: MarkedProcess[];
}

/** Fastify's per-request lines (they carry `reqId`): the bench's own polling, not kept. */
function isRequestLog(record: LogRecord): boolean {
  return 'reqId' in record;
}

/**
 * Starts the router (admin API on a free port, debug log: every retry and health change),
 * then the server pointed at it, runs `body`, and tears everything down whatever happens:
 * the server (SIGTERM), the instances it left (as a runtime adopting them would stop them),
 * the router, and then, by a /proc scan for PHOENIX_INSTANCE_ID, anything still alive.
 */
export async function withDeployStack<T>(
  options: { directory: string; signal: AbortSignal },
  body: (stack: DeployStack) => Promise<T>,
): Promise<{ value: T; teardown: Teardown }> {
  const { directory, signal } = options;
  const home = join(directory, 'phoenix-home');
  const scratchHome = join(directory, 'scratch-home');
  await mkdir(scratchHome, { recursive: true });
  const adminToken = `phx_bench-${randomBytes(16).toString('hex')}`;
  const started: LoggedProcess[] = [];
  const killAll = (): void => started.forEach((child) => child.killNow());
  signal.addEventListener('abort', killAll);
  process.once('exit', killAll);
  const base = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: scratchHome };
  let value: T;
  try {
    const router = await LoggedProcess.start({
      label: 'phoenix router',
      args: [CLI, 'router', '--admin-port', '0'],
      env: { ...base, PHOENIX_HOME: home, PHOENIX_LOG_LEVEL: 'debug' },
      ready: /Phoenix router \S*(http:\/\/[\d.]+:\d+)/,
      keep: (record) => !isRequestLog(record),
      signal,
      started: (child) => started.push(child),
    });
    const routerUrl = router.readyMatch?.[1] ?? '';
    const server = await LoggedProcess.start({
      label: 'phoenix server',
      args: [CLI, 'server', '--port', '0'],
      env: {
        ...base,
        PHOENIX_HOME: home,
        PHOENIX_ADMIN_TOKEN: adminToken,
        PHOENIX_ROUTER_URL: routerUrl,
      },
      ready: /Phoenix \S*(http:\/\/127\.0\.0\.1:\d+)/,
      signal,
      started: (child) => started.push(child),
    });
    const routerAdmin = new HttpTrafficRouter({
      url: routerUrl,
      token: await ensureAdminToken(adminTokenPath(home)),
    });
    const api = new PhoenixApi(server.readyMatch?.[1] ?? '', adminToken);
    value = await body({ home, scratchHome, adminToken, router, server, api, routerAdmin });
  } catch (error) {
    await tearDown(home, started).catch(() => undefined);
    throw error;
  } finally {
    signal.removeEventListener('abort', killAll);
    process.removeListener('exit', killAll);
  }
  return { value, teardown: await tearDown(home, started) };
}

async function tearDown(home: string, started: readonly LoggedProcess[]): Promise<Teardown> {
  // The runtime's clock timers are unref'd (they must not hold a server open). After an
  // interrupt has killed the router and the server, they would be all that is left, and Node
  // would exit in the middle of the teardown: hold the event loop open until it is done.
  const holdOpen = setInterval(() => undefined, 1_000);
  try {
    return await tearDownInOrder(home, started);
  } finally {
    clearInterval(holdOpen);
  }
}

async function tearDownInOrder(home: string, started: readonly LoggedProcess[]): Promise<Teardown> {
  const errors: unknown[] = [];
  const attempt = async <R>(step: () => Promise<R>): Promise<R | undefined> => {
    try {
      return await step();
    } catch (error) {
      errors.push(error);
      return undefined;
    }
  };
  const [router, server] = started;
  // The server first, so that its runtime no longer restarts or records instances.
  if (server !== undefined) await attempt(() => server.stop());
  const instancesStopped = (await attempt(() => stopRecordedInstances(home))) ?? 0;
  if (router !== undefined) await attempt(() => router.stop());
  const ids = new Set((await attempt(() => recordedInstanceIds(home))) ?? []);
  const leftovers = (await attempt(() => reapInstanceProcesses(home, ids))) ?? [];
  if (errors.length > 0) throw errors[0];
  return { instancesStopped, leftovers };
}

/** Stops every instance the runtime's state file records, as a runtime that adopts them. */
async function stopRecordedInstances(home: string): Promise<number> {
  const runtime = new LocalRuntime({
    stateDirectory: join(home, 'runtime'),
    clock: systemClock(),
    logger: silentLogger(),
  });
  try {
    const adopted = await runtime.adopt();
    const ids = runtime
      .list()
      .filter((instance) => instance.status !== 'stopped')
      .map((instance) => instance.id);
    await runtime.stop(ids, { graceMs: FINAL_STOP_GRACE_MS });
    return adopted.length;
  } finally {
    await runtime.close();
  }
}

async function recordedInstanceIds(home: string): Promise<string[]> {
  const records = await new StateFile(join(home, 'runtime', 'instances.json')).load();
  return records.map((record) => record.id);
}

const createdRepoSchema = z.object({ pushUrl: z.string() });

/** Creates the hosted repository `name`; returns its push URL with the admin token in it. */
export async function createHostedRepository(stack: DeployStack, name: string): Promise<string> {
  const { pushUrl } = await stack.api.json(createdRepoSchema, '/api/repos', {
    method: 'POST',
    body: JSON.stringify({ name }),
  });
  return pushUrl.replace('http://', `http://phoenix:${stack.adminToken}@`);
}
