import type { Command } from 'commander';
import pc from 'picocolors';
import { adminTokenPath, ensureAdminToken, routerDirectory } from '../router/admin-token.js';
import type { ListenerState } from '../router/router-state.js';
import { DEFAULT_ADMIN_HOST, DEFAULT_ADMIN_PORT, startRouter } from '../router/router.js';
import { StateFile } from '../router/state-file.js';
import { phoenixHome } from '../shared/home.js';
import { createLogger } from '../shared/logger.js';
import { wholeNumber } from './api-command.js';

/** How long requests in flight get to finish when the router stops. */
export const ROUTER_STOP_GRACE_MS = 10_000;

interface RouterOptions {
  adminPort?: number;
  adminHost?: string;
}

/** `phoenix router`: the data plane, a process of its own so that no deploy or restart of the server drops a request. */
export function registerRouterCommand(program: Command): void {
  program
    .command('router')
    .description(
      "run the router: environments' listeners, routed to releases as deployments direct",
    )
    .option(
      '--admin-port <n>',
      `port of the admin API the server drives it through (default ${DEFAULT_ADMIN_PORT})`,
      wholeNumber(0, 65_535),
    )
    .option('--admin-host <address>', `address of the admin API (default ${DEFAULT_ADMIN_HOST})`)
    .action(async (options: RouterOptions) => {
      process.exitCode = await runRouter(options);
    });
}

async function runRouter(options: RouterOptions): Promise<number> {
  const home = phoenixHome();
  const stateDirectory = routerDirectory(home);
  const adminToken = await ensureAdminToken(adminTokenPath(home));
  const restored = await StateFile.in(stateDirectory).load();
  const router = await startRouter({
    stateDirectory,
    adminPort: options.adminPort ?? DEFAULT_ADMIN_PORT,
    adminToken,
    logger: createLogger(),
    ...(options.adminHost === undefined ? {} : { adminHost: options.adminHost }),
  });
  const out = process.stdout;
  const listeners = [...restored.listeners].sort((a, b) => a.name.localeCompare(b.name));
  out.write(`Phoenix router ${pc.bold(router.adminUrl)} (routes in ${stateDirectory})\n`);
  out.write(
    listeners.length === 0
      ? 'No listeners yet: deployments add them\n'
      : `Restored ${listeners.length} listener${listeners.length === 1 ? '' : 's'}, by name:\n${listeners.map(formatListener).join('\n')}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  out.write('Stopping: requests in flight finish, then the listeners close\n');
  await router.close({ graceMs: ROUTER_STOP_GRACE_MS });
  return 0;
}

/** `  shop-dev  :18080  → shop-dev-2 100%` */
export function formatListener(listener: ListenerState): string {
  const routed = listener.split.filter((entry) => entry.weight > 0);
  const to =
    routed.length === 0
      ? 'nothing yet'
      : routed.map((entry) => `${entry.group} ${entry.weight}%`).join(', ');
  const address = `${listener.host ?? ''}:${listener.port}`;
  return `  ${listener.name}  ${address}  → ${to}`;
}
