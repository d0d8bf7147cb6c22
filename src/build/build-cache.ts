import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import {
  link,
  lstat,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { CacheSpec } from '../config/buildspec.js';
import { PlatformError } from '../shared/errors.js';
import type { CacheOutcome, CacheResult } from './build-result.js';
import {
  baseFolder,
  cacheDirectories,
  type CacheBase,
  type CacheDirectory,
  type CacheLocation,
} from './cache-paths.js';

/** How often a restore looks again when the entry it chose was replaced meanwhile. */
const RESTORE_ATTEMPTS = 3;
/** tar prints little; this only bounds a flood of warnings. */
const TAR_MAX_BUFFER = 16 * 1024 * 1024;

const entrySchema = z.object({
  key: z.string().optional(),
  version: z.string(),
  savedAt: z.string(),
  size: z.number(),
  archives: z.array(z.enum(['source', 'home'])),
});

type EntryIndex = z.infer<typeof entrySchema>;

interface Entry extends EntryIndex {
  id: string;
}

/**
 * CodeBuild's `cache:` section on one machine. Phoenix caches whole folders, as
 * `cacheDirectories` finds them.
 *
 * Layout below `directory` (one per project):
 *   entries/<id>/entry.json   key, version, savedAt, size, archives
 *   entries/<id>/source.tar   cached folders of the source folder (uncompressed, relative)
 *   entries/<id>/home.tar     cached folders of the build's HOME
 *   tmp/<unique>/             staging; renaming it into entries/ is the commit
 *
 * An entry is visible only once complete, so a crash never leaves a cache that matches.
 * Concurrent builds may save and restore at once: a keyed entry's name derives from its key
 * (the first rename wins, later ones are no-ops), the unkeyed default cache gets a fresh
 * name each save and older defaults are removed after the commit. Restoring hard-links the
 * archives first, so an entry removed meanwhile is either restored whole or not at all.
 */
export class BuildCache {
  private readonly directory: string;
  private readonly now: () => number;

  constructor(options: { directory: string; now?: () => number }) {
    this.directory = options.directory;
    this.now = options.now ?? Date.now;
  }

  /** Restores the exact key, else the newest entry starting with each fallback key in turn. */
  async restore(
    spec: CacheSpec,
    key: string | undefined,
    fallbackKeys: readonly string[],
    where: CacheLocation,
  ): Promise<CacheResult> {
    const directories = cacheDirectories(spec, where);
    if (spec.action === 'save') {
      return { key, restore: 'skipped', saved: false, note: 'cache action is save' };
    }
    if (directories.length === 0) {
      return { key, restore: 'skipped', saved: false, note: 'cache lists no paths' };
    }
    const version = cacheVersion(spec.paths);
    for (let attempt = 0; attempt < RESTORE_ATTEMPTS; attempt++) {
      const match = findEntry(await this.entries(), version, key, fallbackKeys);
      if (match === undefined) return { key, restore: 'miss', saved: false };
      if (await this.extract(match.entry, where)) {
        return { key, restore: match.outcome, restoredKey: match.entry.key, saved: false };
      }
    }
    return { key, restore: 'miss', saved: false, note: 'the cache was replaced while restoring' };
  }

  /** Saves unless the action is `restore` or a keyed entry exists: keyed caches never change. */
  async save(
    spec: CacheSpec,
    key: string | undefined,
    where: CacheLocation,
    previous: CacheResult,
  ): Promise<CacheResult> {
    const directories = cacheDirectories(spec, where);
    const unsaved = (note: string): CacheResult => ({
      ...previous,
      saved: false,
      note: joinNotes(previous.note, note),
    });
    if (spec.action === 'restore') return unsaved('cache action is restore');
    const version = cacheVersion(spec.paths);
    const id = key === undefined ? `default-${randomUUID()}` : keyedId(version, key);
    if (key !== undefined && (await exists(join(this.entriesDirectory(), id)))) {
      return unsaved(`cache ${key} exists; a keyed cache is never updated`);
    }
    const present = await existing(directories);
    if (present.length === 0) return unsaved('none of the cache paths exist');
    const savedAt = new Date(this.now()).toISOString();
    const committed = await this.write(id, { key, version, savedAt, present, where });
    if (!committed) return unsaved('another build saved this cache first');
    if (key === undefined) await this.removeOlderDefaults({ id, savedAt });
    return { ...previous, saved: true, savedKey: key };
  }

  private async write(
    id: string,
    options: {
      key?: string;
      version: string;
      savedAt: string;
      present: CacheDirectory[];
      where: CacheLocation;
    },
  ): Promise<boolean> {
    const staging = await this.temporary();
    try {
      const archives: CacheBase[] = [];
      let size = 0;
      for (const [base, directories] of groupByBase(options.present)) {
        const archive = join(staging, `${base}.tar`);
        const folder = baseFolder(base, options.where);
        // `./` keeps a folder named like an option (`-x`) from being read as one.
        await tar(['-cf', archive, '-C', folder, ...directories.map((d) => `./${d.relative}`)]);
        size += (await stat(archive)).size;
        archives.push(base);
      }
      const index = {
        key: options.key,
        version: options.version,
        savedAt: options.savedAt,
        size,
        archives,
      } satisfies EntryIndex;
      await writeFile(join(staging, 'entry.json'), `${JSON.stringify(index)}\n`);
      await mkdir(this.entriesDirectory(), { recursive: true });
      return await commit(staging, join(this.entriesDirectory(), id));
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  /** False when the entry vanished before its archives could be pinned. */
  private async extract(entry: Entry, where: CacheLocation): Promise<boolean> {
    const pinned = await this.temporary();
    try {
      for (const base of entry.archives) {
        const source = join(this.entriesDirectory(), entry.id, `${base}.tar`);
        if (!(await linkIfPresent(source, join(pinned, `${base}.tar`)))) return false;
      }
      for (const base of entry.archives) {
        const folder = baseFolder(base, where);
        await mkdir(folder, { recursive: true });
        await tar(['-xf', join(pinned, `${base}.tar`), '-C', folder]);
      }
      return true;
    } finally {
      await rm(pinned, { recursive: true, force: true });
    }
  }

  private async removeOlderDefaults(saved: { id: string; savedAt: string }): Promise<void> {
    for (const entry of await this.entries()) {
      if (entry.key !== undefined || entry.id === saved.id || isNewer(entry, saved)) continue;
      // Renamed away first, so no restore lists it while its files disappear.
      const trash = await this.temporary();
      try {
        await commit(join(this.entriesDirectory(), entry.id), join(trash, 'entry'));
      } finally {
        await rm(trash, { recursive: true, force: true });
      }
    }
  }

  private async entries(): Promise<Entry[]> {
    let names: string[];
    try {
      names = await readdir(this.entriesDirectory());
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return [];
      throw error;
    }
    const entries: Entry[] = [];
    for (const id of names) {
      const index = await readIndex(join(this.entriesDirectory(), id, 'entry.json'));
      if (index !== undefined) entries.push({ ...index, id });
    }
    return entries;
  }

  private async temporary(): Promise<string> {
    const path = join(this.directory, 'tmp', randomUUID());
    await mkdir(path, { recursive: true });
    return path;
  }

  private entriesDirectory(): string {
    return join(this.directory, 'entries');
  }
}

/** Caches saved with another paths list never match; the order of the list does not matter. */
function cacheVersion(paths: readonly string[]): string {
  return createHash('sha256')
    .update(JSON.stringify([...paths].sort()))
    .digest('hex');
}

function keyedId(version: string, key: string): string {
  return `key-${createHash('sha256').update(`${version}\0${key}`).digest('hex')}`;
}

function findEntry(
  entries: readonly Entry[],
  version: string,
  key: string | undefined,
  fallbackKeys: readonly string[],
): { entry: Entry; outcome: CacheOutcome } | undefined {
  const usable = entries.filter((entry) => entry.version === version);
  if (key === undefined) {
    const entry = newest(usable.filter((candidate) => candidate.key === undefined));
    return entry === undefined ? undefined : { entry, outcome: 'hit' };
  }
  const exact = usable.find((entry) => entry.key === key);
  if (exact !== undefined) return { entry: exact, outcome: 'hit' };
  for (const prefix of fallbackKeys) {
    const entry = newest(usable.filter((candidate) => candidate.key?.startsWith(prefix)));
    if (entry !== undefined) return { entry, outcome: 'fallback-hit' };
  }
  return undefined;
}

function newest(entries: readonly Entry[]): Entry | undefined {
  let best: Entry | undefined;
  for (const entry of entries) {
    if (best === undefined || isNewer(entry, best)) best = entry;
  }
  return best;
}

/** Later savedAt wins; the id breaks ties so every process picks the same entry. */
function isNewer(a: { id: string; savedAt: string }, b: { id: string; savedAt: string }): boolean {
  return a.savedAt === b.savedAt ? a.id > b.id : a.savedAt > b.savedAt;
}

function groupByBase(directories: readonly CacheDirectory[]): Map<CacheBase, CacheDirectory[]> {
  const groups = new Map<CacheBase, CacheDirectory[]>();
  for (const directory of directories) {
    groups.set(directory.base, [...(groups.get(directory.base) ?? []), directory]);
  }
  return groups;
}

async function existing(directories: readonly CacheDirectory[]): Promise<CacheDirectory[]> {
  const present: CacheDirectory[] = [];
  for (const directory of directories) {
    if (await exists(directory.absolute)) present.push(directory);
  }
  return present;
}

async function readIndex(path: string): Promise<EntryIndex | undefined> {
  try {
    const parsed = entrySchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    // Removed meanwhile, or not Phoenix's: such an entry never matches.
    return undefined;
  }
}

/**
 * Renames `from` to `to`; false when `to` already exists (another build committed first)
 * or `from` is gone (another build removed it first).
 */
async function commit(from: string, to: string): Promise<boolean> {
  try {
    await rename(from, to);
    return true;
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOENT') return false;
    throw error;
  }
}

async function linkIfPresent(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
    return true;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

function tar(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('tar', args, { maxBuffer: TAR_MAX_BUFFER }, (error, _stdout, stderr) => {
      if (error === null) {
        resolve();
        return;
      }
      const detail = stderr.trim() === '' ? error.message : stderr.trim();
      reject(new PlatformError(`tar ${args[0] ?? ''} failed: ${detail}`, { cause: error }));
    });
  });
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}

function joinNotes(first: string | undefined, second: string): string {
  return first === undefined ? second : `${first}; ${second}`;
}
