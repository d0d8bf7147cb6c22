import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const NPM_REGISTRY = 'https://registry.npmjs.org/';
const PROBE_TIMEOUT_MS = 10_000;
const LOCK_TIMEOUT_MS = 5 * 60 * 1000;

/** A HEAD request for one package, so a bench can skip, not fail, without the registry. */
export async function npmRegistryReachable(): Promise<boolean> {
  try {
    const response = await fetch(new URL('lodash', NPM_REGISTRY), {
      method: 'HEAD',
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    return response.ok;
  } catch {
    return false;
  }
}

export function packageJson(name: string, dependencies: Readonly<Record<string, string>>): string {
  return `${JSON.stringify({ name, version: '1.0.0', private: true, dependencies }, null, 2)}\n`;
}

/**
 * Resolves a package.json's dependencies into a package-lock.json, in `directory`, before any
 * timing. It runs with a HOME and npm cache of its own, so neither the host's ~/.npmrc shapes
 * the lock file nor this step warms a cache that a timed build could use.
 */
export async function resolveLockFile(directory: string, manifest: string): Promise<string> {
  await mkdir(join(directory, 'home'), { recursive: true });
  await writeFile(join(directory, 'package.json'), manifest);
  await execFileAsync('npm', ['install', '--package-lock-only', '--no-audit', '--no-fund'], {
    cwd: directory,
    timeout: LOCK_TIMEOUT_MS,
    env: {
      PATH: process.env['PATH'],
      HOME: join(directory, 'home'),
      npm_config_cache: join(directory, 'npm-cache'),
      npm_config_update_notifier: 'false',
    },
  });
  return readFile(join(directory, 'package-lock.json'), 'utf8');
}
