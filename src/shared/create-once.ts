import { randomBytes } from 'node:crypto';
import { link, mkdir, open, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Creates `path` with `text` (mode 0600) unless it exists; answers whether this call made
 * it. The text is written and synced to a temp file in the same folder, then linked into
 * place: `link` fails with EEXIST when another process got there first, so two processes
 * starting at once agree on one file, and a reader never sees a partial one. Other errors
 * are thrown as they are.
 */
export async function createOnce(path: string, text: string): Promise<boolean> {
  const folder = dirname(path);
  await mkdir(folder, { recursive: true, mode: 0o700 });
  const temp = join(folder, `.${basename(path)}.${process.pid}.${randomBytes(8).toString('hex')}`);
  try {
    await writeSynced(temp, text);
    await link(temp, path);
    return true;
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(temp, { force: true });
  }
}

async function writeSynced(path: string, text: string): Promise<void> {
  const file = await open(path, 'wx', 0o600);
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
}
