import type { Teardown } from './deploy-stack.js';
import { formatMachine, type Machine } from './machine.js';
import {
  summarise,
  type RunSample,
  type ScenarioSummary,
  type Spread,
} from './self-healing-analysis.js';
import type { RollbackRun } from './self-healing-run.js';
import {
  BLUE_GREEN_STRATEGY,
  CANARY_STRATEGY,
  LATENCY_ALARM,
  type LatencySettings,
  type Scenario,
} from './self-healing-scenarios.js';
import { round } from './stats.js';
import { formatTable, type Cell } from './table.js';

export interface SelfHealingSettings {
  connections: number;
  instances: number;
  productionPort: number;
  baselineSeconds: number;
  warmupMs: number;
  steadyMs: number;
}

export interface Baseline {
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  failed: number;
}

export interface ScenarioResult {
  scenario: Scenario;
  releaseNumber: number;
  runs: RollbackRun[];
  samples: RunSample[];
  /** Why the scenario stopped before its last run, when it did. */
  stoppedEarly: string | undefined;
}

export interface SelfHealingResults {
  baseline: Baseline | undefined;
  latency: LatencySettings | undefined;
  scenarios: ScenarioResult[];
  /** Warnings and errors the router and the server logged, by message. */
  routerWarnings: Record<string, number>;
  serverWarnings: Record<string, number>;
  /** Why the bench stopped early, when it did: the figures cover what ran until then. */
  error: string | undefined;
}

/** The tables people read, then the one JSON line the README quotes. */
export function printReport(
  machine: Machine,
  settings: SelfHealingSettings,
  results: SelfHealingResults,
  teardown: Teardown,
): void {
  const summaries = results.scenarios.map((result) =>
    summarise(result.scenario.name, result.samples),
  );
  printHeader(machine, settings, results);
  const rollbacks = results.scenarios.filter((r) => r.scenario.expectedStatus === 'rolled-back');
  const crashes = results.scenarios.filter((r) => r.scenario.expectedStatus === 'failed');
  const summaryOf = (result: ScenarioResult): ScenarioSummary =>
    summaries[results.scenarios.indexOf(result)] ?? summarise(result.scenario.name, []);
  if (rollbacks.length > 0) {
    printDetection(rollbacks, summaryOf);
    printRollback(rollbacks, summaryOf);
  }
  if (crashes.length > 0) printCrashLoops(crashes, summaryOf);
  printProblems(results);
  printWarnings('Router', results.routerWarnings);
  printWarnings('Server', results.serverWarnings);
  console.log(
    `Teardown: ${teardown.instancesStopped} instances stopped with SIGTERM, ${teardown.leftovers.length} leftover instance processes SIGKILLed`,
  );
  console.log(
    JSON.stringify({
      bench: 'self-healing',
      machine,
      settings,
      baseline: results.baseline ?? null,
      latency: results.latency ?? null,
      scenarios: summaries.map(rounded),
      routerWarnings: results.routerWarnings,
      serverWarnings: results.serverWarnings,
      leftoverProcesses: teardown.leftovers.length,
      error: results.error ?? null,
    }),
  );
}

function printHeader(
  machine: Machine,
  settings: SelfHealingSettings,
  results: SelfHealingResults,
): void {
  console.log(
    'Self-healing: misbehaving releases deployed under load through `phoenix router`, judged on their live traffic and rolled back',
  );
  console.log(formatMachine(machine));
  console.log(
    `Load: bench/lib/load-generator.ts in its own process, ${settings.connections} keep-alive connections, GET / on the production listener :${settings.productionPort}; a new generator per run, ${settings.warmupMs} ms of warm-up, ${settings.steadyMs} ms of steady load before the deployment and after it`,
  );
  const { baseline, latency } = results;
  if (baseline !== undefined) {
    console.log(
      `Stable release v1 alone (${baseline.seconds} s): ${Math.round(baseline.requestsPerSecond)} req/s, p50 ${round(baseline.p50Ms)} ms, p99 ${round(baseline.p99Ms)} ms, ${baseline.failed} failed`,
    );
  }
  console.log(
    `App: ${settings.instances} instances per release, health check every 500 ms; canary ${CANARY_STRATEGY}; blue/green ${BLUE_GREEN_STRATEGY}; default alarms (error rates > 10% in 2 of 3 periods of 200 ms)`,
  );
  if (latency !== undefined) {
    console.log(
      `Slow release: +${latency.delayMs} ms per answer; alarm latency p99 > ${latency.thresholdMs} ms in ${LATENCY_ALARM.datapointsToAlarm} of ${LATENCY_ALARM.evaluationPeriods} periods of ${LATENCY_ALARM.periodMs} ms`,
    );
  }
  if (results.error !== undefined) console.log(`\nTHE RUN STOPPED EARLY: ${results.error}`);
  console.log('');
}

type SummaryOf = (result: ScenarioResult) => ScenarioSummary;

