import { join } from 'node:path';
import { benchScript, ManagedProcess, TSX_NODE_ARGS } from './managed-process.js';
import { startNginx } from './nginx.js';
import type { BenchPorts } from './ports.js';
import type { Variant } from './proxy-throughput.js';
import { configureRoute, startUpstream, type Ownership } from './router-fleet.js';
import { startRouterProcess, type RouterLauncher, type RouterProcess } from './router-launcher.js';

export const DIRECT = 'direct (one upstream)';
export const ROUTER = 'phoenix router';
export const BARE_NODE_PROXY = 'bare node proxy';
const NGINX_WORKERS = [1, 2] as const;

export interface ThroughputFleet {
  router: RouterProcess;
  routerUrl: string;
  variants: Variant[];
}

/**
 * What the throughput table compares, all in processes of their own: two upstreams; the
 * router with a listener that splits 50/50 between two target groups of one upstream each;
 * a bare Node proxy and nginx (1 and 2 workers, when installed) over the same upstreams
 * with the same weights. Direct means the first upstream alone.
 */
export async function startThroughputFleet(
  options: {
    directory: string;
    home: string;
    token: string;
    launcher: RouterLauncher;
    nginx: string | undefined;
    ports: BenchPorts;
  } & Ownership,
): Promise<ThroughputFleet> {
  const { directory, home, token, launcher, ports } = options;
  const ownership: Ownership = { signal: options.signal, processes: options.processes };
  const upstreamPorts = [await ports.next(), await ports.next()];
  const upstreams: ManagedProcess[] = [];
  for (const [index, port] of upstreamPorts.entries()) {
    upstreams.push(await startUpstream({ name: `upstream-${index + 1}`, port, ...ownership }));
  }
  const router = await startRouterProcess({ launcher, home, token, ...ownership });
  const routerPort = await ports.next();
  // Two target groups of one instance each at 50/50: the weighted split nginx also gets.
  await configureRoute(router.admin, {
    listener: 'web',
    port: routerPort,
    groups: upstreamPorts.map((port, index) => ({
      name: `group-${index + 1}`,
      targets: [{ id: `upstream-${index + 1}`, port }],
    })),
    split: upstreamPorts.map((_, index) => ({ group: `group-${index + 1}`, weight: 50 })),
  });
  const routerProcess = router.process;
  const bare = await startBareProxy(await ports.next(), upstreamPorts, ownership);
  const variants: Variant[] = [
    { name: DIRECT, url: url(upstreamPorts[0]), pids: () => pidsOf(upstreams.slice(0, 1)) },
    { name: ROUTER, url: url(routerPort), pids: () => pidsOf([routerProcess]) },
    { name: BARE_NODE_PROXY, url: url(bare.port), pids: () => pidsOf([bare.process]) },
  ];
  if (options.nginx !== undefined) {
    const nginx = { binary: options.nginx, directory, upstreamPorts, ports };
    variants.push(...(await nginxVariants(nginx, ownership)));
  }
  return { router, routerUrl: url(routerPort), variants };
}

/** nginx with 1 worker and with 2, over the same upstreams with equal weights. */
async function nginxVariants(
  options: { binary: string; directory: string; upstreamPorts: number[]; ports: BenchPorts },
  ownership: Ownership,
): Promise<Variant[]> {
  const variants: Variant[] = [];
  for (const workers of NGINX_WORKERS) {
    const port = await options.ports.next();
    const nginx = await startNginx({
      binary: options.binary,
      directory: join(options.directory, `nginx-${workers}`),
      port,
      workerProcesses: workers,
      upstreams: options.upstreamPorts.map((upstream) => ({ port: upstream, weight: 1 })),
      ...ownership,
    });
    variants.push({
      name: `nginx, ${workers} worker${workers === 1 ? '' : 's'}`,
      url: url(port),
      pids: () => pidsOf([nginx]),
    });
  }
  return variants;
}

async function startBareProxy(
  port: number,
  upstreams: readonly number[],
  ownership: Ownership,
): Promise<{ port: number; process: ManagedProcess }> {
  const proxy = await ManagedProcess.start({
    label: BARE_NODE_PROXY,
    command: process.execPath,
    args: [
      ...TSX_NODE_ARGS,
      benchScript('bare-node-proxy.ts'),
      String(port),
      ...upstreams.map(String),
    ],
    ready: /listening on \d+/,
    ...ownership,
  });
  return { port, process: proxy };
}

function url(port: number | undefined): string {
  return `http://127.0.0.1:${port ?? 0}/`;
}

function pidsOf(processes: readonly ManagedProcess[]): number[] {
  return processes.flatMap((child) => child.pid ?? []);
}
