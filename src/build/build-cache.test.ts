import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CacheAction, CacheSpec } from '../config/buildspec.js';
import type { CacheResult } from './build-result.js';
import { BuildCache } from './build-cache.js';
import type { CacheLocation } from './cache-paths.js';

let scratch: string;
let clock: number;
let cache: BuildCache;

beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'phoenix-cache-'));
  clock = Date.UTC(2026, 0, 1);
  cache = new BuildCache({ directory: join(scratch, 'cache'), now: () => clock });
});

afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function spec(
  paths: string[],
  options: { key?: string; action?: CacheAction; fallbackKeys?: string[] } = {},
): CacheSpec {
  return {
    key: options.key,
    fallbackKeys: options.fallbackKeys ?? [],
    action: options.action ?? 'restore-and-save',
    paths,
    location: { file: 'buildspec.yml', line: 3, column: 1 },
  };
}

/** A fresh source folder and HOME, as each build gets. */
async function workspace(name: string): Promise<CacheLocation> {
  const where = { root: join(scratch, name, 'src'), home: join(scratch, name, 'home') };
  await mkdir(where.root, { recursive: true });
  await mkdir(where.home, { recursive: true });
  return where;
}

async function put(path: string, content: string, mode = 0o644): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
  await chmod(path, mode);
}

/** Every entry below `folder`: content, link target, or `dir`, plus the executable bit. */
async function tree(folder: string): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  async function walk(relative: string): Promise<void> {
    for (const name of await readdir(join(folder, relative))) {
      const path = relative === '' ? name : `${relative}/${name}`;
      const stats = await lstat(join(folder, path));
      if (stats.isSymbolicLink()) found[path] = `-> ${await readlink(join(folder, path))}`;
      else if (stats.isDirectory()) {
        found[path] = 'dir';
        await walk(path);
      } else {
        const executable = (stats.mode & 0o111) !== 0 ? ' (x)' : '';
        found[path] = `${await readFile(join(folder, path), 'utf8')}${executable}`;
      }
    }
  }
  await walk('');
  return found;
}

const nothing: CacheResult = { restore: 'miss', saved: false };

