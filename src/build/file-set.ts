import { lstat, readlink, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, normalize, posix, relative, sep } from 'node:path';
import fg from 'fast-glob';

/**
 * The file selection CodeBuild uses for artifacts, reports and caches: globs relative to a
 * base directory (itself possibly a glob), minus exclusions, optionally flattened.
 * Nothing outside the root folder is ever selected.
 */
export interface FileSetSpec {
  baseDirectory?: string;
  files: readonly string[];
  excludePaths?: readonly string[];
  discardPaths?: boolean;
  /** Keep symbolic links as links instead of reading what they point to. */
  keepSymlinks?: boolean;
}

export interface MatchedFile {
  /** The file on disk (the link itself when kept as a link). */
  absolutePath: string;
  /** Its path inside the output, with `/` separators. */
  outputPath: string;
  /** Set when the entry is kept as a symbolic link. */
  linkTarget?: string;
}

/** Thrown when a pattern or a matched file would leave the root folder. */
export class PathEscapeError extends Error {
  constructor(
    readonly pattern: string,
    readonly reason: string,
  ) {
    super(`${pattern}: ${reason}`);
    this.name = 'PathEscapeError';
  }
}

/** Why a pattern cannot be used inside the root, or undefined when it is fine. */
export function patternEscape(pattern: string): string | undefined {
  if (isAbsolute(pattern) || pattern.startsWith('~')) {
    return "absolute paths are outside the build's source folder; use a path relative to it";
  }
  const normalized = posix.normalize(pattern.replace(/\\/g, '/'));
  if (normalized === '..' || normalized.startsWith('../'))
    return "the path leaves the build's source folder";
  return undefined;
}

export async function matchFiles(root: string, spec: FileSetSpec): Promise<MatchedFile[]> {
  const realRoot = await realpath(root);
  for (const pattern of [spec.baseDirectory ?? '.', ...spec.files, ...(spec.excludePaths ?? [])]) {
    const reason = patternEscape(pattern);
    if (reason !== undefined) throw new PathEscapeError(pattern, reason);
  }
  const bases = await baseDirectories(realRoot, spec.baseDirectory);
  const matched: MatchedFile[] = [];
  for (const base of bases) {
    const entries = await fg(
      spec.files.map((pattern) => stripDotSlash(pattern)),
      {
        cwd: base,
        dot: true,
        // With followSymbolicLinks off, fast-glob reports a link as neither file nor folder;
        // take every entry, mark folders, and drop them, so links reach describe().
        onlyFiles: false,
        markDirectories: true,
        followSymbolicLinks: false,
        ignore: (spec.excludePaths ?? []).map(stripDotSlash),
        unique: true,
      },
    );
    entries.sort();
    for (const entry of entries) {
      if (entry.endsWith('/')) continue;
      const file = await describe(realRoot, join(base, entry), entry, spec);
      if (file !== undefined) matched.push(file);
    }
  }
  // Two base directories may hold the same relative path: both are returned, and callers
  // that write to one output folder decide whether that is a conflict.
  return matched;
}

async function describe(
  root: string,
  absolutePath: string,
  entry: string,
  spec: FileSetSpec,
): Promise<MatchedFile | undefined> {
  const outputPath = spec.discardPaths ? posix.basename(entry) : entry;
  const stats = await lstat(absolutePath);
  if (stats.isSymbolicLink()) {
    if (spec.keepSymlinks)
      return { absolutePath, outputPath, linkTarget: await readlink(absolutePath) };
    const target = await realpath(absolutePath);
    if (!isInside(root, target)) {
      throw new PathEscapeError(
        entry,
        `is a symbolic link to ${target}, outside the build's source folder`,
      );
    }
    // A link to a folder is not followed (a link cycle would never end); its files are
    // selected through their real path when the patterns reach it.
    if ((await stat(target)).isDirectory()) return undefined;
    return { absolutePath: target, outputPath };
  }
  return { absolutePath, outputPath };
}

async function baseDirectories(root: string, baseDirectory: string | undefined): Promise<string[]> {
  if (baseDirectory === undefined || baseDirectory === '' || baseDirectory === '.') return [root];
  const pattern = stripDotSlash(baseDirectory).replace(/\/+$/, '');
  if (!fg.isDynamicPattern(pattern)) return [join(root, normalize(pattern))];
  const directories = await fg(pattern, {
    cwd: root,
    dot: true,
    onlyDirectories: true,
    followSymbolicLinks: false,
  });
  return directories.sort().map((directory) => join(root, directory));
}

export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

function stripDotSlash(pattern: string): string {
  return pattern.replace(/^\.\/+/, '');
}
