import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../shared/clock.js';
import { silentLogger } from '../shared/logger.js';
import { commitFiles, git, gitRepo, tempDir } from '../../test/support/git-fixture.js';
import type { Service } from '../store/service-repository.js';
import type { SubmitInput, SubmitResult } from './orchestrator.js';
import { SourceWatcher } from './source-watcher.js';

describe('SourceWatcher', () => {
  let dir: ReturnType<typeof tempDir>;
  let upstream: string;
  let work: string;
  let clock: FakeClock;
  let submitted: SubmitInput[];
  let watcher: SourceWatcher;
  let next: (() => void) | undefined;

  function service(): Service {
    return {
      name: 'shop',
      repository: { kind: 'external', url: upstream },
      pollIntervalMs: 30_000,
      defaultBranch: 'main',
      createdAt: new Date(0).toISOString(),
    };
  }

  /** Resolves after the next submission reaches the orchestrator's stand-in. */
  function submission(): Promise<void> {
    return new Promise((resolve) => (next = resolve));
  }

  beforeEach(() => {
    dir = tempDir();
    work = join(dir.path, 'work');
    upstream = join(dir.path, 'upstream.git');
    gitRepo(work, { 'a.txt': 'a' });
    git(dir.path, 'clone', '-q', '--bare', work, upstream);
    git(work, 'remote', 'add', 'origin', upstream);
    clock = new FakeClock();
    submitted = [];
    watcher = newWatcher();
  });

  /** A watcher whose submissions are recorded; a commit it recorded counts as submitted. */
  function newWatcher(): SourceWatcher {
    return new SourceWatcher({
      mirrorsRoot: join(dir.path, 'mirrors'),
      clock,
      logger: silentLogger(),
      submit: async (input): Promise<SubmitResult> => {
        submitted.push(input);
        next?.();
        return { ignored: 'recorded by the test' };
      },
      alreadySubmitted: (_service, ref, commit) =>
        submitted.some((input) => input.ref === ref && input.commit === commit),
    });
  }

  /** Resolves once the watcher has scheduled its first poll. */
  function polling(): Promise<void> {
    return new Promise<void>((resolve) => {
      const check = (): void => (clock.pendingTimers() > 0 ? resolve() : void setImmediate(check));
      check();
    });
  }

  afterEach(() => {
    watcher.stop();
    dir.remove();
  });

  it('mirrors an external repository, then submits what changes at each poll, with the changed paths', async () => {
    const started = new Promise<void>((resolve) => {
      const check = (): void => (clock.pendingTimers() > 0 ? resolve() : void setImmediate(check));
      check();
    });
    watcher.watch(service());
    await started;
    const before = git(work, 'rev-parse', 'HEAD');
    const after = commitFiles(work, { 'src/app.js': 'x', 'docs/readme.md': 'y' });
    git(work, 'push', '-q', 'origin', 'main');
    const arrived = submission();

    clock.advance(30_000);
    await arrived;

    expect(submitted).toEqual([
      expect.objectContaining({
        service: 'shop',
        ref: 'refs/heads/main',
        commit: after,
        trigger: { type: 'poll', actor: 'poller', detail: 'refs/heads/main' },
        changedPaths: ['docs/readme.md', 'src/app.js'],
      }),
    ]);
    expect(git(watcher.mirrorOf('shop'), 'rev-parse', 'main')).toBe(after);
    expect(before).not.toBe(after);
  });

  it('after a restart, builds what was pushed while Phoenix was down', async () => {
    watcher.watch(service());
    await polling();
    watcher.stop();
    const missed = commitFiles(work, { 'b.txt': 'pushed while down' });
    git(work, 'push', '-q', 'origin', 'main');
    watcher = newWatcher();
    watcher.watch(service());
    await polling();
    const arrived = submission();

    clock.advance(30_000);
    await arrived;

    expect(submitted.map((input) => input.commit)).toEqual([missed]);
  });

  it('does not submit again what a webhook already started', async () => {
    watcher.watch(service());
    await polling();
    const pushed = commitFiles(work, { 'c.txt': 'c' });
    git(work, 'push', '-q', 'origin', 'main');
    await watcher.refresh(service());
    submitted.push({
      service: 'shop',
      ref: 'refs/heads/main',
      commit: pushed,
      trigger: { type: 'webhook', actor: 'github' },
    });
    // A second branch, created in the same poll interval, tells the test the poll is done:
    // changes are handled in ref order, so main was handled before it.
    git(work, 'push', '-q', 'origin', 'main:zz-later');
    const arrived = submission();

    clock.advance(30_000);
    await arrived;

    expect(submitted.map((input) => `${input.trigger.type}:${input.ref}`)).toEqual([
      'webhook:refs/heads/main',
      'poll:refs/heads/zz-later',
    ]);
  });

  it('submits nothing for the refs that existed when watching began', async () => {
    const started = new Promise<void>((resolve) => {
      const check = (): void => (clock.pendingTimers() > 0 ? resolve() : void setImmediate(check));
      check();
    });
    watcher.watch(service());
    await started;

    expect(submitted).toEqual([]);
    expect(git(watcher.mirrorOf('shop'), 'rev-parse', 'main')).toBe(git(work, 'rev-parse', 'HEAD'));
  });
});
