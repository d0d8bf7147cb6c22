import type { ProfileSummary } from './cpu-profile.js';
import type { Machine } from './machine.js';
import { formatMachine } from './machine.js';
import { NGINX_INSTALL_HINT } from './nginx.js';
import type { VariantFigures } from './proxy-throughput.js';
import type { RouterProfile } from './router-profile.js';
import type { RestartResult, RestartSample } from './router-restart.js';
import { median, round } from './stats.js';
import { formatTable, type Cell } from './table.js';
import { DIRECT, ROUTER } from './throughput-fleet.js';
import type { ZeroDowntimeResult } from './weight-flips.js';

/** The issue's target: the router reaches at least this share of nginx's throughput. */
export const TARGET_SHARE_OF_NGINX = 0.5;

export interface RouterBenchResults {
  router: string;
  generator: string;
  nginx: string | undefined;
  throughput: VariantFigures[];
  profile: RouterProfile | undefined;
  restart: RestartResult;
  zeroDowntime: ZeroDowntimeResult;
}

/** The settings the report repeats, so that a figure says how it was measured. */
export interface ReportSettings {
  rounds: number;
  seconds: number;
  warmup: number;
  connections: number;
  flipIntervalMs: number;
}

const RESTART_FIGURES: readonly { label: string; key: keyof Omit<RestartSample, 'failures'> }[] = [
  { label: 'SIGKILL → new process spawned', key: 'killToSpawnMs' },
  { label: 'spawned → listening (its ready line read)', key: 'spawnToReadyMs' },
  { label: '  spawned → Node running', key: 'spawnToProcessStartMs' },
  { label: '  Node running → router modules loaded', key: 'processStartToImportedMs' },
  { label: '  modules loaded → listening (routes restored)', key: 'importedToReadyMs' },
  { label: 'SIGKILL → first 2xx through the new process', key: 'killToFirstSuccessMs' },
  { label: 'no 2xx for (last before → first after)', key: 'gapMs' },
];

/** The router against the faster nginx; true when there is no nginx to compare with. */
export function targetMet(throughput: readonly VariantFigures[]): boolean {
  const ratio = nginxRatio(throughput);
  return ratio === undefined || ratio >= TARGET_SHARE_OF_NGINX;
}

function figure(throughput: readonly VariantFigures[], name: string): VariantFigures | undefined {
  return throughput.find((variant) => variant.name === name);
}

function fastestNginx(throughput: readonly VariantFigures[]): VariantFigures | undefined {
  return throughput
    .filter((variant) => variant.name.startsWith('nginx'))
    .reduce<VariantFigures | undefined>(
      (best, variant) =>
        best === undefined || variant.requestsPerSecond > best.requestsPerSecond ? variant : best,
      undefined,
    );
}

function nginxRatio(throughput: readonly VariantFigures[]): number | undefined {
  const router = figure(throughput, ROUTER);
  const nginx = fastestNginx(throughput);
  if (router === undefined || nginx === undefined) return undefined;
  return router.requestsPerSecond / nginx.requestsPerSecond;
}

/** The tables, then the JSON line. */
export function printReport(
  machine: Machine,
  options: ReportSettings,
  results: RouterBenchResults,
): void {
  const { throughput, profile, restart, zeroDowntime } = results;
  console.log("Router: Phoenix's router as its own process, nginx and the upstreams on 127.0.0.1");
  console.log(formatMachine(machine));
  console.log(`Router process: ${results.router}`);
  console.log(`nginx: ${results.nginx ?? `not installed, ${NGINX_INSTALL_HINT}`}`);
  console.log('');
  console.log(
    `Throughput: ${results.generator}, ${options.connections} keep-alive connections, ${options.warmup} s warm-up then ${options.seconds} s per measurement; median of ${options.rounds} rounds, variants rotated`,
  );
  console.log(reportThroughput(throughput));
  console.log('');
  if (profile !== undefined) {
    console.log(reportProfile(profile));
    console.log('');
  }
  console.log(
    `Router restart under load: ${options.connections} connections, SIGKILL then a new process on the same state directory, ${restart.samples.length} times`,
  );
  console.log(reportRestarts(restart));
  console.log('');
  console.log(
    `Zero downtime: ${zeroDowntime.flips} blue/green flips (applyWeights, every ${options.flipIntervalMs} ms) and ${zeroDowntime.kills} SIGKILLed instances under ${options.connections} connections`,
  );
  console.log(reportZeroDowntime(zeroDowntime));
  console.log(JSON.stringify(jsonLine(machine, options, results)));
}