describe('BuildCache', () => {
  it('misses, saves, then restores the exact files into a fresh build', async () => {
    const first = await workspace('first');
    await put(join(first.root, 'node_modules/left-pad/lib/index.js'), 'module.exports = 1;');
    await put(join(first.root, 'node_modules/.bin/tool'), '#!/bin/sh\necho hi\n', 0o755);
    await symlink('../left-pad/lib/index.js', join(first.root, 'node_modules/.bin/pad'));
    await put(join(first.root, 'app.js'), 'not cached');
    const paths = spec(['node_modules/**/*'], { key: 'npm-1' });

    const missed = await cache.restore(paths, 'npm-1', [], first);
    const saved = await cache.save(paths, 'npm-1', first, missed);
    const second = await workspace('second');
    await put(join(second.root, 'app.js'), 'kept');
    const hit = await cache.restore(paths, 'npm-1', [], second);

    expect(missed).toEqual({ key: 'npm-1', restore: 'miss', saved: false });
    expect(saved).toMatchObject({ restore: 'miss', saved: true, savedKey: 'npm-1' });
    expect(hit).toEqual({ key: 'npm-1', restore: 'hit', restoredKey: 'npm-1', saved: false });
    expect(await tree(join(second.root, 'node_modules'))).toEqual(
      await tree(join(first.root, 'node_modules')),
    );
    expect(await tree(join(second.root, 'node_modules'))).toMatchObject({
      '.bin/tool': '#!/bin/sh\necho hi\n (x)',
      '.bin/pad': '-> ../left-pad/lib/index.js',
      'left-pad/lib/index.js': 'module.exports = 1;',
    });
    expect(await readFile(join(second.root, 'app.js'), 'utf8')).toBe('kept');
  });

  it('never updates a keyed cache once saved', async () => {
    const where = await workspace('build');
    const paths = spec(['vendor/**/*'], { key: 'deps' });
    await put(join(where.root, 'vendor/lib.txt'), 'v1');
    await cache.save(paths, 'deps', where, nothing);
    await put(join(where.root, 'vendor/lib.txt'), 'v2');

    const again = await cache.save(paths, 'deps', where, nothing);
    const fresh = await workspace('fresh');
    await cache.restore(paths, 'deps', [], fresh);

    expect(again.saved).toBe(false);
    expect(again.note).toContain('never updated');
    expect(await readFile(join(fresh.root, 'vendor/lib.txt'), 'utf8')).toBe('v1');
  });

  it('restores the newest cache matching the first fallback prefix that matches', async () => {
    const where = await workspace('build');
    const paths = spec(['vendor/**/*'], { key: 'npm-new' });
    for (const [key, savedAt] of [
      ['npm-bbb', 1],
      ['npm-aaa', 2],
      ['yarn-zzz', 3],
    ] as const) {
      clock = savedAt;
      await put(join(where.root, 'vendor/which.txt'), key);
      await cache.save(spec(['vendor/**/*'], { key }), key, where, nothing);
    }
    const fresh = await workspace('fresh');

    const result = await cache.restore(paths, 'npm-new', ['pip-', 'npm-', 'yarn-'], fresh);

    expect(result).toMatchObject({ restore: 'fallback-hit', restoredKey: 'npm-aaa' });
    expect(await readFile(join(fresh.root, 'vendor/which.txt'), 'utf8')).toBe('npm-aaa');
  });

  it('never saves when the action is restore', async () => {
    const where = await workspace('build');
    await put(join(where.root, 'vendor/lib.txt'), 'v1');

    const result = await cache.save(
      spec(['vendor'], { action: 'restore' }),
      undefined,
      where,
      nothing,
    );
    const later = await cache.restore(spec(['vendor']), undefined, [], await workspace('fresh'));

    expect(result).toMatchObject({ saved: false, note: 'cache action is restore' });
    expect(later.restore).toBe('miss');
  });

  it('never restores when the action is save', async () => {
    const where = await workspace('build');
    await put(join(where.root, 'vendor/lib.txt'), 'v1');
    await cache.save(spec(['vendor'], { key: 'k' }), 'k', where, nothing);
    const fresh = await workspace('fresh');

    const result = await cache.restore(
      spec(['vendor'], { key: 'k', action: 'save' }),
      'k',
      [],
      fresh,
    );

    expect(result.restore).toBe('skipped');
    expect(await readdir(fresh.root)).toEqual([]);
  });

  it('does not match a cache saved with another paths list', async () => {
    const where = await workspace('build');
    await put(join(where.root, 'vendor/lib.txt'), 'v1');
    await cache.save(spec(['vendor/**/*'], { key: 'k' }), 'k', where, nothing);
    const other = spec(['vendor/**/*', 'tools/**/*'], { key: 'k' });

    const exact = await cache.restore(other, 'k', ['k'], await workspace('fresh'));
    const reordered = await cache.restore(
      spec(['vendor/**/*'], { key: 'k' }),
      'k',
      [],
      await workspace('again'),
    );

    expect(exact.restore).toBe('miss');
    expect(reordered.restore).toBe('hit');
  });

  it('caches ~/ paths from and into the build HOME', async () => {
    const where = await workspace('build');
    await put(join(where.home, '.npm/_cacache/index'), 'npm cache');
    await put(join(where.root, '.npm/decoy'), 'not this one');
    const paths = spec(['~/.npm/**/*'], { key: 'home' });
    await cache.save(paths, 'home', where, nothing);
    const fresh = await workspace('fresh');

    await cache.restore(paths, 'home', [], fresh);

    expect(await tree(join(fresh.home, '.npm'))).toEqual({
      _cacache: 'dir',
      '_cacache/index': 'npm cache',
    });
    expect(await readdir(fresh.root)).toEqual([]);
  });

  it('overwrites the unkeyed default cache on each save', async () => {
    const where = await workspace('build');
    const paths = spec(['vendor/**/*']);
    await put(join(where.root, 'vendor/lib.txt'), 'v1');
    await cache.save(paths, undefined, where, nothing);
    clock += 1000;
    await put(join(where.root, 'vendor/lib.txt'), 'v2');

    const second = await cache.save(paths, undefined, where, nothing);
    const fresh = await workspace('fresh');
    const restored = await cache.restore(paths, undefined, [], fresh);

    expect(second.saved).toBe(true);
    expect(restored).toEqual({
      key: undefined,
      restore: 'hit',
      restoredKey: undefined,
      saved: false,
    });
    expect(await readFile(join(fresh.root, 'vendor/lib.txt'), 'utf8')).toBe('v2');
    expect(await readdir(join(scratch, 'cache/entries'))).toHaveLength(1);
  });

  it('lets exactly one of two concurrent saves of a key commit', async () => {
    const one = await workspace('one');
    const two = await workspace('two');
    await put(join(one.root, 'vendor/lib.txt'), 'one');
    await put(join(two.root, 'vendor/lib.txt'), 'two');
    const paths = spec(['vendor'], { key: 'k' });

    const results = await Promise.all([
      cache.save(paths, 'k', one, nothing),
      cache.save(paths, 'k', two, nothing),
    ]);
    const fresh = await workspace('fresh');
    await cache.restore(paths, 'k', [], fresh);

    expect(results.filter((result) => result.saved)).toHaveLength(1);
    expect(['one', 'two']).toContain(await readFile(join(fresh.root, 'vendor/lib.txt'), 'utf8'));
    expect(await readdir(join(scratch, 'cache/tmp'))).toEqual([]);
  });

  it('ignores a half-written entry left by a crash', async () => {
    await mkdir(join(scratch, 'cache/entries/default-crashed'), { recursive: true });
    await writeFile(join(scratch, 'cache/entries/default-crashed/entry.json'), '{"vers');

    const result = await cache.restore(spec(['vendor']), undefined, [], await workspace('fresh'));

    expect(result.restore).toBe('miss');
  });
});
