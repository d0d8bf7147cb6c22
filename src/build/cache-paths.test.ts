import { describe, expect, it } from 'vitest';
import type { CacheSpec } from '../config/buildspec.js';
import { CachePathError, cacheDirectories } from './cache-paths.js';

function spec(paths: string[]): CacheSpec {
  return {
    key: undefined,
    fallbackKeys: [],
    action: 'restore-and-save',
    paths,
    location: { file: 'buildspec.yml', line: 3, column: 1 },
  };
}

describe('cacheDirectories', () => {
  const where = { root: '/work/src', home: '/work/home' };

  it.each([
    ['node_modules/**/*', 'node_modules', '/work/src/node_modules'],
    ['.gradle/wrapper/**/*', '.gradle/wrapper', '/work/src/.gradle/wrapper'],
    ['./vendor/', 'vendor', '/work/src/vendor'],
    ['package-lock.json', 'package-lock.json', '/work/src/package-lock.json'],
    ['a/../b/*.txt', 'b', '/work/src/b'],
    ['~/.npm/**/*', '~/.npm', '/work/home/.npm'],
    ['$HOME/.m2/**/*', '~/.m2', '/work/home/.m2'],
    ['${HOME}/.cache/pip/**/*', '~/.cache/pip', '/work/home/.cache/pip'],
  ])('%s caches %s', (pattern, path, absolute) => {
    expect(cacheDirectories(spec([pattern]), where)).toMatchObject([{ path, absolute }]);
  });

  it('keeps only the outermost of nested folders', () => {
    const found = cacheDirectories(spec(['node_modules/.cache/**/*', 'node_modules/**/*']), where);

    expect(found.map((directory) => directory.path)).toEqual(['node_modules']);
  });

  it.each([
    '/etc/**',
    '/root/.m2/**/*',
    '../x',
    'vendor/../../x',
    '~/../x',
    '~other/x',
    '**/*',
    '~/*',
  ])('refuses %s', (pattern) => {
    const attempt = (): unknown => cacheDirectories(spec(['vendor', pattern]), where);

    expect(attempt).toThrow(CachePathError);
    expect(attempt).toThrow(expect.objectContaining({ path: pattern, reason: expect.any(String) }));
  });
});
