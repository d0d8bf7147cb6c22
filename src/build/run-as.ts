import { execFile } from 'node:child_process';
import { chown } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { BuildPaths } from './build-paths.js';
import type { RunAs } from './preflight.js';

const run = promisify(execFile);

/** The uid and gid of a local user, or undefined when there is no such user. */
export async function lookupUser(name: string): Promise<RunAs | undefined> {
  try {
    const [{ stdout: uid }, { stdout: gid }] = await Promise.all([
      run('id', ['-u', '--', name]),
      run('id', ['-g', '--', name]),
    ]);
    return { user: name, uid: Number(uid.trim()), gid: Number(gid.trim()) };
  } catch {
    return undefined;
  }
}

/** Hands the build's writable folders to the user the build runs as. */
export async function chownBuildFolders(paths: BuildPaths, user: RunAs): Promise<void> {
  const owner = `${user.uid}:${user.gid}`;
  await run('chown', ['-R', owner, '--', paths.source, paths.home, paths.tmp, paths.state]);
  await chown(paths.root, user.uid, user.gid);
}
