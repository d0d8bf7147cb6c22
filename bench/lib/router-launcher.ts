import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { z } from 'zod';
import { HttpTrafficRouter } from '../../src/router/http-traffic-router.js';
import { benchScript, ManagedProcess, TSX_NODE_ARGS } from './managed-process.js';
import type { Ownership } from './router-fleet.js';

const execFileAsync = promisify(execFile);

/** The compiled CLI: once it has `phoenix router`, the bench runs the router as users do. */
const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/**
 * How the router process is started: `node dist/cli/main.js router` when the compiled CLI
 * has that command, otherwise bench/lib/router-process.ts (startRouter) under tsx.
 */
export type RouterLauncher = { kind: 'cli'; cli: string } | { kind: 'script' };

export async function chooseRouterLauncher(): Promise<RouterLauncher> {
  try {
    // Commander answers `--help` for an unknown command too: look for it in the list.
    const { stdout } = await execFileAsync(process.execPath, [CLI, '--help']);
    return /^ {2}router\b/m.test(stdout) ? { kind: 'cli', cli: CLI } : { kind: 'script' };
  } catch {
    return { kind: 'script' };
  }
}

export function describeLauncher(launcher: RouterLauncher): string {
  return launcher.kind === 'cli'
    ? 'node dist/cli/main.js router --admin-port 0'
    : 'node --import tsx bench/lib/router-process.ts (startRouter; dist/ has no `router` command)';
}

/** Where the router process said it was, on its own clock (the script only). */
export interface StartPhases {
  processStartAt: number;
  importedAt: number;
  readyAt: number;
}

export interface RouterProcess {
  process: ManagedProcess;
  admin: HttpTrafficRouter;
  phases: StartPhases | undefined;
}

const scriptReadyLine = z.object({
  ready: z.literal(true),
  adminUrl: z.string(),
  processStartAt: z.number(),
  importedAt: z.number(),
  readyAt: z.number(),
});

/**
 * The router as its own process, with `PHOENIX_HOME` = `home`: it restores its routing table
 * from `<home>/router` and uses the admin token the bench wrote there. `cpuProfileDirectory`
 * runs it under `node --cpu-prof` (the profile is written when it exits after SIGTERM).
 */
export async function startRouterProcess(
  options: {
    launcher: RouterLauncher;
    home: string;
    token: string;
    cpuProfileDirectory?: string;
  } & Ownership,
): Promise<RouterProcess> {
  const { launcher, home, token } = options;
  const stateDirectory = join(home, 'router');
  await writeToken(stateDirectory, token);
  const profile =
    options.cpuProfileDirectory === undefined
      ? []
      : ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDirectory];
  const script = [...TSX_NODE_ARGS, benchScript('router-process.ts')];
  const child = await ManagedProcess.start({
    label: 'router',
    command: process.execPath,
    args: [
      ...profile,
      ...(launcher.kind === 'cli' ? [launcher.cli, 'router', '--admin-port', '0'] : script),
    ],
    env: {
      ...process.env,
      PHOENIX_HOME: home,
      PHOENIX_ROUTER_STATE: stateDirectory,
      PHOENIX_ROUTER_TOKEN: token,
    },
    ready:
      launcher.kind === 'cli' ? /Phoenix router \S*(http:\/\/[\d.]+:\d+)/ : /^\{"ready":true.*\}$/m,
    signal: options.signal,
    processes: options.processes,
  });
  if (launcher.kind === 'cli') {
    const url = child.readyMatch?.[1] ?? '';
    return { process: child, admin: new HttpTrafficRouter({ url, token }), phases: undefined };
  }
  const line = scriptReadyLine.parse(JSON.parse(child.readyMatch?.[0] ?? '{}'));
  return {
    process: child,
    admin: new HttpTrafficRouter({ url: line.adminUrl, token }),
    phases: line,
  };
}

/**
 * `phoenix router` reads its admin token from `<home>/router/admin-token` (creating one when
 * the file is missing): the bench writes its own there first, as `phoenix server` would.
 */
async function writeToken(stateDirectory: string, token: string): Promise<void> {
  await mkdir(stateDirectory, { recursive: true, mode: 0o700 });
  await writeFile(join(stateDirectory, 'admin-token'), `${token}\n`, { mode: 0o600 });
}
