import { access, stat } from 'node:fs/promises';

/** Whether anything is at `path`, following symbolic links; any error counts as no. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Whether `path` is a regular file (following symbolic links); any error counts as no. */
export async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
