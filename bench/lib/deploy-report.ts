import {
  analyse,
  STALL_MS,
  type Analysis,
  type KillRecord,
  type Traffic,
  type ZeroDowntimeResults,
  type ZeroDowntimeSettings,
} from './deploy-analysis.js';
import type { Teardown } from './deploy-stack.js';
import { countByPhase, KILL, STEADY, type Attributed, type Stall } from './failure-windows.js';
import type { LogRecord } from './logged-process.js';
import { formatMachine, type Machine } from './machine.js';
import { median, round } from './stats.js';
import { formatTable, type Cell } from './table.js';

/** A log line's own keys, printed apart from its fields. */
const LOG_ENVELOPE = new Set(['level', 'time', 'msg']);
/** Warnings listed one by one (all are counted). */
const LISTED_PROBLEMS = 20;

/** The tables people read, then the one JSON line the README quotes. */
export function printReport(
  machine: Machine,
  settings: ZeroDowntimeSettings,
  results: ZeroDowntimeResults,
  teardown: Teardown,
): void {
  const analysis = analyse(results, settings);
  printHeader(machine, settings, results);
  printTraffic(analysis);
  printDeployments(results, analysis);
  printKills(results.kills, analysis);
  printAttributed('Failed requests, by where they happened', analysis.attributed);
  printStalls(analysis.stalls);
  printAttributed(
    'Router retries (an attempt failed and the request went to another target), by where',
    mergeDeployments(analysis.retries),
  );
  printProblems('Router warnings and errors', analysis.routerProblems);
  printProblems('Server warnings and errors', analysis.serverProblems);
  console.log(
    `Teardown: ${teardown.instancesStopped} instances stopped with SIGTERM, ${teardown.leftovers.length} leftover instance processes SIGKILLed`,
  );
  console.log(JSON.stringify(summary(machine, settings, results, analysis, teardown)));
}

function printHeader(
  machine: Machine,
  settings: ZeroDowntimeSettings,
  results: ZeroDowntimeResults,
): void {
  console.log(
    'Zero downtime: `phoenix router` and `phoenix server` processes, blue/green deployments and SIGKILLed instances under load',
  );
  console.log(formatMachine(machine));
  console.log(
    `Load: bench/lib/load-generator.ts, ${settings.connections} keep-alive connections, GET / on the production listener :${settings.productionPort}, each request sent when the last one ended`,
  );
  console.log(
    `App: ${settings.instances} instances per release, health check every 500 ms, blue/green with a test listener, bake ${settings.bakeMs} ms`,
  );
  if (results.error !== undefined) console.log(`\nTHE RUN STOPPED EARLY: ${results.error}`);
  console.log('');
}

function printTraffic(analysis: Analysis): void {
  const { periods, total } = analysis;
  console.log(
    formatTable(
      [
        'traffic',
        's',
        'requests',
        'req/s',
        'non-2xx',
        'socket errors',
        'p50 ms',
        'p99 ms',
        'max ms',
        `stalls ≥${STALL_MS} ms`,
        'longest ms',
      ],
      periods.map(trafficRow),
    ),
  );
  const met = total.non2xx + total.socketErrors === 0;
  console.log(
    `Total: ${total.requests} requests, ${total.non2xx} non-2xx, ${total.socketErrors} socket errors (target 0 and 0: ${met ? 'met' : 'NOT MET'}). A stall is a stretch with no 2xx on any connection: slow, not failed`,
  );
  console.log('');
  console.log('CPU, cores busy (CPU seconds per second) in each period:');
  const cell = (value: number): string => value.toFixed(2);
  const rows: [string, (traffic: Traffic) => number][] = [
    ['phoenix router', (traffic) => traffic.cpu.router],
    ['phoenix server and its instances', (traffic) => traffic.cpu.server],
    ['load generator', (traffic) => traffic.cpu.loadGenerator],
    ['bench (polling the API, the router, /proc)', (traffic) => traffic.cpu.bench],
    ['other processes on the machine', (traffic) => traffic.cpu.other],
    ['idle', (traffic) => traffic.cpu.idle],
  ];
  console.log(
    formatTable(
      ['', ...periods.map((period) => period.label.replace(/ \(.*\)$/, ''))],
      rows.map(([label, pick]) => [label, ...periods.map((period) => cell(pick(period)))]),
    ),
  );
  console.log('');
}

