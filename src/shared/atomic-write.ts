import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';

/**
 * Replaces `path` with `text` so that after a crash the file holds the old content or the
 * new, never part of one: write a temporary file beside it, fsync it, rename it over the
 * file, fsync the folder. Synchronous: a small file, written on a rare change, and two
 * writes in one process can never interleave.
 */
export function writeFileAtomically(path: string, text: string, mode = 0o600): void {
  const directory = dirname(path);
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(directory, { recursive: true });
    const file = openSync(temporary, 'w', mode);
    try {
      writeFileSync(file, text);
      fsyncSync(file);
    } finally {
      closeSync(file);
    }
    renameSync(temporary, path);
    syncDirectory(directory);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** Makes a rename durable; some file systems refuse to fsync a folder, which is then as durable as they allow. */
function syncDirectory(directory: string): void {
  const handle = openSync(directory, 'r');
  try {
    fsyncSync(handle);
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? error.code : undefined;
    if (code !== 'EINVAL' && code !== 'EISDIR') throw error;
  } finally {
    closeSync(handle);
  }
}