function reportThroughput(throughput: readonly VariantFigures[]): string {
  const router = figure(throughput, ROUTER);
  const rows: Cell[][] = throughput.map((variant) => [
    variant.name,
    Math.round(variant.requestsPerSecond),
    variant.p50Ms.toFixed(2),
    variant.p99Ms.toFixed(2),
    variant.errors,
    router === undefined ? '' : ratio(router.requestsPerSecond / variant.requestsPerSecond),
    variant.cpuPerRequestUs === undefined ? '' : variant.cpuPerRequestUs.toFixed(1),
    variant.coresBusy === undefined ? '' : variant.coresBusy.toFixed(2),
    variant.rounds.map((row) => Math.round(row.requestsPerSecond)).join(' / '),
  ]);
  const header = [
    'variant',
    'req/s',
    'p50 ms',
    'p99 ms',
    'errors',
    'router ÷ this',
    'CPU µs/req',
    'cores busy',
    'req/s per round',
  ];
  const lines = [formatTable(header, rows)];
  const share = nginxRatio(throughput);
  const nginx = fastestNginx(throughput);
  if (share !== undefined && nginx !== undefined) {
    const verdict = share >= TARGET_SHARE_OF_NGINX ? 'met' : 'missed';
    lines.push(
      `Target (router ≥ ${TARGET_SHARE_OF_NGINX} × the faster nginx, ${nginx.name}): ${ratio(share)}, ${verdict}`,
    );
  }
  return lines.join('\n');
}

function reportProfile(profile: RouterProfile): string {
  const { summary, result } = profile;
  const lines = [
    `CPU profile of the router (node --cpu-prof, one ${Math.round(result.seconds)} s measurement: ${Math.round(result.requestsPerSecond)} req/s under the profiler)`,
    formatTable(
      ['where the router process spent its time', 'ms', 'share'],
      summary.areas.map((area) => [area.area, Math.round(area.ms), percent(area.share)]),
    ),
    '',
    formatTable(
      ['top frames by self time', 'area', 'share'],
      summary.topFrames.map((frame) => [frame.frame, frame.area, percent(frame.share)]),
    ),
    '',
    formatTable(
      ['router modules, inclusive (with what they call)', 'share'],
      topRouterFiles(summary).map((file) => [file.file, percent(file.share)]),
    ),
  ];
  return lines.join('\n');
}

function topRouterFiles(summary: ProfileSummary): ProfileSummary['phoenixFiles'] {
  return summary.phoenixFiles.filter((file) => file.share >= 0.005).slice(0, 10);
}

function reportRestarts(restart: RestartResult): string {
  const { samples } = restart;
  const header = ['milliseconds', 'median', 'max', ...samples.map((_, index) => `#${index + 1}`)];
  const rows: Cell[][] = RESTART_FIGURES.flatMap(({ label, key }) => {
    const values = samples.flatMap((sample) => sample[key] ?? []);
    // The CLI does not say when Node started or the modules were loaded.
    if (values.length === 0) return [];
    return [[label, ms(median(values)), ms(Math.max(...values)), ...values.map(ms)]];
  });
  const failed = samples.map((sample) => sumOf(sample.failures));
  rows.push(['failed requests', median(failed), Math.max(...failed), ...failed]);
  const lines = [formatTable(header, rows)];
  for (const [index, sample] of samples.entries()) {
    lines.push(`#${index + 1} failures: ${describeFailures(sample.failures)}`);
  }
  lines.push(
    `Outside the outages: ${restart.successes} requests succeeded; failures: ${describeFailures(restart.otherFailures)}`,
  );
  return lines.join('\n');
}