function trafficRow(traffic: Traffic): Cell[] {
  return [
    traffic.label,
    traffic.seconds.toFixed(1),
    traffic.requests,
    Math.round(traffic.requests / traffic.seconds),
    traffic.non2xx,
    traffic.socketErrors,
    traffic.p50Ms.toFixed(2),
    traffic.p99Ms.toFixed(2),
    traffic.maxMs.toFixed(1),
    traffic.stalls,
    traffic.longestGapMs.toFixed(0),
  ];
}

function printDeployments(results: ZeroDowntimeResults, analysis: Analysis): void {
  const { deployments } = results;
  const right = deployments.length - analysis.wrongVersion.length;
  console.log(
    `Deployments: ${deployments.length} blue/green in a row, alternating releases #1 and #2: ${analysis.succeeded} succeeded, ${deployments.length - analysis.succeeded} failed; ${right} of ${deployments.length} served the deployed version right after`,
  );
  if (deployments.length > 0) {
    const row = (label: string, values: readonly number[]): Cell[] => [
      label,
      median(values).toFixed(0),
      Math.min(...values).toFixed(0),
      Math.max(...values).toFixed(0),
    ];
    console.log(
      formatTable(
        ['step (server timeline)', 'median ms', 'min ms', 'max ms'],
        [
          ...[...analysis.phases].map(([kind, values]) => row(`  ${kind}`, values)),
          row('whole deployment (created → finished)', analysis.durationsMs),
        ],
      ),
    );
  }
  for (const { number, deployment } of deployments) {
    if (deployment.status === 'succeeded') continue;
    console.log(
      `  deployment ${number} (${deployment.id}) ${deployment.status}: ${deployment.reason ?? 'no reason given'}`,
    );
  }
  for (const sample of analysis.wrongVersion) {
    console.log(
      `  after deployment ${sample.number}, production answered ${JSON.stringify(sample.served)}, not ${sample.expected}`,
    );
  }
  console.log('');
}

function printKills(kills: readonly KillRecord[], analysis: Analysis): void {
  console.log(
    `Kills: SIGKILL of one instance of the serving release between deployments, ${kills.length} ${kills.length === 1 ? 'time' : 'times'}; the runtime restarts it. Times from the SIGKILL`,
  );
  if (kills.length === 0) return;
  const header = [
    'kill',
    'after deployment',
    'release',
    'instance',
    'pid (comm)',
    'restarted ms',
    'serving ms',
    'router unhealthy ms',
    'router healthy ms',
    'router retries',
    'failed requests',
  ];
  console.log(
    formatTable(
      header,
      kills.map((kill) => killRow(kill, analysis)),
    ),
  );
  console.log('');
}

function killRow(kill: KillRecord, analysis: Analysis): Cell[] {
  const label = `kill ${kill.number}`;
  const since = (at: number | undefined): string =>
    at === undefined ? 'never' : (at - kill.killedAt).toFixed(0);
  return [
    kill.number,
    kill.afterDeployment,
    `#${kill.releaseNumber}`,
    `${kill.index} (${kill.instanceId.slice(0, 8)})`,
    `${kill.pid} (${kill.command})`,
    since(kill.restartedAt),
    since(kill.servingAt),
    since(kill.routerUnhealthyAt),
    since(kill.routerHealthyAt),
    describeCounts(analysis.retries.filter((row) => row.label === label)),
    describeCounts(analysis.attributed.filter((row) => row.label === label)),
  ];
}

function printAttributed(title: string, rows: readonly Attributed[]): void {
  if (rows.length === 0) {
    console.log(`${title}: none`);
    return;
  }
  console.log(`${title}:`);
  console.log(
    formatTable(
      ['where', 'kind', 'count'],
      rows.map((row) => [row.label, row.kind, row.count]),
    ),
  );
}

function printStalls(stalls: readonly Stall[]): void {
  const title = `Stalls during the run (${STALL_MS} ms or more with no 2xx on any connection), by where`;
  if (stalls.length === 0) {
    console.log(`${title}: none`);
    return;
  }
  console.log(`${title}:`);
  console.log(
    formatTable(
      ['where', 'ms'],
      stalls.map((stall) => [stall.label, stall.ms.toFixed(0)]),
    ),
  );
}

/**
 * Per deployment, the retries tell the same story every time: deployment steps are summed
 * over the deployments (`deployments: drain-previous`); kills stay one by one.
 */
