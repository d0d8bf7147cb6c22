import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../shared/clock.js';
import { ExternalServiceError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { gitMessage, runGit } from '../source/git-command.js';
import { changedPaths, listRefs } from '../source/hosted-repository.js';
import { RepositoryPoller } from '../source/poller.js';
import type { RefChange } from '../source/ref-changes.js';
import { isZeroCommit, validateRefName } from '../source/ref-name.js';
import type { Service } from '../store/service-repository.js';
import type { SubmitInput, SubmitResult } from './orchestrator.js';

/** How often an external repository is polled when its service does not say. */
export const DEFAULT_POLL_INTERVAL_MS = 60_000;
/** A clone or fetch that takes longer has hung (an unresponsive remote); it is killed. */
export const FETCH_TIMEOUT_MS = 10 * 60_000;
/** git gives up on a transfer slower than this many bytes/s for LOW_SPEED_SECONDS. */
const LOW_SPEED_BYTES = 1000;
const LOW_SPEED_SECONDS = 60;

export function mirrorPath(mirrorsRoot: string, service: string): string {
  return join(mirrorsRoot, `${service}.git`);
}

export interface SourceWatcherOptions {
  mirrorsRoot: string;
  clock: Clock;
  logger: Logger;
  submit: (input: SubmitInput) => Promise<SubmitResult>;
  /** Whether a run exists already for this commit of this ref (a webhook may have started it). */
  alreadySubmitted: (service: string, ref: string, commit: string) => boolean;
}

/**
 * External repositories: each is mirrored under PHOENIX_HOME (builds clone from the mirror,
 * never from the network) and polled with `git ls-remote`. The mirror's refs are what Phoenix
 * has seen, so a restart compares the remote with them and builds what was pushed while it
 * was down. New or moved branches and tags are fetched and submitted as runs, once each even
 * when a webhook reported them too. Hosted repositories need none of this: a push over HTTP
 * submits its runs directly.
 */
export class SourceWatcher {
  private readonly pollers = new Map<string, RepositoryPoller>();
  /** One fetch per mirror at a time: a webhook's fetch must not race the poller's. */
  private readonly fetching = new Map<string, Promise<void>>();

  constructor(private readonly o: SourceWatcherOptions) {}

  /** Where builds of a service with an external repository take their source from. */
  mirrorOf(service: string): string {
    return mirrorPath(this.o.mirrorsRoot, service);
  }

  watch(service: Service): void {
    if (service.repository.kind !== 'external' || this.pollers.has(service.name)) return;
    void this.start(service);
  }

  unwatch(name: string): void {
    this.pollers.get(name)?.stop();
    this.pollers.delete(name);
  }

  stop(): void {
    for (const name of [...this.pollers.keys()]) this.unwatch(name);
  }

  /** Brings the mirror up to date now (a webhook said something changed). */
  async refresh(service: Service): Promise<void> {
    if (service.repository.kind !== 'external') return;
    await this.fetch(service.name, service.repository.url);
  }

  private async start(service: Service): Promise<void> {
    if (service.repository.kind !== 'external') return;
    const mirror = this.mirrorOf(service.name);
    let lastSeen: Map<string, string> | undefined;
    try {
      // A new mirror's refs are the baseline (no run for every existing branch); an existing
      // mirror's refs are what was seen before a restart, so missed pushes are found.
      if (!existsSync(mirror)) await this.fetch(service.name, service.repository.url);
      lastSeen = await listRefs(mirror);
    } catch (error) {
      this.o.logger.warn(
        { service: service.name, err: error },
        'external repository not reachable yet',
      );
    }
    const poller = new RepositoryPoller({ url: service.repository.url, lastSeen });
    if (this.pollers.has(service.name)) return;
    this.pollers.set(service.name, poller);
    poller.start({
      intervalMs: service.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
      clock: this.o.clock,
      onChanges: (changes) => this.changed(service, changes),
      onError: (error) =>
        this.o.logger.warn({ service: service.name, err: error }, 'polling failed'),
    });
  }

  private async changed(service: Service, changes: RefChange[]): Promise<void> {
    if (service.repository.kind !== 'external') return;
    await this.fetch(service.name, service.repository.url);
    for (const change of changes) {
      if (isZeroCommit(change.after)) continue;
      const problem = validateRefName(change.ref);
      if (problem !== undefined) {
        this.o.logger.warn(
          { service: service.name, ref: change.ref, problem },
          'ref from the remote refused',
        );
        continue;
      }
      if (this.o.alreadySubmitted(service.name, change.ref, change.after)) continue;
      const paths = isZeroCommit(change.before)
        ? undefined
        : await changedPaths(this.mirrorOf(service.name), change.before, change.after);
      const result = await this.o.submit({
        service: service.name,
        ref: change.ref,
        commit: change.after,
        trigger: { type: 'poll', actor: 'poller', detail: change.ref },
        changedPaths: paths,
      });
      if ('ignored' in result) {
        this.o.logger.info(
          { service: service.name, ref: change.ref, reason: result.ignored },
          'push ignored by trigger',
        );
      }
    }
  }

  /** Creates the mirror on first use, else fetches every branch and tag into it. */
  private fetch(service: string, url: string): Promise<void> {
    const previous = this.fetching.get(service) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.fetchNow(service, url));
    this.fetching.set(service, next);
    return next;
  }

  private async fetchNow(service: string, url: string): Promise<void> {
    const mirror = this.mirrorOf(service);
    await mkdir(this.o.mirrorsRoot, { recursive: true });
    const slow = [
      '-c',
      `http.lowSpeedLimit=${LOW_SPEED_BYTES}`,
      '-c',
      `http.lowSpeedTime=${LOW_SPEED_SECONDS}`,
    ];
    const args = existsSync(mirror)
      ? [...slow, '-C', mirror, 'fetch', '--quiet', '--prune', 'origin']
      : [...slow, 'clone', '--quiet', '--mirror', '--', url, mirror];
    const result = await runGit(args, { timeoutMs: FETCH_TIMEOUT_MS });
    if (result.exitCode !== 0) {
      throw new ExternalServiceError(`cannot fetch ${service}'s repository: ${gitMessage(result)}`);
    }
  }
}
