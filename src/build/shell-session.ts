import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PlatformError } from '../shared/errors.js';
import { LineSplitter } from './line-splitter.js';

/**
 * One shell session for a whole build, as buildspec version 0.2 promises: `cd`, `export`,
 * shell variables, functions and `set` options carry from command to command.
 *
 * A long-lived bash reads our control script on stdin. Each user command runs in a forked
 * subshell (so `exit 1` fails that command instead of ending the build), whose EXIT trap
 * writes its variables, functions, options and working directory to a state file that the
 * parent sources afterwards. Commands get /dev/null as stdin. After each command the parent
 * prints a marker carrying the exit code on stdout and on stderr; when both markers have been
 * read, every byte the command printed has been seen.
 */

export interface ShellSessionOptions {
  cwd: string;
  env: Record<string, string>;
  /** Scratch folder for the session's state files (inside the build folder). */
  stateDirectory: string;
  /** `false` reproduces buildspec 0.1: every command starts from the initial state. */
  persistState?: boolean;
  /** Run bash in POSIX mode (for `shell: /bin/sh`). */
  posix?: boolean;
  /** Prefix the shell with a sandbox launcher, e.g. bubblewrap's argument list. */
  wrapper?: readonly string[];
  uid?: number;
  gid?: number;
  onOutput: (stream: 'stdout' | 'stderr', line: string) => void;
}

export interface CommandOutcome {
  exitCode: number;
  /** The last lines the command printed (both streams), for RETRY-regex matching. */
  tail: string;
}

const TAIL_LINES = 200;
const SPECIAL_VARIABLES =
  'BASH*|__phx_*|PWD|OLDPWD|SHLVL|_|PPID|UID|EUID|GROUPS|FUNCNAME|PIPESTATUS|RANDOM|SRANDOM|SECONDS|LINENO|EPOCHREALTIME|EPOCHSECONDS|HISTCMD|COMP_*|DIRSTACK|SHELLOPTS|IFS|OPTIND|OPTERR|PS4';

export class ShellSession {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly nonce = randomBytes(8).toString('hex');
  private readonly marker: string;
  private readonly statePath: string;
  private readonly optionsPath: string;
  private sequence = 0;
  private pending:
    | {
        id: number;
        seen: Set<'stdout' | 'stderr'>;
        exitCode: number;
        resolve: (outcome: CommandOutcome) => void;
      }
    | undefined;
  private tail: string[] = [];
  private exited: Promise<number | null>;
  private exitCode: number | null | undefined;

