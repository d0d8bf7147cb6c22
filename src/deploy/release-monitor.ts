import { alarmSpecSchema, type AlarmSpec } from '../monitor/alarm-spec.js';
import type { ReleaseMonitor } from './deployment.js';

/**
 * Alarms for an environment that declares none: a new release whose live traffic fails
 * (5xx answers, or connections the router could not complete) in more than a tenth of its
 * requests, in 2 of 3 periods of 200 ms with at least 5 requests, is rolled back. Short
 * periods are what make a rollback take about a second instead of CloudWatch's minutes;
 * two periods out of three keep one unlucky period from paging; the request floor
 * keeps one error in two requests from counting.
 */
export const DEFAULT_RELEASE_ALARMS: readonly AlarmSpec[] = [
  alarmSpecSchema.parse({
    name: 'release-errors',
    metric: 'error-rate',
    comparison: '>',
    threshold: 10,
    period: '200ms',
    'evaluation-periods': 3,
    'datapoints-to-alarm': 2,
    'min-requests': 5,
  }),
  alarmSpecSchema.parse({
    name: 'release-upstream-errors',
    metric: 'upstream-error-rate',
    comparison: '>',
    threshold: 10,
    period: '200ms',
    'evaluation-periods': 3,
    'datapoints-to-alarm': 2,
    'min-requests': 5,
  }),
];

/** Three restarts of one instance within 30 s fail the deployment (phoenix.yml `crash-loop`). */
export const DEFAULT_CRASH_LOOP = { restarts: 3, windowMs: 30_000 } as const;

export function releaseMonitor(input: {
  alarms?: readonly AlarmSpec[];
  crashLoop?: { restarts: number; windowMs: number };
  retryCanaryErrors?: boolean;
}): ReleaseMonitor {
  const alarms =
    input.alarms !== undefined && input.alarms.length > 0 ? input.alarms : DEFAULT_RELEASE_ALARMS;
  return {
    alarms: [...alarms],
    crashLoop: { ...(input.crashLoop ?? DEFAULT_CRASH_LOOP) },
    retryCanaryErrors: input.retryCanaryErrors ?? false,
  };
}
