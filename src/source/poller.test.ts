import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commitFiles, git, gitRepo, tempDir } from '../../test/support/git-fixture.js';
import { FakeClock } from '../shared/clock.js';
import { ConflictError, ExternalServiceError, ValidationError } from '../shared/errors.js';
import { parseLsRemote, RepositoryPoller } from './poller.js';
import type { RefChange } from './ref-changes.js';

const ZERO = '0'.repeat(40);

/** The next call of a callback, as a promise. */
class Deferred<T> {
  promise: Promise<T>;
  resolve!: (value: T) => void;

  constructor() {
    this.promise = new Promise((resolve) => {
      this.resolve = resolve;
    });
  }
}

/** One turn of the event loop: every continuation already queued has run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('RepositoryPoller', () => {
  let dir: ReturnType<typeof tempDir>;
  let remote: string;
  let work: string;

  beforeEach(() => {
    dir = tempDir();
    remote = join(dir.path, 'external.git');
    work = join(dir.path, 'work');
    execFileSync('git', ['init', '-q', '--bare', remote]);
  });

  afterEach(() => dir.remove());

  function push(...args: string[]): void {
    git(work, 'push', '-q', remote, ...args);
  }

  describe.each([
    ['a local path', (path: string) => path],
    ['a file:// URL', (path: string) => pathToFileURL(path).href],
  ])('against %s', (_name, toUrl) => {
    it('learns the refs first, then reports created, updated and deleted refs', async () => {
      const first = gitRepo(work, { 'a.txt': 'a' });
      push('main');
      const poller = new RepositoryPoller({ url: toUrl(remote) });

      const baseline = await poller.check();
      const second = commitFiles(work, { 'b.txt': 'b' });
      git(work, 'branch', 'feature', first);
      git(work, 'tag', '-a', '-m', 'release', 'v1.0.0', first);
      push('main', 'feature', 'v1.0.0');
      const changed = await poller.check();
      push('--delete', 'feature');
      const deleted = await poller.check();
      const unchanged = await poller.check();

      expect(baseline).toEqual([]);
      expect(changed).toEqual([
        { ref: 'refs/heads/feature', before: ZERO, after: first },
        { ref: 'refs/heads/main', before: first, after: second },
        { ref: 'refs/tags/v1.0.0', before: ZERO, after: first },
      ]);
      expect(deleted).toEqual([{ ref: 'refs/heads/feature', before: first, after: ZERO }]);
      expect(unchanged).toEqual([]);
      expect(poller.lastSeen()).toEqual(
        new Map([
          ['refs/heads/main', second],
          ['refs/tags/v1.0.0', first],
        ]),
      );
    });
  });

  it('compares with refs seen before a restart', async () => {
    const first = gitRepo(work, { 'a.txt': 'a' });
    push('main');
    const second = commitFiles(work, { 'b.txt': 'b' });
    push('main');
    const poller = new RepositoryPoller({
      url: remote,
      lastSeen: new Map([
        ['refs/heads/main', first],
        ['refs/heads/gone', first],
      ]),
    });

    const changes = await poller.check();

    expect(changes).toEqual([
      { ref: 'refs/heads/gone', before: first, after: ZERO },
      { ref: 'refs/heads/main', before: first, after: second },
    ]);
  });

  it('polls on the injected clock and hands changes over', async () => {
    const first = gitRepo(work, { 'a.txt': 'a' });
    push('main');
    const poller = new RepositoryPoller({
      url: remote,
      lastSeen: new Map([['refs/heads/main', first]]),
    });
    const clock = new FakeClock();
    let delivered = new Deferred<RefChange[]>();
    poller.start({
      intervalMs: 60_000,
      clock,
      onChanges: (changes) => delivered.resolve(changes),
    });
    const second = commitFiles(work, { 'b.txt': 'b' });
    push('main');

    clock.advance(59_999);
    const pendingBeforeDue = clock.pendingTimers();
    clock.advance(1);
    const pendingWhileChecking = clock.pendingTimers();
    const changes = await delivered.promise;
    await settle();
    const pendingAfterCheck = clock.pendingTimers();
    delivered = new Deferred<RefChange[]>();
    const third = commitFiles(work, { 'c.txt': 'c' });
    push('main');
    clock.advance(60_000);
    const next = await delivered.promise;
    poller.stop();

    expect(pendingBeforeDue).toBe(1);
    expect(pendingWhileChecking).toBe(0);
    expect(changes).toEqual([{ ref: 'refs/heads/main', before: first, after: second }]);
    expect(pendingAfterCheck).toBe(1);
    expect(next).toEqual([{ ref: 'refs/heads/main', before: second, after: third }]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('reports a failed check and keeps polling', async () => {
    const poller = new RepositoryPoller({ url: join(dir.path, 'missing.git') });
    const clock = new FakeClock();
    const failed = new Deferred<unknown>();
    poller.start({
      intervalMs: 1000,
      clock,
      onChanges: () => undefined,
      onError: (error) => failed.resolve(error),
    });

    clock.advance(1000);
    const error = await failed.promise;
    await settle();

    expect(error).toBeInstanceOf(ExternalServiceError);
    expect(clock.pendingTimers()).toBe(1);
    poller.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('drops what a check finds after stop, so that it is reported again', async () => {
    const first = gitRepo(work, { 'a.txt': 'a' });
    push('main');
    const poller = new RepositoryPoller({
      url: remote,
      lastSeen: new Map([['refs/heads/main', first]]),
    });
    const clock = new FakeClock();
    const delivered: RefChange[][] = [];
    poller.start({ intervalMs: 1000, clock, onChanges: (changes) => void delivered.push(changes) });
    const second = commitFiles(work, { 'b.txt': 'b' });
    push('main');

    clock.advance(1000);
    poller.stop();
    const changes = await poller.check();

    expect(changes).toEqual([{ ref: 'refs/heads/main', before: first, after: second }]);
    expect(delivered).toEqual([]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('refuses to start twice, and stops quietly when not started', () => {
    const poller = new RepositoryPoller({ url: remote });
    const clock = new FakeClock();
    poller.stop();
    poller.start({ intervalMs: 1000, clock, onChanges: () => undefined });

    expect(() => poller.start({ intervalMs: 1000, clock, onChanges: () => undefined })).toThrow(
      ConflictError,
    );
    poller.stop();
    poller.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  it.each(['--upload-pack=touch /tmp/pwned', 'ext::sh -c touch% /tmp/pwned', 'relative/x.git'])(
    'refuses the URL %j before running git',
    (url) => {
      expect(() => new RepositoryPoller({ url })).toThrow(ValidationError);
    },
  );

  it('keeps credentials out of its errors', async () => {
    const poller = new RepositoryPoller({ url: 'http://phoenix:s3cr3t@127.0.0.1:1/shop.git' });

    const failure = poller.check();

    await expect(failure).rejects.toThrow(ExternalServiceError);
    await expect(failure).rejects.not.toThrow(/s3cr3t/);
  });
});

describe('parseLsRemote', () => {
  it('peels annotated tags and skips lines that are not refs', () => {
    const commit = 'c'.repeat(40);
    const tag = 'd'.repeat(40);
    const output = [
      `${commit}\trefs/heads/main`,
      `${tag}\trefs/tags/v1`,
      `${commit}\trefs/tags/v1^{}`,
      `${commit}\trefs/tags/light`,
      'warning: redirecting to https://example.com/',
      '',
    ].join('\n');

    expect(parseLsRemote(output)).toEqual(
      new Map([
        ['refs/heads/main', commit],
        ['refs/tags/v1', commit],
        ['refs/tags/light', commit],
      ]),
    );
  });
});
