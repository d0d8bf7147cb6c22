import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { wallClock } from './managed-process.js';

const DEFAULT_READY_TIMEOUT_MS = 30_000;
/** After SIGTERM, how long a process gets before SIGKILL. */
const DEFAULT_STOP_TIMEOUT_MS = 15_000;
/** Plain (non-JSON) output kept for error messages. */
const TEXT_TAIL_CHARS = 16_384;

/** One structured log line (pino: `level`, `time` in epoch ms, `msg`, then fields). */
export interface LogRecord {
  level: number;
  time: number;
  msg: string;
  [field: string]: unknown;
}

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

/**
 * A Phoenix process (`phoenix router`, `phoenix server`) whose structured log is kept whole,
 * so that a failed request can be matched with what the router logged about it. Addressed
 * only by its own pid: `stop()` sends SIGTERM (SIGKILL after a timeout), `killNow()` is for
 * abort and exit handlers.
 */
export class LoggedProcess {
  readonly records: LogRecord[] = [];
  readyMatch: RegExpExecArray | undefined;
  private text = '';
  private onText: (() => void) | undefined;

  private constructor(
    readonly label: string,
    private readonly child: ChildProcess,
    readonly exited: Promise<Exit>,
    private readonly keep: (record: LogRecord) => boolean,
  ) {
    for (const stream of [child.stdout, child.stderr]) {
      if (stream === null) continue;
      createInterface({ input: stream }).on('line', (line) => this.add(line));
    }
  }

  /**
   * Spawns `node <args>` and waits until a line of its output matches `ready`; a failed
   * start leaves nothing running. `started` gets the process as soon as it exists, so that
   * an interrupt during the wait can still kill it.
   */
  static async start(options: {
    label: string;
    args: readonly string[];
    env: NodeJS.ProcessEnv;
    ready: RegExp;
    signal: AbortSignal;
    started: (process: LoggedProcess) => void;
    /** Which log lines to keep (all by default). */
    keep?: (record: LogRecord) => boolean;
    readyTimeoutMs?: number;
  }): Promise<LoggedProcess> {
    options.signal.throwIfAborted();
    const child = spawn(process.execPath, options.args, {
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<Exit>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', () => resolve({ code: null, signal: null }));
    });
    const started = new LoggedProcess(options.label, child, exited, options.keep ?? (() => true));
    options.started(started);
    try {
      await started.waitReady(options.ready, options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
      return started;
    } catch (error) {
      started.killNow();
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

  /** The output that was not a structured log line (banners, stack traces). */
  get output(): string {
    return this.text;
  }

  killNow(): void {
    if (this.running) this.child.kill('SIGKILL');
  }

  /** SIGTERM, then SIGKILL if it has not exited in time; an unclean exit is an error. */
  async stop(timeoutMs = DEFAULT_STOP_TIMEOUT_MS): Promise<void> {
    if (this.running) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.killNow(), timeoutMs);
    const exit = await this.exited;
    clearTimeout(timer);
    if (exit.code !== 0) {
      throw new Error(
        `${this.label} (pid ${this.pid}) exited with ${exit.code ?? exit.signal}:\n${this.text}`,
      );
    }
  }

  private add(line: string): void {
    const record = parseRecord(line);
    if (record !== undefined) {
      if (this.keep(record)) this.records.push(record);
      return;
    }
    this.text = `${this.text}${line}\n`.slice(-TEXT_TAIL_CHARS);
    this.onText?.();
  }

  private waitReady(ready: RegExp, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const finish = (error?: Error): void => {
        this.onText = undefined;
        clearTimeout(timer);
        if (error === undefined) resolve();
        else reject(error);
      };
      const timer = setTimeout(
        () =>
          finish(new Error(`${this.label} was not ready within ${timeoutMs} ms:\n${this.text}`)),
        timeoutMs,
      );
      void this.exited.then((exit) =>
        finish(
          new Error(`${this.label} exited (${exit.code ?? exit.signal}) early:\n${this.text}`),
        ),
      );
      this.onText = () => {
        this.readyMatch = ready.exec(this.text) ?? undefined;
        if (this.readyMatch !== undefined) finish();
      };
    });
  }
}

const logLineSchema = z
  .object({ level: z.number(), time: z.number().optional(), msg: z.string() })
  .passthrough();

function parseRecord(line: string): LogRecord | undefined {
  if (!line.startsWith('{')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const parsed = logLineSchema.safeParse(value);
  if (!parsed.success) return undefined;
  return { ...parsed.data, time: parsed.data.time ?? wallClock() };
}
