import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** What is kept of a process's output, for the error when it fails. */
const OUTPUT_TAIL_CHARS = 16_384;
const DEFAULT_READY_TIMEOUT_MS = 30_000;
/** After SIGTERM, how long a process gets before SIGKILL. */
const DEFAULT_STOP_TIMEOUT_MS = 10_000;
const READY_POLL_MS = 20;

/** `node --import tsx`: one process whose pid is the script's, unlike `npx tsx` (npm, then tsx, then node). */
export const TSX_NODE_ARGS = ['--import', 'tsx'] as const;

/** A script in bench/lib, run with tsx by the same Node as the bench. */
export function benchScript(name: string): string {
  return fileURLToPath(new URL(`./${name}`, import.meta.url));
}

export interface ProcessOptions {
  /** Named in errors: "router", "upstream a1", "nginx". */
  label: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  /**
   * The process is ready once its stdout or stderr matches the pattern (the match is kept),
   * or, for a process that prints nothing, once `probe` answers true (polled).
   */
  ready: RegExp | { probe: () => Promise<boolean> };
  readyTimeoutMs?: number;
  /** An aborted signal refuses the start (the bench was interrupted). */
  signal: AbortSignal;
  /**
   * The bench's running processes: it joins them until it exits. `withProcesses` kills them
   * on an abort or when the bench exits, and stops them at the end.
   */
  processes: Set<ManagedProcess>;
}

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

/**
 * A child process the bench owns, addressed only by its own pid: stopped by `stop()` or
 * killed by `kill()`; `withProcesses` kills what is left on an abort or when the bench exits.
 */
export class ManagedProcess {
  /** When the ready line was seen. */
  readyAt = 0;
  readyMatch: RegExpExecArray | undefined;
  private text = '';
  private onOutput: (() => void) | undefined;

  private constructor(
    private readonly options: ProcessOptions,
    private readonly child: ChildProcess,
    readonly exited: Promise<Exit>,
    /** Wall-clock time (epoch ms, sub-millisecond) just before the spawn. */
    readonly spawnedAt: number,
  ) {
    const add = (chunk: Buffer): void => {
      this.text = (this.text + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
      this.onOutput?.();
    };
    child.stdout?.on('data', add);
    child.stderr?.on('data', add);
  }

  /** Spawns the process and waits for its ready line; a failed start leaves nothing running. */
  static async start(options: ProcessOptions): Promise<ManagedProcess> {
    options.signal.throwIfAborted();
    const spawnedAt = wallClock();
    const child = spawn(options.command, options.args, {
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<Exit>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      // A process that could not be spawned never exits.
      child.once('error', () => resolve({ code: null, signal: null }));
    });
    const managed = new ManagedProcess(options, child, exited, spawnedAt);
    options.processes.add(managed);
    void exited.then(() => options.processes.delete(managed));
    try {
      await managed.waitReady();
      return managed;
    } catch (error) {
      managed.killNow();
      await exited;
      throw error;
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get output(): string {
    return this.text;
  }

  /** Sends `signal` to this process alone and waits until it has exited. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<Exit> {
    this.killNow(signal);
    return this.exited;
  }

  /** Sends `signal` to this process alone, without waiting (for exit and abort handlers). */
  killNow(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.running) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL if it has not exited in time; an unclean exit is an error. */
  async stop(timeoutMs = DEFAULT_STOP_TIMEOUT_MS): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const exit = await this.exited;
    clearTimeout(timer);
    if (exit.code !== 0) {
      throw new Error(
        `${this.options.label} (pid ${this.pid}) exited with ${exit.code ?? exit.signal}:\n${this.text}`,
      );
    }
  }

  private waitReady(): Promise<void> {
    const { label, ready } = this.options;
    const timeoutMs = this.options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (error?: Error): void => {
        if (settled) return;
        settled = true;
        this.onOutput = undefined;
        clearTimeout(timer);
        if (error !== undefined) return reject(error);
        this.readyAt = wallClock();
        resolve();
      };
      const timer = setTimeout(
        () => finish(new Error(`${label} was not ready within ${timeoutMs} ms:\n${this.text}`)),
        timeoutMs,
      );
      void this.exited.then((exit) =>
        finish(new Error(`${label} exited (${exit.code ?? exit.signal}) early:\n${this.text}`)),
      );
      if (ready instanceof RegExp) {
        this.onOutput = () => {
          this.readyMatch = ready.exec(this.text) ?? undefined;
          if (this.readyMatch !== undefined) finish();
        };
        return;
      }
      const poll = async (): Promise<void> => {
        while (!settled) {
          if (await ready.probe()) return finish();
          await sleep(READY_POLL_MS);
        }
      };
      poll().catch((error: unknown) =>
        finish(error instanceof Error ? error : new Error(String(error))),
      );
    });
  }
}

/**
 * Epoch milliseconds with sub-millisecond precision, comparable between the bench's processes
 * on one machine (each adds its own `performance.now()` to its own `timeOrigin`).
 */
export function wallClock(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Runs `body` with a set that every process it starts joins, and stops whatever is still
 * running afterwards, each by its own pid, whether `body` succeeded or not. A failed stop
 * fails the run unless `body` already failed (its error is the one that matters).
 */
export async function withProcesses<T>(
  signal: AbortSignal,
  body: (processes: Set<ManagedProcess>) => Promise<T>,
): Promise<T> {
  const processes = new Set<ManagedProcess>();
  const killAll = (): void => {
    for (const child of processes) child.killNow();
  };
  signal.addEventListener('abort', killAll);
  process.once('exit', killAll);
  try {
    let result: T;
    try {
      result = await body(processes);
    } catch (error) {
      await Promise.allSettled([...processes].map((child) => child.stop()));
      throw error;
    }
    const stops = await Promise.allSettled([...processes].map((child) => child.stop()));
    const failure = stops.find((stop) => stop.status === 'rejected');
    if (failure !== undefined) throw failure.reason;
    return result;
  } finally {
    signal.removeEventListener('abort', killAll);
    process.removeListener('exit', killAll);
  }
}
