import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The compiled CLI: the server runs as users run it, not through tsx. */
export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const READY_TIMEOUT_MS = 30_000;
/** SIGTERM stops running builds first; after this long the server is killed. */
const STOP_TIMEOUT_MS = 15_000;
/** What is kept of the server's output, for the error when it fails. */
const OUTPUT_TAIL_CHARS = 16_384;

/** Compiles dist/ when it is missing, so `tsx bench/pipeline.ts` works from a fresh checkout. */
export async function ensureCliBuilt(): Promise<void> {
  if (existsSync(CLI)) return;
  console.log('dist/cli/main.js is missing: running npm run build');
  await execFileAsync('npm', ['run', 'build'], { cwd: PROJECT_ROOT });
}

export interface ServerOptions {
  home: string;
  adminToken: string;
  /** `--build-concurrency`; the server's default when absent. */
  buildConcurrency?: number;
  /** HOME of the server process, so the host's git configuration stays out. */
  scratchHome: string;
  /** Aborting stops the server (the bench was interrupted). */
  signal: AbortSignal;
}

type Exit = { code: number | null; signal: NodeJS.Signals | null };

/**
 * A real `phoenix server` process on a free loopback port, so the bench's client and the
 * control plane do not share an event loop. Stopped by its own pid: `stop()`, an abort, or,
 * as a last resort, this process exiting.
 */
export class PhoenixServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    private readonly exited: Promise<Exit>,
    private readonly log: OutputTail,
    private readonly detach: () => void,
  ) {}

  static async start(options: ServerOptions): Promise<PhoenixServer> {
    options.signal.throwIfAborted();
    const args = [CLI, 'server', '--port', '0'];
    if (options.buildConcurrency !== undefined)
      args.push('--build-concurrency', String(options.buildConcurrency));
    const child = spawn(process.execPath, args, {
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: options.scratchHome,
        PHOENIX_HOME: options.home,
        PHOENIX_ADMIN_TOKEN: options.adminToken,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<Exit>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      // A process that could not be spawned never exits.
      child.once('error', () => resolve({ code: null, signal: null }));
    });
    const terminate = (): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    };
    options.signal.addEventListener('abort', terminate);
    process.once('exit', terminate);
    const detach = (): void => {
      options.signal.removeEventListener('abort', terminate);
      process.removeListener('exit', terminate);
    };
    const log = new OutputTail();
    child.stdout?.on('data', (chunk: Buffer) => log.add(chunk));
    child.stderr?.on('data', (chunk: Buffer) => log.add(chunk));
    try {
      const url = await listeningUrl(exited, log);
      return new PhoenixServer(child, url, exited, log, detach);
    } catch (error) {
      terminate();
      await exited;
      detach();
      throw error;
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** SIGTERM, then SIGKILL if it has not exited in time; an unclean exit is an error. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    const exit = await this.exited;
    clearTimeout(timer);
    this.detach();
    if (exit.code !== 0) {
      throw new Error(
        `phoenix server (pid ${this.pid}) exited with ${exit.code ?? exit.signal}:\n${this.log.text}`,
      );
    }
  }
}

/** The end of a process's output, for error messages; it wakes a waiter on every chunk. */
class OutputTail {
  text = '';
  onChange: (() => void) | undefined;

  add(chunk: Buffer): void {
    this.text = (this.text + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
    this.onChange?.();
  }
}

/** Starts a server, runs `body` against it and stops it whatever happens. */
export async function withServer<T>(
  options: ServerOptions,
  body: (server: PhoenixServer) => Promise<T>,
): Promise<T> {
  const server = await PhoenixServer.start(options);
  let result: T;
  try {
    result = await body(server);
  } catch (error) {
    await server.stop().catch(() => undefined);
    throw error;
  }
  await server.stop();
  return result;
}

/** The URL the server prints once it listens. */
function listeningUrl(exited: Promise<Exit>, log: OutputTail): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      log.onChange = undefined;
      reject(new Error(`phoenix server did not listen in time:\n${log.text}`));
    }, READY_TIMEOUT_MS);
    log.onChange = () => {
      const match = /Phoenix (http:\/\/127\.0\.0\.1:\d+)/.exec(log.text);
      if (match?.[1] === undefined) return;
      clearTimeout(timer);
      log.onChange = undefined;
      resolve(match[1]);
    };
    void exited.then((exit) => {
      clearTimeout(timer);
      reject(
        new Error(
          `phoenix server exited (${exit.code ?? exit.signal}) before listening:\n${log.text}`,
        ),
      );
    });
  });
}