function reportZeroDowntime(result: ZeroDowntimeResult): string {
  const counters = Object.entries(result.counters)
    .map(
      ([group, c]) =>
        `${group}: ${c.requests} requests, ${c.retries} retried on another target, ${c.upstreamErrors} upstream errors`,
    )
    .join('; ');
  const rows: Cell[][] = [
    ['requests that succeeded', result.successes],
    ['failed requests (non-2xx and socket errors)', result.failed],
    ['  by kind', describeFailures(result.failures)],
    ['req/s', Math.round(result.successes / result.seconds)],
    ['p50 ms', result.p50Ms.toFixed(2)],
    ['p99 ms', result.p99Ms.toFixed(2)],
    ['longest stretch without a 2xx, ms', ms(result.longestGapMs)],
    ['applyWeights call, median ms', ms(result.flipMedianMs)],
  ];
  const verdict = result.failed === 0 ? 'met' : 'missed';
  return [
    formatTable(['figure', 'value'], rows),
    `Router counters: ${counters}`,
    `Target (0 failed requests): ${verdict}`,
  ].join('\n');
}

function jsonLine(machine: Machine, options: ReportSettings, results: RouterBenchResults) {
  const { throughput, profile, restart, zeroDowntime } = results;
  const router = figure(throughput, ROUTER);
  const direct = figure(throughput, DIRECT);
  const nginxShare = nginxRatio(throughput);
  return {
    bench: 'router',
    machine,
    router: results.router,
    generator: results.generator,
    nginx: results.nginx ?? null,
    connections: options.connections,
    seconds: options.seconds,
    rounds: options.rounds,
    throughput: throughput.map((variant) => ({
      name: variant.name,
      requestsPerSecond: Math.round(variant.requestsPerSecond),
      p50Ms: round(variant.p50Ms, 3),
      p99Ms: round(variant.p99Ms, 3),
      errors: variant.errors,
      cpuPerRequestUs:
        variant.cpuPerRequestUs === undefined ? null : round(variant.cpuPerRequestUs, 1),
      coresBusy: variant.coresBusy === undefined ? null : round(variant.coresBusy),
      roundsRequestsPerSecond: variant.rounds.map((row) => Math.round(row.requestsPerSecond)),
    })),
    routerVsDirect:
      router === undefined || direct === undefined
        ? null
        : round(router.requestsPerSecond / direct.requestsPerSecond, 3),
    routerVsNginx: Object.fromEntries(
      throughput
        .filter((variant) => variant.name.startsWith('nginx'))
        .map((variant) => [
          variant.name,
          router === undefined
            ? null
            : round(router.requestsPerSecond / variant.requestsPerSecond, 3),
        ]),
    ),
    targetMet: nginxShare === undefined ? null : nginxShare >= TARGET_SHARE_OF_NGINX,
    profile:
      profile === undefined
        ? null
        : {
            requestsPerSecond: Math.round(profile.result.requestsPerSecond),
            areas: profile.summary.areas.map((area) => ({
              area: area.area,
              share: round(area.share, 3),
            })),
            topFrames: profile.summary.topFrames.map((frame) => ({
              frame: frame.frame,
              share: round(frame.share, 3),
            })),
          },
    restart: {
      samples: restart.samples.map((sample) => ({
        ...Object.fromEntries(
          RESTART_FIGURES.map(({ key }) => {
            const value = sample[key];
            return [key, value === null ? null : round(value)];
          }),
        ),
        failures: sample.failures,
      })),
      killToFirstSuccessMedianMs: round(
        median(restart.samples.map((sample) => sample.killToFirstSuccessMs)),
      ),
      otherFailures: restart.otherFailures,
    },
    zeroDowntime: {
      ...zeroDowntime,
      p50Ms: round(zeroDowntime.p50Ms, 3),
      p99Ms: round(zeroDowntime.p99Ms, 3),
      seconds: round(zeroDowntime.seconds),
      longestGapMs: round(zeroDowntime.longestGapMs),
      flipMedianMs: round(zeroDowntime.flipMedianMs),
    },
  };
}

function describeFailures(failures: Record<string, number>): string {
  const entries = Object.entries(failures).filter(([, count]) => count > 0);
  if (entries.length === 0) return 'none';
  return entries.map(([kind, count]) => `${count} ${kind}`).join(', ');
}

function sumOf(failures: Record<string, number>): number {
  return Object.values(failures).reduce((sum, count) => sum + count, 0);
}

function ratio(value: number): string {
  return `${value.toFixed(2)}×`;
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

function ms(value: number): string {
  return value.toFixed(1);
}
