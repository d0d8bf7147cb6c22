import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, constants } from 'node:fs';
import { access, appendFile, mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { SecretMasker } from '../build/secret-masker.js';
import { resolveFunctionCommand, revisionPath, type LocalUser } from '../config/appspec-check.js';
import type { PlannedHook } from '../config/appspec-hooks.js';
import type { FunctionCommand, HookStep } from '../config/appspec.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import { formatDuration } from '../shared/durations.js';
import { PhoenixError } from '../shared/errors.js';

export interface HookRun {
  /** One lifecycle event's steps, in order (from hookPlan). */
  hook: PlannedHook;
  /** The release whose appspec lists the hook: scripts are relative to it; it is the cwd. */
  directory: string;
  /** The hook's whole environment (see hookEnvironment). */
  env: Record<string, string>;
  /** The deployment's log: every step's output is appended to it. */
  logFile: string;
  functionCommands?: Readonly<Record<string, FunctionCommand>>;
  clock: Clock;
  signal?: AbortSignal;
  /** For `runas`; running as another user needs Phoenix to run as root. */
  lookupUser?: (name: string) => Promise<LocalUser | undefined>;
  /** Values masked in the log (the environment's secrets), line by line. */
  secrets?: readonly string[];
}

/**
 * How long a step's output may keep arriving after it exits before the step is settled:
 * a background process the hook started may hold its output open (CodeDeploy's agent waits
 * for it until the timeout); Phoenix goes on and keeps logging what it writes.
 */
export const HOOK_OUTPUT_GRACE_MS = 250;

export type HookResult =
  | { ok: true }
  | {
      ok: false;
      /** The step that failed, e.g. `hooks.AfterInstall[1]` or `Hooks[2].AfterAllowTestTraffic`. */
      key: string;
      reason: string;
      exitCode?: number;
      signal?: string;
      timedOut?: boolean;
    };

/** How to start one step, or why it cannot start. */
type Launch =
  | { ok: true; file: string; args: string[]; what: string; timeoutMs: number; user?: LocalUser }
  | { ok: false; reason: string };

/**
 * Runs an event's hook steps one after the other as child processes in the release folder,
 * each in its own process group with its timeout. The first step that exits non-zero, is
 * killed, times out (its whole process group is killed) or cannot start fails the event and
 * the rest do not run. A step that exits 0 may leave background processes (a daemon started
 * by ApplicationStart); they are not killed. Abort kills the running step's group and rejects.
 */
export async function runHook(run: HookRun): Promise<HookResult> {
  await mkdir(dirname(run.logFile), { recursive: true });
  for (const step of run.hook.steps) {
    const launch = await prepare(step, run);
    if (!launch.ok) {
      await log(run, `${step.key}: ${launch.reason}`);
      return { ok: false, key: step.key, reason: `${step.event}: ${launch.reason}` };
    }
    const result = await execute(step, launch, run);
    if (!result.ok) return result;
  }
  return { ok: true };
}

async function prepare(step: HookStep, run: HookRun): Promise<Launch> {
  if (step.kind === 'function') {
    try {
      const { command, timeoutMs } = resolveFunctionCommand(step, run.functionCommands);
      return { ok: true, file: '/bin/sh', args: ['-c', command], what: command, timeoutMs };
    } catch (error) {
      if (error instanceof PhoenixError) return { ok: false, reason: error.message };
      throw error;
    }
  }
  const relative = revisionPath(step.script);
  if (relative === undefined) return { ok: false, reason: `${step.script} leaves the release` };
  const file = join(run.directory, relative);
  if ((await stat(file).catch(() => undefined))?.isFile() !== true) {
    return { ok: false, reason: `${step.script}: no such script in the release` };
  }
  let user: LocalUser | undefined;
  if (step.runas !== undefined) {
    user = await run.lookupUser?.(step.runas.value);
    if (user === undefined) return { ok: false, reason: `runas: no user "${step.runas.value}"` };
  }
  // CodeDeploy executes the file; one that lost its x bit in an archive still runs, with sh.
  const executable = await access(file, constants.X_OK).then(
    () => true,
    () => false,
  );
  return executable
    ? { ok: true, file, args: [], what: step.script, timeoutMs: step.timeoutMs, user }
    : {
        ok: true,
        file: '/bin/sh',
        args: [file],
        what: `sh ${step.script}`,
        timeoutMs: step.timeoutMs,
        user,
      };
}

function execute(
  step: HookStep,
  launch: Extract<Launch, { ok: true }>,
  run: HookRun,
): Promise<HookResult> {
  return new Promise((resolve, reject) => {
    const started = run.clock.now();
    // The header goes in before the child can write, so that the log reads in order.
    appendFileSync(
      run.logFile,
      logLine(run, `${step.key}: ${launch.what} (timeout ${formatDuration(launch.timeoutMs)})`),
    );
    let child: ChildProcess;
    try {
      child = spawn(launch.file, launch.args, {
        cwd: run.directory,
        env: run.env,
        detached: true,
        // Piped, not the log file itself: every line is masked before it is written.
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(launch.user === undefined || launch.user.uid === process.getuid?.()
          ? {}
          : { uid: launch.user.uid, gid: launch.user.gid }),
      });
    } catch (error) {
      const detail = `${launch.what}: ${error instanceof Error ? error.message : String(error)}`;
      resolve({ ok: false, key: step.key, reason: `${step.event}: ${detail}` });
      return;
    }
    const output = new MaskedLog(run.logFile, new SecretMasker(run.secrets ?? []));
    if (child.stdout !== null) output.follow(child.stdout);
    if (child.stderr !== null) output.follow(child.stderr);
    let timedOut = false;
    const killGroup = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    };
    const timer = run.clock.setTimeout(() => {
      timedOut = true;
      killGroup();
    }, launch.timeoutMs);
    const onAbort = (): void => killGroup();
    run.signal?.addEventListener('abort', onAbort, { once: true });
    let settled = false;
    /** `detail` says what happened to the step, for the log and (failed) the reason. */
    const settle = (result: HookResult, detail: string): void => {
      if (settled) return;
      settled = true;
      run.clock.clearTimeout(timer);
      run.signal?.removeEventListener('abort', onAbort);
      const took = formatDuration(run.clock.now() - started);
      void log(run, `${step.key}: ${detail} after ${took}`).then(() => {
        if (run.signal?.aborted === true) reject(run.signal.reason);
        else resolve(result);
      });
    };
    const fail = (detail: string, extra: Partial<Extract<HookResult, { ok: false }>> = {}): void =>
      settle({ ok: false, key: step.key, reason: `${step.event}: ${detail}`, ...extra }, detail);
    child.once('error', (error) => fail(`${launch.what}: ${error.message}`));
    // Settled once its output is all in (close), or a moment after it exits when a
    // background process keeps the output open.
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let grace: TimerHandle | undefined;
    const finish = (): void => {
      if (exited === undefined) return;
      if (grace !== undefined) run.clock.clearTimeout(grace);
      output.flushPartial();
      ended(exited.code, exited.signal);
    };
    child.once('close', finish);
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      grace = run.clock.setTimeout(finish, HOOK_OUTPUT_GRACE_MS);
    });
    const ended = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (code === 0 && !timedOut) {
        settle({ ok: true }, `${launch.what} succeeded`);
        return;
      }
      const why = timedOut
        ? `timed out after ${formatDuration(launch.timeoutMs)}`
        : code !== null
          ? `exited with code ${code}`
          : `killed by ${signal ?? 'a signal'}`;
      fail(`${launch.what} ${why}`, {
        ...(code === null ? {} : { exitCode: code }),
        ...(signal === null ? {} : { signal }),
        ...(timedOut ? { timedOut } : {}),
      });
    };
  });
}

