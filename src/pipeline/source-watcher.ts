import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../shared/clock.js';
import { ExternalServiceError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { runGit, gitMessage } from '../source/git-command.js';
import { changedPaths } from '../source/hosted-repository.js';
import { RepositoryPoller } from '../source/poller.js';
import type { RefChange } from '../source/ref-changes.js';
import { isZeroCommit } from '../source/ref-name.js';
import type { Service } from '../store/service-repository.js';
import type { SubmitInput, SubmitResult } from './orchestrator.js';

export function mirrorPath(mirrorsRoot: string, service: string): string {
  return join(mirrorsRoot, `${service}.git`);
}

/** How often an external repository is polled when its service does not say. */
export const DEFAULT_POLL_INTERVAL_MS = 60_000;

export interface SourceWatcherOptions {
  mirrorsRoot: string;
  clock: Clock;
  logger: Logger;
  submit: (input: SubmitInput) => Promise<SubmitResult>;
}

/**
 * External repositories: each is mirrored under PHOENIX_HOME (builds clone from the mirror,
 * never from the network) and polled with `git ls-remote`; new or moved branches and tags
 * are fetched into the mirror and submitted as runs. Hosted repositories need none of this:
 * a push over HTTP submits its runs directly.
 */
export class SourceWatcher {
  private readonly pollers = new Map<string, RepositoryPoller>();

  constructor(private readonly o: SourceWatcherOptions) {}

  /** Where builds of a service with an external repository take their source from. */
  mirrorOf(service: string): string {
    return mirrorPath(this.o.mirrorsRoot, service);
  }

  watch(service: Service): void {
    if (service.repository.kind !== 'external' || this.pollers.has(service.name)) return;
    const poller = new RepositoryPoller({ url: service.repository.url });
    this.pollers.set(service.name, poller);
    void this.start(service, poller);
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

  private async start(service: Service, poller: RepositoryPoller): Promise<void> {
    if (service.repository.kind !== 'external') return;
    try {
      await this.fetch(service.name, service.repository.url);
      await poller.check();
    } catch (error) {
      this.o.logger.warn(
        { service: service.name, err: error },
        'external repository not reachable yet',
      );
    }
    if (this.pollers.get(service.name) !== poller) return;
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
      if ('ignored' in result)
        this.o.logger.info(
          { service: service.name, ref: change.ref, reason: result.ignored },
          'push ignored by trigger',
        );
    }
  }

  /** Creates the mirror on first use, else fetches every branch and tag into it. */
  private async fetch(service: string, url: string): Promise<void> {
    const mirror = this.mirrorOf(service);
    await mkdir(this.o.mirrorsRoot, { recursive: true });
    const args = existsSync(mirror)
      ? ['-C', mirror, 'fetch', '--quiet', '--prune', 'origin']
      : ['clone', '--quiet', '--mirror', '--', url, mirror];
    const result = await runGit(args);
    if (result.exitCode !== 0)
      throw new ExternalServiceError(`cannot fetch ${service}'s repository: ${gitMessage(result)}`);
  }
}
