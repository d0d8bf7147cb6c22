import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { memoryBackedFolder } from '../../src/build/build-paths.js';
import { median } from './stats.js';

const execFileAsync = promisify(execFile);

/** `tar -tf` of an archive of many small files prints a line for each. */
const LIST_MAX_BUFFER = 64 * 1024 * 1024;
/** Skip restoring owners, modes and modification times: three fewer system calls per file. */
const LEAN_TAR_FLAGS = ['--no-same-owner', '--no-same-permissions', '-m'];

/** A folder to extract into: its file system is what is measured. */
export interface ExtractTarget {
  label: string;
  parent: string;
}

/** Options added in front of `-xf`. */
export interface ExtractFlags {
  label: string;
  flags: readonly string[];
}

export interface ExtractTiming {
  target: string;
  flags: string;
  medianMs: number;
  minMs: number;
  maxMs: number;
}

export interface ArchiveShape {
  bytes: number;
  /** Files, folders and links, as `tar -tf` lists them. */
  entries: number;
}

export async function describeArchive(archive: string): Promise<ArchiveShape> {
  const { stdout } = await execFileAsync('tar', ['-tf', archive], { maxBuffer: LIST_MAX_BUFFER });
  const entries = stdout.split('\n').filter((line) => line !== '').length;
  return { bytes: (await stat(archive)).size, entries };
}

/**
 * Times a cache restore's extraction on the disk of `diskFolder` and in memory (/dev/shm when
 * writable), with tar's default options and with the lean ones.
 */
export function timeRestoreExtraction(options: {
  archive: string;
  diskFolder: string;
  repetitions: number;
}): Promise<ExtractTiming[]> {
  const targets: ExtractTarget[] = [{ label: 'build folder disk', parent: options.diskFolder }];
  const memory = memoryBackedFolder();
  if (memory !== undefined) targets.push({ label: memory, parent: memory });
  return timeExtraction({
    archive: options.archive,
    targets,
    flagSets: [
      { label: 'tar -xf', flags: [] },
      { label: `tar ${LEAN_TAR_FLAGS.join(' ')} -xf`, flags: LEAN_TAR_FLAGS },
    ],
    repetitions: options.repetitions,
  });
}

/**
 * Times `tar <flags> -xf archive` into a new, empty folder, as a cache restore does, for every
 * target and set of flags. Each repetition runs every combination once, so a burst of other
 * activity on the machine touches all of them alike; the folder is removed after each one,
 * as a build's workspace is.
 */
export async function timeExtraction(options: {
  archive: string;
  targets: readonly ExtractTarget[];
  flagSets: readonly ExtractFlags[];
  repetitions: number;
}): Promise<ExtractTiming[]> {
  const folders: string[] = [];
  try {
    for (const target of options.targets) {
      folders.push(await mkdtemp(join(target.parent, 'phoenix-bench-extract-')));
    }
    const samples = new Map<string, number[]>();
    for (let repetition = 0; repetition < options.repetitions; repetition++) {
      for (const [index, folder] of folders.entries()) {
        for (const flags of options.flagSets) {
          const ms = await extractOnce(options.archive, join(folder, 'x'), flags.flags);
          const id = `${index}\0${flags.label}`;
          samples.set(id, [...(samples.get(id) ?? []), ms]);
        }
      }
    }
    return options.targets.flatMap((target, index) =>
      options.flagSets.map((flags) => {
        const values = samples.get(`${index}\0${flags.label}`) ?? [];
        return {
          target: target.label,
          flags: flags.label,
          medianMs: median(values),
          minMs: Math.min(...values),
          maxMs: Math.max(...values),
        };
      }),
    );
  } finally {
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  }
}

/** Wall time of one tar process, spawn included, then the folder is removed untimed. */
async function extractOnce(
  archive: string,
  destination: string,
  flags: readonly string[],
): Promise<number> {
  await mkdir(destination);
  const started = performance.now();
  await execFileAsync('tar', [...flags, '-xf', archive, '-C', destination]);
  const elapsed = performance.now() - started;
  await rm(destination, { recursive: true, force: true });
  return elapsed;
}