/**
 * A step's output into the deployment log, a line at a time, secrets masked: a secret
 * split across two reads is still masked, since only whole lines are written.
 */
class MaskedLog {
  private readonly partial = new Map<Readable, string>();

  constructor(
    private readonly file: string,
    private readonly masker: SecretMasker,
  ) {}

  follow(stream: Readable): void {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const text = (this.partial.get(stream) ?? '') + chunk;
      const end = text.lastIndexOf('\n');
      this.partial.set(stream, text.slice(end + 1));
      if (end >= 0) this.write(text.slice(0, end + 1));
    });
    stream.on('end', () => this.flush(stream));
    stream.on('error', () => undefined);
  }

  /** Writes what is left of unfinished lines (the step ended without a newline). */
  flushPartial(): void {
    for (const stream of this.partial.keys()) this.flush(stream);
  }

  private flush(stream: Readable): void {
    const rest = this.partial.get(stream) ?? '';
    this.partial.set(stream, '');
    if (rest !== '') this.write(`${rest}\n`);
  }

  private write(lines: string): void {
    const masked = lines
      .split('\n')
      .map((line) => this.masker.mask(line))
      .join('\n');
    appendFileSync(this.file, masked);
  }
}

async function log(run: HookRun, line: string): Promise<void> {
  await appendFile(run.logFile, logLine(run, line));
}

function logLine(run: HookRun, line: string): string {
  return `[${new Date(run.clock.now()).toISOString()}] ${line}\n`;
}