function printDetection(results: readonly ScenarioResult[], summaryOf: SummaryOf): void {
  console.log('Rollbacks: ms from the first bad answer, median / max over the runs');
  const rows: Cell[][] = results.map((result) => {
    const summary = summaryOf(result);
    return [
      result.scenario.title,
      summary.runs,
      summary.asExpected,
      summary.firstBadFrom.join(', '),
      spread(summary.detectMs),
      spread(summary.routerBackMs),
      spread(summary.lastBadSeenMs),
      spread(summary.lastBadServedMs),
      spread(summary.judgedValue, result.scenario.name === 'latency' ? ' ms' : ' %'),
    ];
  });
  console.log(
    formatTable(
      [
        'scenario',
        'runs',
        'rolled back',
        'first bad answer seen by',
        'judge: release.failing',
        'router back on stable',
        'last bad answer to a client',
        'last answer of the bad release',
        'worst datapoint judged',
      ],
      rows,
    ),
  );
  console.log('');
}

function printRollback(results: readonly ScenarioResult[], summaryOf: SummaryOf): void {
  console.log('The rollback itself, and what the clients got (median / max)');
  const rows: Cell[][] = results.map((result) => {
    const summary = summaryOf(result);
    return [
      result.scenario.title,
      spread(summary.rollbackRouterMs),
      spread(summary.rollbackMs),
      spread(summary.exposedMs),
      spread(summary.failedPerRun),
      `${summary.failedTotal} / ${summary.requestsTotal}`,
      spread(summary.badSeenPerRun),
      spread(summary.badServedPerRun),
    ];
  });
  console.log(
    formatTable(
      [
        'scenario',
        'switch back ms',
        'whole rollback ms',
        'bad release in production ms',
        'failed requests per run',
        'failed / requests (all runs)',
        'bad answers to clients per run',
        'bad answers given per run',
      ],
      rows,
    ),
  );
  console.log('');
}

function printCrashLoops(results: readonly ScenarioResult[], summaryOf: SummaryOf): void {
  console.log('Crash loops: ms, median / max over the runs');
  const rows: Cell[][] = results.map((result) => {
    const summary = summaryOf(result);
    const crashes = result.samples.map((sample) => sample.crashes);
    return [
      result.scenario.title,
      summary.runs,
      summary.asExpected,
      spread(summary.startToFailureMs),
      spread(summary.firstCrashToFailureMs),
      spread(summary.breakerToFailureMs),
      spread(summary.durationMs),
      crashes.length === 0 ? '-' : `${Math.min(...crashes)}–${Math.max(...crashes)}`,
      `${summary.failedTotal} / ${summary.requestsTotal}`,
      `${summary.stableAfter} / ${summary.runs}`,
    ];
  });
  console.log(
    formatTable(
      [
        'scenario',
        'runs',
        'failed, production untouched',
        'deployment start → failure',
        'first crash → failure',
        'breaker trips → failure',
        'start → finished',
        'starts that crashed',
        'failed / requests',
        'stable served after',
      ],
      rows,
    ),
  );
  console.log('');
}

/** Runs that did not end as expected, and scenarios that stopped early. */
function printProblems(results: SelfHealingResults): void {
  const lines: string[] = [];
  for (const result of results.scenarios) {
    for (const sample of result.samples) {
      if (sample.asExpected && sample.stableAfter) continue;
      lines.push(
        `  ${result.scenario.name} run ${sample.number} (${sample.deploymentId}): ${sample.status}${sample.stableAfter ? '' : ', production did not answer v1 afterwards'}: ${sample.reason ?? 'no reason'}`,
      );
    }
    if (result.stoppedEarly !== undefined) {
      lines.push(`  ${result.scenario.name} stopped early: ${result.stoppedEarly}`);
    }
  }
  console.log(lines.length === 0 ? 'Every run ended as expected.' : 'Problems:');
  for (const line of lines) console.log(line);
}

function printWarnings(who: string, warnings: Record<string, number>): void {
  const entries = Object.entries(warnings);
  const listed = entries.map(([message, count]) => `${message} ×${count}`).join('; ');
  console.log(`${who} warnings and errors: ${entries.length === 0 ? 'none' : listed}`);
}

function spread(value: Spread | null, unit = ''): string {
  if (value === null) return '-';
  return `${formatMs(value.median)} / ${formatMs(value.max)}${unit}`;
}

function formatMs(ms: number): string {
  return Math.abs(ms) < 10 ? String(round(ms, 1)) : String(Math.round(ms));
}

function rounded(summary: ScenarioSummary): ScenarioSummary {
  const fix = (value: Spread | null): Spread | null =>
    value === null ? null : { median: round(value.median, 1), max: round(value.max, 1) };
  return {
    ...summary,
    detectMs: fix(summary.detectMs),
    routerBackMs: fix(summary.routerBackMs),
    lastBadSeenMs: fix(summary.lastBadSeenMs),
    lastBadServedMs: fix(summary.lastBadServedMs),
    rollbackRouterMs: fix(summary.rollbackRouterMs),
    rollbackMs: fix(summary.rollbackMs),
    exposedMs: fix(summary.exposedMs),
    startToFailureMs: fix(summary.startToFailureMs),
    firstCrashToFailureMs: fix(summary.firstCrashToFailureMs),
    breakerToFailureMs: fix(summary.breakerToFailureMs),
    judgedValue: fix(summary.judgedValue),
    durationMs: fix(summary.durationMs),
  };
}