  constructor(private readonly options: ShellSessionOptions) {
    this.marker = `\x1ePHX${this.nonce} `;
    this.statePath = join(options.stateDirectory, `shell-state-${this.nonce}`);
    this.optionsPath = join(options.stateDirectory, `shell-options-${this.nonce}`);
    const shellArgs = ['--noprofile', '--norc', ...(options.posix ? ['--posix'] : []), '-s'];
    const [command, ...args] = [...(options.wrapper ?? []), 'bash', ...shellArgs];
    this.child = spawn(command ?? 'bash', args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      uid: options.uid,
      gid: options.gid,
    });
    this.exited = new Promise((resolve) => {
      this.child.on('error', () => resolve(null));
      this.child.on('close', (code) => {
        this.exitCode = code;
        this.failPending();
        resolve(code);
      });
    });
    this.watch('stdout');
    this.watch('stderr');
    this.child.stdin.on('error', () => undefined);
    this.child.stdin.write(this.prelude());
  }

  /** Process group id: kill(-pgid) reaches every process the build started in the group. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Runs one user command to completion. Never rejects for a failing command. */
  run(command: string): Promise<CommandOutcome> {
    if (this.pending !== undefined)
      throw new PlatformError('shell session: a command is already running');
    if (this.exitCode !== undefined)
      return Promise.reject(new PlatformError('the build shell has exited'));
    const id = ++this.sequence;
    this.tail = [];
    const result = new Promise<CommandOutcome>((resolve) => {
      this.pending = { id, seen: new Set(), exitCode: -1, resolve };
    });
    this.child.stdin.write(this.commandScript(id, command));
    return result;
  }

  /** Sets a variable in the session (exported), e.g. CODEBUILD_BUILD_SUCCEEDING between phases. */
  async export(name: string, value: string): Promise<void> {
    await this.control(`export ${name}=${shellQuote(value)}`, 'parent');
  }

  /** Evaluates text as the inside of a double-quoted string: `$VAR` and `$(...)` expand, globs do not. */
  async expand(text: string): Promise<string> {
    const escaped = text.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
    const lines: string[] = [];
    const outcome = await this.captured(`printf '%s' "${escaped}"`, lines);
    if (outcome.exitCode !== 0)
      throw new PlatformError(`could not expand "${text}": exit status ${outcome.exitCode}`);
    return lines.join('\n');
  }

  /** Reads the current values of variables (unset ones are left out). */
  async read(names: readonly string[]): Promise<Record<string, string>> {
    const values: Record<string, string> = {};
    for (const name of names) {
      const lines: string[] = [];
      const outcome = await this.captured(
        `[ -n "\${${name}+set}" ] && printf '%s' "\${${name}}"`,
        lines,
      );
      if (outcome.exitCode === 0) values[name] = lines.join('\n');
    }
    return values;
  }

  /** Ends the session's shell (not the processes it started: the caller reaps those). */
  async close(): Promise<void> {
    if (this.exitCode === undefined) this.child.stdin.end('exit 0\n');
    await this.exited;
    await rm(this.statePath, { force: true });
    await rm(this.optionsPath, { force: true });
    await rm(`${this.statePath}.names`, { force: true });
  }

  private async captured(script: string, into: string[]): Promise<CommandOutcome> {
    const previous = this.options.onOutput;
    const capture = (stream: 'stdout' | 'stderr', line: string): void => {
      if (stream === 'stdout') into.push(line);
      else previous(stream, line);
    };
    this.options.onOutput = capture;
    try {
      return await this.control(script);
    } finally {
      this.options.onOutput = previous;
    }
  }

  /** Runs Phoenix's own script: in a subshell unless it must change the session itself. */
  private control(
    script: string,
    where: 'subshell' | 'parent' = 'subshell',
  ): Promise<CommandOutcome> {
    if (this.pending !== undefined)
      throw new PlatformError('shell session: a command is already running');
    if (this.exitCode !== undefined)
      return Promise.reject(new PlatformError('the build shell has exited'));
    const id = ++this.sequence;
    const result = new Promise<CommandOutcome>((resolve) => {
      this.pending = { id, seen: new Set(), exitCode: -1, resolve };
    });
    const line = where === 'parent' ? `${script}` : `( ${script} ) </dev/null`;
    this.child.stdin.write(`${line}; ${this.markers(id)}\n`);
    return result;
  }

  /**
   * Helper functions of the session. Everything here is a bash builtin: a fork or an exec per
   * command would cost milliseconds, and a build may run thousands of commands. `compgen -v`
   * writes to a file (a builtin with a redirection does not fork) and mapfile reads it back.
   */
  private prelude(): string {
    const skip = `case "$__phx_n" in ${SPECIAL_VARIABLES}) continue;; esac; [[ \${!__phx_n@a} == *r* ]] && continue`;
    return [
      `__phx_state=${shellQuote(this.statePath)}`,
      `__phx_opts=${shellQuote(this.optionsPath)}`,
      `__phx_names=${shellQuote(`${this.statePath}.names`)}`,
      '__phx_variables() { compgen -v > "$__phx_names"; mapfile -t __phx_list < "$__phx_names"; }',
      // Runs in the command's subshell on EXIT: writes what the parent must take back.
      '__phx_dump() {',
      "  local __phx_n __phx_list IFS=$' \\t\\n'",
      '  __phx_variables',
      '  {',
      "    printf '__phx_keep=\" '",
      `    for __phx_n in "\${__phx_list[@]}"; do ${skip}; printf '%s ' "$__phx_n"; done`,
      "    printf '\"\\n'",
      `    for __phx_n in "\${__phx_list[@]}"; do ${skip}; declare -p "$__phx_n" 2>/dev/null; done`,
      '    declare -f',
      '    printf "cd -- %q\\n" "$PWD"',
      '  } > "$__phx_state"',
      '  { set +o; shopt -p; } > "$__phx_opts" 2>/dev/null',
      '}',
      // Run by the parent after it sourced a state file at top level (inside a function the
      // `declare` lines would create locals): drops the variables the command unset.
      '__phx_prune() {',
      "  local __phx_n __phx_list IFS=$' \\t\\n'",
      '  __phx_variables',
      '  for __phx_n in "${__phx_list[@]}"; do',
      `    case "$__phx_n" in ${SPECIAL_VARIABLES}) continue;; esac`,
      '    case "$__phx_keep" in *" $__phx_n "*) ;; *) unset "$__phx_n" 2>/dev/null;; esac',
      '  done',
      '  : > "$__phx_state"',
      '}',
      '',
    ].join('\n');
  }

  private commandScript(id: number, command: string): string {
    const persist = this.options.persistState !== false;
    const trap = persist ? "trap '__phx_dump' EXIT; " : '';
    const options = persist ? '[ -f "$__phx_opts" ] && . "$__phx_opts"; ' : '';
    const restore = persist
      ? `__phx_rc=$?; if [ -s "$__phx_state" ]; then . "$__phx_state"; __phx_prune; fi; (exit $__phx_rc); `
      : '';
    return `( ${options}${trap}eval ${shellQuote(command)} ) </dev/null; ${restore}${this.markers(id)}\n`;
  }

  private markers(id: number): string {
    const marker = `\\036PHX${this.nonce} ${id} %s\\n`;
    return `__phx_rc=$?; printf '${marker}' "$__phx_rc"; printf '${marker}' "$__phx_rc" >&2`;
  }

  private watch(stream: 'stdout' | 'stderr'): void {
    const splitter = new LineSplitter((line) => this.onLine(stream, line));
    this.child[stream].on('data', (chunk: Buffer) => splitter.push(chunk));
    this.child[stream].on('end', () => splitter.end());
  }

  private onLine(stream: 'stdout' | 'stderr', line: string): void {
    const at = line.indexOf(this.marker);
    if (at === -1) {
      this.emit(stream, line);
      return;
    }
    if (at > 0) this.emit(stream, line.slice(0, at));
    const [id, code] = line.slice(at + this.marker.length).split(' ');
    const pending = this.pending;
    if (pending === undefined || Number(id) !== pending.id) return;
    pending.seen.add(stream);
    pending.exitCode = Number(code);
    if (pending.seen.size === 2) {
      this.pending = undefined;
      pending.resolve({ exitCode: pending.exitCode, tail: this.tail.join('\n') });
    }
  }

  private emit(stream: 'stdout' | 'stderr', line: string): void {
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
    this.options.onOutput(stream, line);
  }

  private failPending(): void {
    const pending = this.pending;
    if (pending === undefined) return;
    this.pending = undefined;
    // The shell died under the command (killed, or it exec'd away): report a signal-style code.
    pending.resolve({ exitCode: this.exitCode ?? 137, tail: this.tail.join('\n') });
  }
}

/** Quotes text for bash as a single word. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
