import { copyFile, rename, stat, truncate } from 'node:fs/promises';

export interface LogRotation {
  /** Rotate a log once it is larger than this. */
  maxBytes: number;
  /** Rotated files kept: `log.1` (newest) to `log.<keep>`. */
  keep: number;
  /** How often the sizes are checked. */
  checkIntervalMs: number;
}

export const DEFAULT_LOG_ROTATION: LogRotation = {
  maxBytes: 10 * 1024 * 1024,
  keep: 3,
  checkIntervalMs: 10_000,
};

/**
 * Copy-truncate, because the instance holds the log open (it may outlive us, and we never
 * hold its descriptor): shift `log.N` up, copy `log` to `log.1`, truncate `log`. The instance
 * writes with O_APPEND, so its next write lands at the new end instead of leaving a hole.
 * Bytes written between the copy and the truncate are lost; that window is short.
 * Returns whether the file was rotated.
 */
export async function rotateLogIfLarge(path: string, rotation: LogRotation): Promise<boolean> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return false;
  }
  if (size <= rotation.maxBytes) return false;
  if (rotation.keep < 1) {
    await truncate(path, 0);
    return true;
  }
  for (let n = rotation.keep - 1; n >= 1; n--) {
    try {
      await rename(`${path}.${n}`, `${path}.${n + 1}`);
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }
  await copyFile(path, `${path}.1`);
  await truncate(path, 0);
  return true;
}

function isMissing(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}
