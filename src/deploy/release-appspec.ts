import { join } from 'node:path';
import type { AppspecContext } from '../config/appspec-check.js';
import {
  APPSPEC_FILE_NAMES,
  loadAppspec,
  type Appspec,
  type FunctionCommand,
} from '../config/appspec.js';
import { ValidationError } from '../shared/errors.js';
import { pathExists } from '../shared/path-exists.js';
import type { LocalAccounts } from './local-accounts.js';
import type { ReleaseSource } from './ports.js';

/** The appspec at the root of a release (appspec.yml, .yaml or .json); none is fine. */
export async function loadReleaseAppspec(directory: string): Promise<Appspec | undefined> {
  for (const name of APPSPEC_FILE_NAMES) {
    const path = join(directory, name);
    if (await pathExists(path)) return loadAppspec(path, name);
  }
  return undefined;
}

/**
 * The appspec of the release being replaced, for its ApplicationStop and BlockTraffic hooks.
 * It was accepted when that release was deployed; if it no longer is (a stricter parser, a
 * release folder gone), those hooks are skipped rather than blocking every later deployment.
 */
export async function previousAppspec(
  releases: ReleaseSource,
  releaseId: string,
): Promise<Appspec | undefined> {
  try {
    return await loadReleaseAppspec(await releases.directory(releaseId));
  } catch (error) {
    if (error instanceof ValidationError) return undefined;
    throw error;
  }
}

/**
 * How an appspec is checked on this machine: its scripts and `files` in `directory` (the
 * release, or a service's own folder for `phoenix validate`), its users and groups looked up
 * in `accounts`, its hook functions mapped by `functionCommands` (or PhoenixCommands).
 */
export function machineContext(
  directory: string,
  accounts: LocalAccounts,
  functionCommands: Readonly<Record<string, FunctionCommand>>,
): AppspecContext {
  return {
    releaseDir: directory,
    revisionPresent: true,
    currentUid: process.getuid?.() ?? 0,
    lookupUser: (name) => accounts.lookupUser(name),
    lookupGroup: (name) => accounts.lookupGroup(name),
    functionCommands,
  };
}
