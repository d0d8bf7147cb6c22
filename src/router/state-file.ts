import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PlatformError } from '../shared/errors.js';
import { emptyRouterState, parseRouterState, type RouterState } from './router-state.js';

export const STATE_FILE_NAME = 'routes.json';

/**
 * The routing table on disk. A save writes a temporary file, fsyncs it, renames it over
 * `routes.json` and fsyncs the directory: after a crash the file holds either the old or
 * the new table, never half of one.
 *
 * Saves are synchronous on purpose. Each asynchronous fs call waits for a turn of the event
 * loop, and under load (200 concurrent proxied requests) the eight calls of a save took
 * about 100 ms, delaying every weight change, rollbacks included. Done in one go, a save
 * holds the loop for the fsyncs alone (a few ms), once per routing change. Being
 * synchronous, saves also never interleave.
 */
export class StateFile {
  private sequence = 0;

  constructor(readonly path: string) {}

  static in(directory: string): StateFile {
    return new StateFile(join(directory, STATE_FILE_NAME));
  }

  /** The saved table; an empty one when there is no file yet. A damaged file is an error. */
  async load(): Promise<RouterState> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return emptyRouterState();
      throw new PlatformError(`cannot read the routing table ${this.path}`, { cause: error });
    }
    try {
      return parseRouterState(JSON.parse(text));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new PlatformError(`the routing table ${this.path} is damaged: ${reason}`, {
        cause: error,
      });
    }
  }

  save(state: RouterState): void {
    const directory = dirname(this.path);
    const temporary = `${this.path}.${process.pid}.${++this.sequence}.tmp`;
    try {
      mkdirSync(directory, { recursive: true });
      const file = openSync(temporary, 'w', 0o600);
      try {
        writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`);
        fsyncSync(file);
      } finally {
        closeSync(file);
      }
      renameSync(temporary, this.path);
      syncDirectory(directory);
    } catch (error) {
      removeQuietly(temporary);
      throw new PlatformError(`cannot save the routing table ${this.path}`, { cause: error });
    }
  }
}

/** Makes the rename itself durable. Some file systems refuse to fsync a directory: then the rename is as durable as they allow. */
function syncDirectory(directory: string): void {
  const handle = openSync(directory, 'r');
  try {
    fsyncSync(handle);
  } catch (error) {
    if (!isErrno(error, 'EINVAL') && !isErrno(error, 'EISDIR')) throw error;
  } finally {
    closeSync(handle);
  }
}

function removeQuietly(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // The save already failed; that error is the one to report.
  }
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && 'code' in error && error.code === code;
}
