import type { Clock, TimerHandle } from '../shared/clock.js';
import { ConflictError, ExternalServiceError } from '../shared/errors.js';
import { gitMessage, runGit } from './git-command.js';
import { inputError } from './input-error.js';
import { compareRefs, type RefChange } from './ref-changes.js';
import { isCommitId } from './ref-name.js';
import { redactRepositoryUrl, validateRepositoryUrl } from './repository-url.js';

/** How long one `git ls-remote` may take before the check fails (a safety net, not a schedule). */
export const DEFAULT_LS_REMOTE_TIMEOUT_MS = 60_000;

export interface RepositoryPollerOptions {
  /** See validateRepositoryUrl for the accepted forms. */
  url: string;
  /**
   * Refs seen by an earlier poller (persisted by the service). Without them, the first
   * check only learns the current refs and reports nothing, so that adding a repository
   * does not start a run for every branch and tag it already has.
   */
  lastSeen?: ReadonlyMap<string, string>;
  lsRemoteTimeoutMs?: number;
}

export interface PollingSchedule {
  intervalMs: number;
  clock: Clock;
  /** Awaited before the next check is scheduled; a rejection goes to onError. */
  onChanges: (changes: RefChange[]) => void | Promise<void>;
  /** A failed check (unreachable remote...); polling goes on at the same interval. */
  onError?: (error: unknown) => void;
}

/**
 * Watches an external repository's branches and tags with `git ls-remote`.
 *
 * Lifecycle: `check()` may be called at any time; `start()` checks every `intervalMs`
 * (measured from the end of the previous check, so checks never overlap) until `stop()`.
 * Changes found by a check that finishes after `stop()` are dropped and not remembered,
 * so the next poller (or start) reports them again: nothing is lost.
 */
export class RepositoryPoller {
  private readonly url: string;
  private seen: Map<string, string> | undefined;
  private running:
    { schedule: PollingSchedule; timer?: TimerHandle; generation: number } | undefined;
  private generation = 0;

  constructor(private readonly options: RepositoryPollerOptions) {
    const problem = validateRepositoryUrl(options.url);
    if (problem !== undefined) {
      throw inputError('repository URL', 'url', `${redactRepositoryUrl(options.url)}: ${problem}`);
    }
    this.url = options.url;
    this.seen = options.lastSeen === undefined ? undefined : new Map(options.lastSeen);
  }

  /** The refs as of the last check, for the service to persist. */
  lastSeen(): ReadonlyMap<string, string> | undefined {
    return this.seen === undefined ? undefined : new Map(this.seen);
  }

  /** Lists the remote's refs now and returns what moved since the last check. */
  async check(): Promise<RefChange[]> {
    const { refs, changes } = await this.compare();
    this.seen = refs;
    return changes;
  }

  start(schedule: PollingSchedule): void {
    if (this.running !== undefined) throw new ConflictError(`already polling ${this.displayUrl()}`);
    this.generation += 1;
    this.running = { schedule, generation: this.generation };
    this.schedule();
  }

  /** Safe to call when not started, and more than once. */
  stop(): void {
    if (this.running?.timer !== undefined)
      this.running.schedule.clock.clearTimeout(this.running.timer);
    this.running = undefined;
  }

  private schedule(): void {
    const running = this.running;
    if (running === undefined) return;
    running.timer = running.schedule.clock.setTimeout(() => {
      void this.tick(running.generation);
    }, running.schedule.intervalMs);
  }

  private async tick(generation: number): Promise<void> {
    const current = (): PollingSchedule | undefined =>
      this.running?.generation === generation ? this.running.schedule : undefined;
    try {
      const { refs, changes } = await this.compare();
      const schedule = current();
      if (schedule === undefined) return;
      this.seen = refs;
      if (changes.length > 0) await schedule.onChanges(changes);
    } catch (error) {
      current()?.onError?.(error);
    }
    if (current() !== undefined) this.schedule();
  }

  private async compare(): Promise<{ refs: Map<string, string>; changes: RefChange[] }> {
    const refs = await this.listRemote();
    const changes = this.seen === undefined ? [] : compareRefs(this.seen, refs);
    return { refs, changes };
  }

  private async listRemote(): Promise<Map<string, string>> {
    const result = await runGit(['ls-remote', '--heads', '--tags', '--', this.url], {
      timeoutMs: this.options.lsRemoteTimeoutMs ?? DEFAULT_LS_REMOTE_TIMEOUT_MS,
    });
    if (result.exitCode !== 0) {
      throw new ExternalServiceError(
        `git ls-remote ${this.displayUrl()} failed: ${redactAll(gitMessage(result))}`,
      );
    }
    return parseLsRemote(result.stdout);
  }

  private displayUrl(): string {
    return redactRepositoryUrl(this.url);
  }
}

/**
 * `<id>\t<ref>` lines; an annotated tag also has a `<ref>^{}` line with the commit it
 * points at, which wins, as in listRefs for hosted repositories.
 */
export function parseLsRemote(output: string): Map<string, string> {
  const refs = new Map<string, string>();
  const peeled = new Map<string, string>();
  for (const line of output.split('\n')) {
    const [id, ref] = line.split('\t');
    if (id === undefined || ref === undefined || !isCommitId(id)) continue;
    if (ref.endsWith('^{}')) peeled.set(ref.slice(0, -3), id);
    else refs.set(ref, id);
  }
  for (const [ref, id] of peeled) if (refs.has(ref)) refs.set(ref, id);
  return refs;
}

function redactAll(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s']*@/gi, '$1***@');
}