function mergeDeployments(rows: readonly Attributed[]): Attributed[] {
  const merged = new Map<string, Attributed>();
  for (const row of rows) {
    const label =
      row.phase === KILL || row.phase === STEADY ? row.label : `deployments: ${row.phase}`;
    const key = `${label}\0${row.kind}`;
    const entry = merged.get(key) ?? { ...row, label, count: 0 };
    entry.count += row.count;
    merged.set(key, entry);
  }
  return [...merged.values()];
}

function printProblems(
  title: string,
  problems: readonly { record: LogRecord; label: string }[],
): void {
  if (problems.length === 0) {
    console.log(`${title}: none`);
    return;
  }
  const listed = problems.length > LISTED_PROBLEMS ? `, the first ${LISTED_PROBLEMS}` : '';
  console.log(`${title}: ${problems.length}${listed}`);
  for (const { record, label } of problems.slice(0, LISTED_PROBLEMS)) {
    const fields = Object.entries(record).filter(([key]) => !LOG_ENVELOPE.has(key));
    console.log(
      `  ${new Date(record.time).toISOString()} [${label}] ${record.msg} ${JSON.stringify(Object.fromEntries(fields))}`,
    );
  }
}

function describeCounts(rows: readonly Attributed[]): string {
  if (rows.length === 0) return '0';
  return rows.map((row) => `${row.count} ${row.kind}`).join(', ');
}

function summary(
  machine: Machine,
  settings: ZeroDowntimeSettings,
  results: ZeroDowntimeResults,
  analysis: Analysis,
  teardown: Teardown,
): Record<string, unknown> {
  const { total, durationsMs } = analysis;
  const counted = (rows: readonly Attributed[], label: string): number =>
    rows.filter((row) => row.label === label).reduce((sum, row) => sum + row.count, 0);
  const stallPhases: Record<string, number> = {};
  for (const stall of analysis.stalls)
    stallPhases[stall.phase] = (stallPhases[stall.phase] ?? 0) + 1;
  return {
    bench: 'zero-downtime',
    machine,
    connections: settings.connections,
    instances: settings.instances,
    bakeMs: settings.bakeMs,
    error: results.error ?? null,
    targetMet: total.non2xx + total.socketErrors === 0 && results.error === undefined,
    ...total,
    failures: analysis.failures,
    failuresByPhase: countByPhase(analysis.attributed),
    periods: analysis.periods.map((period) => ({
      label: period.label,
      seconds: round(period.seconds),
      requests: period.requests,
      requestsPerSecond: round(period.requests / period.seconds),
      non2xx: period.non2xx,
      socketErrors: period.socketErrors,
      p50Ms: round(period.p50Ms),
      p99Ms: round(period.p99Ms),
      maxMs: round(period.maxMs),
      stalls: period.stalls,
      longestGapMs: round(period.longestGapMs),
      cpuCores: Object.fromEntries(
        Object.entries(period.cpu).map(([who, cores]) => [who, round(cores)]),
      ),
    })),
    stallMinMs: STALL_MS,
    runStallsByPhase: stallPhases,
    deployments: {
      total: results.deployments.length,
      succeeded: analysis.succeeded,
      failed: results.deployments.length - analysis.succeeded,
      wrongVersionAfter: analysis.wrongVersion.length,
      medianMs: durationsMs.length === 0 ? null : round(median(durationsMs)),
      minMs: durationsMs.length === 0 ? null : Math.min(...durationsMs),
      maxMs: durationsMs.length === 0 ? null : Math.max(...durationsMs),
      stepMedianMs: Object.fromEntries(
        [...analysis.phases].map(([kind, values]) => [kind, round(median(values))]),
      ),
    },
    kills: results.kills.map((kill) => ({
      afterDeployment: kill.afterDeployment,
      release: kill.releaseNumber,
      restartMs: round(kill.restartedAt - kill.killedAt),
      servingMs: round(kill.servingAt - kill.killedAt),
      routerHealthyMs: round(kill.routerHealthyAt - kill.killedAt),
      failed: counted(analysis.attributed, `kill ${kill.number}`),
      routerRetries: counted(analysis.retries, `kill ${kill.number}`),
    })),
    routerRetriesByPhase: countByPhase(analysis.retries),
    routerWarnings: analysis.routerProblems.length,
    serverWarnings: analysis.serverProblems.length,
    leftoverProcesses: teardown.leftovers.length,
  };
}
