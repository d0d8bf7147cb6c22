import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import pc from 'picocolors';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { demoPorts } from '../demo/demo-service.js';
import { runDemo } from '../demo/demo.js';
import { DEFAULT_ADMIN_PORT } from '../router/router.js';
import { stopRecordedInstances } from '../runtime/local/local-runtime.js';
import { createOnce } from '../shared/create-once.js';
import { phoenixHome } from '../shared/home.js';
import { createLogger } from '../shared/logger.js';
import { ApiClient } from './api-client.js';
import { wholeNumber } from './api-command.js';

/** Where `phoenix server` listens unless told otherwise (as `phoenix server`'s own default). */
export const DEFAULT_SERVER_PORT = 8800;
/** How long each process gets to stop on Ctrl-C before it is killed. */
export const UP_STOP_TIMEOUT_MS = 20_000;

interface UpOptions {
  port?: number;
  routerPort?: number;
  demo?: boolean;
  /** `--no-wait`: after the demo, stop everything (instances too) and exit. */
  wait?: boolean;
  selfHealing?: boolean;
  demoPort?: number;
}

/** The demo's listeners start here: dev on 18100, staging on 18110, prod on 18120. */
export const DEFAULT_DEMO_PORT = 18_100;

interface Part {
  name: 'router' | 'server';
  child: ChildProcess;
  /** The first line that says it is up. */
  ready: RegExp;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Told every line the process prints. */
  watchers: Set<(line: string) => void>;
}

/**
 * `phoenix up`: Phoenix on one machine, as a person runs it — `phoenix router` and
 * `phoenix server` as processes of their own (so that restarting the server never drops a
 * request), their output interleaved with a prefix, both stopped cleanly on Ctrl-C: the
 * server first (deployments stop where they are), then the router. If either stops by
 * itself (a port in use, say), the other is stopped too and `up` exits 1, saying why.
 */
export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description('run Phoenix on this machine: the router and the server, each in its own process')
    .option(
      '--port <n>',
      `the server's API and git port (default ${DEFAULT_SERVER_PORT})`,
      wholeNumber(1, 65_535),
    )
    .option(
      '--router-port <n>',
      `the router's admin port (default ${DEFAULT_ADMIN_PORT})`,
      wholeNumber(1, 65_535),
    )
    .option('--demo', 'push the sample shop and show a run through dev, staging and prod')
    .option('--no-self-healing', 'with --demo: skip the bad release and its automatic rollback')
    .option('--no-wait', 'with --demo: stop everything (instances too) once the demo is over')
    .option(
      '--demo-port <n>',
      `with --demo: first listener port (default ${DEFAULT_DEMO_PORT}: dev, +10 staging, +20 prod)`,
      wholeNumber(1, 65_000),
    )
    .action(async (options: UpOptions) => {
      process.exitCode = await runUp(options);
    });
}

async function runUp(options: UpOptions): Promise<number> {
  const cli = process.argv[1] ?? '';
  const routerPort = options.routerPort ?? DEFAULT_ADMIN_PORT;
  const serverPort = options.port ?? DEFAULT_SERVER_PORT;
  const home = phoenixHome();
  const demoToken = options.demo === true ? await ensureDemoToken(home) : undefined;
  const env = {
    ...process.env,
    PHOENIX_ROUTER_URL: `http://127.0.0.1:${routerPort}`,
    ...(demoToken === undefined ? {} : { PHOENIX_ADMIN_TOKEN: demoToken }),
    // The demo's live view says in words what the server's warnings say in JSON lines.
    ...(options.demo === true && process.env['PHOENIX_LOG_LEVEL'] === undefined
      ? { PHOENIX_LOG_LEVEL: 'error' }
      : {}),
  };
  const router = start(
    'router',
    [cli, 'router', '--admin-port', String(routerPort)],
    env,
    /^Phoenix router /,
  );
  const routerUp = await upOrExited(router);
  if (!routerUp) return failed(router, [], `the router did not start (admin port ${routerPort})`);
  const server = start(
    'server',
    [cli, 'server', '--port', String(serverPort)],
    env,
    /^Phoenix http/,
  );
  const serverUp = await upOrExited(server);
  if (!serverUp) return failed(server, [router], `the server did not start (port ${serverPort})`);
  process.stdout.write(
    `${pc.bold('Phoenix is up')}: API and git at http://127.0.0.1:${serverPort}, router admin at http://127.0.0.1:${routerPort} (pids ${server.child.pid ?? '?'}, ${router.child.pid ?? '?'}); Ctrl-C stops both\n`,
  );
  if (demoToken !== undefined) {
    const outcome = await demo(options, home, serverPort, demoToken);
    if (options.wait === false) {
      await stop([server, router]);
      await stopInstances(home);
      process.stdout.write('Demo over: the router, the server and the instances are stopped\n');
      return outcome ? 0 : 1;
    }
    process.stdout.write('The demo is over; Phoenix keeps running: Ctrl-C stops it\n');
  }
  const stopped = await Promise.race([
    signalled().then(() => undefined),
    server.exited.then(() => server),
    router.exited.then(() => router),
  ]);
  if (stopped !== undefined) {
    return failed(
      stopped,
      [server, router].filter((part) => part !== stopped),
      `the ${stopped.name} stopped by itself`,
    );
  }
  await stop([server, router]);
  // The demo's shop goes with it; a real `phoenix up` leaves releases serving.
  if (demoToken !== undefined) await stopInstances(home);
  return 0;
}

