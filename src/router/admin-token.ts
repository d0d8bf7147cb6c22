import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createOnce } from '../shared/create-once.js';
import { PlatformError } from '../shared/errors.js';
import { MIN_ADMIN_TOKEN_LENGTH } from './router.js';

/** `phoenix router` keeps its routing table under `<PHOENIX_HOME>/router`. */
export function routerDirectory(home: string): string {
  return join(home, 'router');
}

/** The router's admin token, shared by `phoenix router` and `phoenix server` through this file. */
export function adminTokenPath(home: string): string {
  return join(routerDirectory(home), 'admin-token');
}

/**
 * The admin token in `path`, created (32 random bytes, hex, mode 0600) by whichever of the
 * router and the control plane starts first. The token is written and synced to a temp file
 * in the same folder, then linked into place: `link` fails with EEXIST when another process
 * got there first (its token is read instead), and a reader never sees a partial file.
 */
export async function ensureAdminToken(path: string): Promise<string> {
  const token = randomBytes(32).toString('hex');
  try {
    if (await createOnce(path, `${token}\n`)) return token;
  } catch (error) {
    throw new PlatformError(`cannot create the router admin token ${path}`, { cause: error });
  }
  return readAdminToken(path);
}

async function readAdminToken(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new PlatformError(`cannot read the router admin token ${path}`, { cause: error });
  }
  const token = text.trim();
  if (token.length < MIN_ADMIN_TOKEN_LENGTH) {
    // Written by hand, or half-written by a crash before the sync: a new one needs a person.
    throw new PlatformError(
      `the router admin token in ${path} is shorter than ${MIN_ADMIN_TOKEN_LENGTH} characters: remove the file and start phoenix router again`,
    );
  }
  return token;
}
