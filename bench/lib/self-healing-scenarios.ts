import type { AppRelease } from './self-healing-app.js';

/**
 * The misbehaving releases the self-healing bench deploys, one scenario each, against the
 * stable release (`v1`, all at once). Every strategy's interval and bake are long enough
 * that only the judge (or the crash-loop breaker) can end the deployment in time.
 */
export type ScenarioName = 'canary' | 'canary-retry' | 'blue-green' | 'crash-loop' | 'latency';

export const SCENARIO_NAMES: readonly ScenarioName[] = [
  'canary',
  'canary-retry',
  'blue-green',
  'crash-loop',
  'latency',
];

export interface Scenario {
  name: ScenarioName;
  /** For the tables: what the release does wrong and how it is deployed. */
  title: string;
  release: AppRelease;
  /** `rolled-back` once production had moved; `failed` when it never did (crash loop). */
  expectedStatus: 'rolled-back' | 'failed';
}

export const STABLE_RELEASE: AppRelease = {
  behaviour: { version: 'v1', mode: 'good' },
  strategy: 'all-at-once',
};

export const CANARY_STRATEGY = '{ type: canary, percent: 10, interval: 1m, bake: 10s }';
export const BLUE_GREEN_STRATEGY = '{ type: blue-green, bake: 30s }';

/** The latency alarm: periods of 500 ms, 2 of the last 3 above the threshold. */
export const LATENCY_ALARM = { periodMs: 500, evaluationPeriods: 3, datapointsToAlarm: 2 } as const;

export interface LatencySettings {
  /** Added to every answer of the slow release. */
  delayMs: number;
  /** The alarm's p99 threshold. */
  thresholdMs: number;
}

export function scenario(name: ScenarioName, latency: LatencySettings): Scenario {
  switch (name) {
    case 'canary':
      return {
        name,
        title: 'bad canary, 500s, 10%',
        release: { behaviour: { version: 'canary-500', mode: 'fail' }, strategy: CANARY_STRATEGY },
        expectedStatus: 'rolled-back',
      };
    case 'canary-retry':
      return {
        name,
        title: 'bad canary + retry-canary-errors',
        release: {
          behaviour: { version: 'canary-500-retried', mode: 'fail' },
          strategy: CANARY_STRATEGY,
          retryCanaryErrors: true,
        },
        expectedStatus: 'rolled-back',
      };
    case 'blue-green':
      return {
        name,
        title: 'bad blue/green, 500s after the switch',
        release: {
          behaviour: { version: 'green-500', mode: 'fail' },
          strategy: BLUE_GREEN_STRATEGY,
        },
        expectedStatus: 'rolled-back',
      };
    case 'crash-loop':
      return {
        name,
        title: 'crash loop, exits at start',
        release: { behaviour: { version: 'crash', mode: 'crash' }, strategy: BLUE_GREEN_STRATEGY },
        expectedStatus: 'failed',
      };
    case 'latency':
      return {
        name,
        title: `slow canary, +${latency.delayMs} ms, 10%`,
        release: {
          behaviour: { version: 'slow', mode: 'slow', delayMs: latency.delayMs },
          strategy: CANARY_STRATEGY,
          alarms: [
            `{ name: slow-answers, metric: latency, statistic: p99, comparison: '>', threshold: ${latency.thresholdMs}, period: ${LATENCY_ALARM.periodMs}ms, evaluation-periods: ${LATENCY_ALARM.evaluationPeriods}, datapoints-to-alarm: ${LATENCY_ALARM.datapointsToAlarm}, min-requests: 5 }`,
          ],
        },
        expectedStatus: 'rolled-back',
      };
  }
}
