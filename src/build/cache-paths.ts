import { isAbsolute, join, posix } from 'node:path';
import fg from 'fast-glob';
import type { CacheSpec } from '../config/buildspec.js';
import { PhoenixError, type SourceLocation } from '../shared/errors.js';
import { isInside } from './file-set.js';

/**
 * Which folders a `cache:` section names. Phoenix caches whole folders: each path's leading
 * non-glob part (`node_modules/**\/*` → `node_modules`), relative to the build's source
 * folder, or to its own HOME for `~/…` and `$HOME/…`.
 */
export interface CacheLocation {
  /** The build's source folder. */
  root: string;
  /** The build's own HOME folder. */
  home: string;
}

export type CacheBase = 'source' | 'home';

export interface CacheDirectory {
  /** As shown to users: `node_modules`, `~/.npm`. */
  path: string;
  absolute: string;
  base: CacheBase;
  /** Inside its base folder, with `/` separators. */
  relative: string;
}

/** A cache path Phoenix refuses: outside the source and HOME folders, or naming no folder. */
export class CachePathError extends PhoenixError {
  readonly code = 'validation';

  constructor(
    readonly path: string,
    readonly reason: string,
    readonly location?: SourceLocation,
  ) {
    super(`cache path ${path}: ${reason}`);
  }
}

/** The folders a cache spec names, outermost only, in a stable order. */
export function cacheDirectories(spec: CacheSpec, where: CacheLocation): CacheDirectory[] {
  const found: CacheDirectory[] = [];
  for (const path of spec.paths) {
    const directory = cacheDirectory(path, where);
    if (typeof directory === 'string') throw new CachePathError(path, directory, spec.location);
    found.push(directory);
  }
  found.sort((a, b) => (a.absolute < b.absolute ? -1 : a.absolute > b.absolute ? 1 : 0));
  const outermost: CacheDirectory[] = [];
  for (const directory of found) {
    const covered = outermost.some(
      (kept) => kept.base === directory.base && isInside(kept.absolute, directory.absolute),
    );
    if (!covered) outermost.push(directory);
  }
  return outermost;
}

/** The directory for one path, or why it is refused. */
function cacheDirectory(path: string, where: CacheLocation): CacheDirectory | string {
  const pattern = path.trim().replace(/\\/g, '/');
  const home = /^(?:~|\$HOME|\$\{HOME\})(?:\/|$)/.exec(pattern);
  if (home === null && pattern.startsWith('~')) {
    return "only the build's own HOME is reachable; write ~/ followed by a path";
  }
  if (home === null && isAbsolute(pattern)) {
    const hint = pattern.startsWith('/root/') ? ' (for /root/… write ~/…)' : '';
    return `absolute paths are outside the build's source and HOME folders${hint}`;
  }
  const base: CacheBase = home === null ? 'source' : 'home';
  const rest = home === null ? pattern : pattern.slice(home[0].length);
  const fixed: string[] = [];
  for (const segment of rest.split('/')) {
    if (segment !== '' && fg.isDynamicPattern(segment)) break;
    fixed.push(segment);
  }
  const relative = posix.normalize(fixed.join('/') || '.').replace(/\/+$/, '');
  if (relative === '..' || relative.startsWith('../') || isAbsolute(relative)) {
    return `the path leaves the build's ${base === 'home' ? 'HOME' : 'source'} folder`;
  }
  if (relative === '.' || relative === '') {
    return 'it names no folder before its first wildcard; Phoenix caches whole folders';
  }
  const folder = baseFolder(base, where);
  const absolute = join(folder, relative);
  if (!isInside(folder, absolute)) return `the path leaves the build's ${base} folder`;
  return { path: base === 'home' ? `~/${relative}` : relative, absolute, base, relative };
}

/** The folder a cached path is relative to. */
export function baseFolder(base: CacheBase, where: CacheLocation): string {
  return base === 'home' ? where.home : where.root;
}