function start(name: Part['name'], args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Part {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const watchers = new Set<(line: string) => void>();
  const prefix = pc.dim(`${name.padEnd(6)} │ `);
  for (const stream of [child.stdout, child.stderr]) {
    if (stream === null) continue;
    const lines = createInterface({ input: stream });
    lines.on('line', (line) => {
      const target = stream === child.stderr ? process.stderr : process.stdout;
      target.write(`${prefix}${line}\n`);
      for (const watch of watchers) watch(line);
    });
  }
  return { name, child, ready, exited, watchers };
}

/** Resolves true once the part printed its ready line, false if it exited first. */
function upOrExited(part: Part): Promise<boolean> {
  return new Promise((resolve) => {
    const onLine = (line: string): void => {
      if (!part.ready.test(line)) return;
      part.watchers.delete(onLine);
      resolve(true);
    };
    part.watchers.add(onLine);
    void part.exited.then(() => resolve(false));
  });
}

function signalled(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

/** SIGTERM each in order, waiting for it to exit (SIGKILL after UP_STOP_TIMEOUT_MS). */
async function stop(parts: readonly Part[]): Promise<void> {
  for (const part of parts) {
    if (part.child.exitCode !== null || part.child.signalCode !== null) continue;
    part.child.kill('SIGTERM');
    const timer = setTimeout(() => part.child.kill('SIGKILL'), UP_STOP_TIMEOUT_MS);
    await part.exited;
    clearTimeout(timer);
  }
}

async function failed(culprit: Part, others: readonly Part[], why: string): Promise<number> {
  await stop(others);
  const { code, signal } = await culprit.exited;
  const how = signal === null ? `exit code ${code ?? '?'}` : signal;
  process.stderr.write(`phoenix up: ${why} (${how}); its output above says why\n`);
  return 1;
}

async function demo(
  options: UpOptions,
  home: string,
  serverPort: number,
  token: string,
): Promise<boolean> {
  const client = new ApiClient({ url: `http://127.0.0.1:${serverPort}`, token });
  const prefix = pc.cyan('demo   │ ');
  try {
    const result = await runDemo({
      client,
      token,
      home,
      ports: demoPorts(options.demoPort ?? DEFAULT_DEMO_PORT),
      selfHealing: options.selfHealing !== false,
      out: (line) => process.stdout.write(`${prefix}${line}\n`),
    });
    return result.ok;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${prefix}the demo stopped: ${reason}\n`);
    return false;
  }
}

/**
 * The demo's admin token, kept in PHOENIX_HOME/demo/admin-token so that a second demo on the
 * same folder uses the same one (it becomes the admin token at the server's first start).
 */
async function ensureDemoToken(home: string): Promise<string> {
  const path = join(home, 'demo', 'admin-token');
  await createOnce(path, `phx_demo_${randomBytes(24).toString('base64url')}\n`);
  return (await readFile(path, 'utf8')).trim();
}

/** Instances outlive the server by design; the demo stops the shop's when it ends. */
function stopInstances(home: string): Promise<void> {
  return stopRecordedInstances(join(home, 'runtime'), { logger: createLogger() });
}
