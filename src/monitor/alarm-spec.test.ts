import { describe, expect, it } from 'vitest';
import {
  alarmNameConflicts,
  alarmSpecSchema,
  alarmsSchema,
  defaultCanaryAlarms,
  percentileOf,
  type AlarmSpec,
  type RawAlarmSpec,
} from './alarm-spec.js';

const MINIMAL = { name: 'errors', metric: 'error-rate', comparison: '>', threshold: 5 } as const;

function issuesOf(input: unknown): { path: (string | number)[]; message: string }[] {
  const parsed = alarmsSchema.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map(({ path, message }) => ({ path, message }));
}

describe('alarmSpecSchema', () => {
  it('fills the defaults: 1s periods, 1 of 1, missing data as missing, 10 requests for rates', () => {
    const spec = alarmSpecSchema.parse(MINIMAL);

    expect(spec).toEqual({
      name: 'errors',
      metric: 'error-rate',
      statistic: undefined,
      comparison: '>',
      threshold: 5,
      periodMs: 1000,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      treatMissingData: 'missing',
      minRequests: 10,
    } satisfies AlarmSpec);
  });

  it.each<[string, RawAlarmSpec, Partial<AlarmSpec>]>([
    [
      'CloudWatch names, a percentile in capitals, M of N',
      {
        name: 'slow',
        metric: 'latency',
        statistic: 'P99.9',
        comparison: 'GreaterThanOrEqualToThreshold',
        threshold: 800,
        period: '500ms',
        'evaluation-periods': 5,
        'datapoints-to-alarm': 2,
        'treat-missing-data': 'notBreaching',
      },
      {
        statistic: 'p99.9',
        comparison: '>=',
        periodMs: 500,
        evaluationPeriods: 5,
        datapointsToAlarm: 2,
        treatMissingData: 'notBreaching',
        minRequests: 10,
      },
    ],
    [
      'latency defaults to p99; p90.0 reads as p90',
      { ...MINIMAL, metric: 'latency', threshold: 300, statistic: 'p90.0' },
      { statistic: 'p90' },
    ],
    ['latency without a statistic is p99', { ...MINIMAL, metric: 'latency' }, { statistic: 'p99' }],
    [
      'a count defaults to sum and judges every period, however quiet',
      { ...MINIMAL, metric: 'errors-5xx', comparison: 'GreaterThanThreshold' },
      { statistic: 'sum', comparison: '>', minRequests: 0 },
    ],
    [
      'Average as CloudWatch spells it; not-breaching as phoenix.yml would',
      {
        ...MINIMAL,
        metric: 'requests',
        statistic: 'Average',
        comparison: 'LessThanThreshold',
        'treat-missing-data': 'not-breaching',
        'min-requests': 0,
      },
      { statistic: 'average', comparison: '<', treatMissingData: 'notBreaching', minRequests: 0 },
    ],
    [
      'the longest evaluation the router window allows',
      { ...MINIMAL, period: '10s', 'evaluation-periods': 5, 'datapoints-to-alarm': 4 },
      { periodMs: 10_000, evaluationPeriods: 5, datapointsToAlarm: 4 },
    ],
    [
      '<= with min-requests 50 and ignore',
      { ...MINIMAL, comparison: '<=', 'min-requests': 50, 'treat-missing-data': 'ignore' },
      { comparison: '<=', minRequests: 50, treatMissingData: 'ignore' },
    ],
  ])('normalises %s', (_title, input, expected) => {
    const spec = alarmSpecSchema.parse(input);

    expect(spec).toMatchObject(expected);
  });

  it.each<[string, Record<string, unknown>, (string | number)[], string]>([
    [
      'M above N',
      { 'evaluation-periods': 3, 'datapoints-to-alarm': 4 },
      ['datapoints-to-alarm'],
      'datapoints-to-alarm (4) cannot exceed evaluation-periods (3)',
    ],
    [
      'M above the default N',
      { 'datapoints-to-alarm': 2 },
      ['datapoints-to-alarm'],
      'datapoints-to-alarm (2) cannot exceed evaluation-periods (1, the default)',
    ],
    [
      'a percentile on a count',
      { metric: 'requests', statistic: 'p99' },
      ['statistic'],
      'statistic p99 only applies to metric latency',
    ],
    [
      'a statistic on a rate',
      { statistic: 'sum' },
      ['statistic'],
      'error-rate is a percentage of requests and takes no statistic: leave statistic out',
    ],
    [
      'sum on latency',
      { metric: 'latency', statistic: 'sum' },
      ['statistic'],
      'statistic sum only applies to counts (requests, errors-5xx, upstream-errors): latency takes a percentile such as p99',
    ],
    [
      'p100',
      { metric: 'latency', statistic: 'p100' },
      ['statistic'],
      '"p100" is not a statistic: expected sum or average (counts), or a percentile such as p99 (latency)',
    ],
    [
      'an unknown comparison',
      { comparison: '=>' },
      ['comparison'],
      '"=>" is not a comparison: expected >, >=, < or <= (or GreaterThanThreshold, GreaterThanOrEqualToThreshold, LessThanThreshold, LessThanOrEqualToThreshold)',
    ],
    [
      'a name that only an object has',
      { comparison: 'constructor' },
      ['comparison'],
      '"constructor" is not a comparison: expected >, >=, < or <= (or GreaterThanThreshold, GreaterThanOrEqualToThreshold, LessThanThreshold, LessThanOrEqualToThreshold)',
    ],
    [
      'a period between slices',
      { period: '250ms' },
      ['period'],
      "must be a multiple of 100ms, the router's resolution",
    ],
    ['a period below a slice', { period: '50ms' }, ['period'], 'must be at least 100ms'],
    ['a period without a unit', { period: 2 }, ['period'], '2 has no unit: write 2s or 2m'],
    [
      'more history than the router keeps',
      { period: '20s', 'evaluation-periods': 3 },
      ['evaluation-periods'],
      '3 periods of 20s, and the one still filling, need 80s of traffic; the router keeps 1m',
    ],
    [
      'a percentage above 100',
      { threshold: 150 },
      ['threshold'],
      'error-rate is a percentage: threshold must be 0 to 100',
    ],
    [
      'a negative threshold',
      { threshold: -1 },
      ['threshold'],
      'threshold must be at least 0: no metric here goes below 0',
    ],
    [
      'a threshold written as 5%',
      { threshold: '5%' },
      ['threshold'],
      'expected a number (5 for 5%)',
    ],
    [
      'a name in capitals',
      { name: 'Canary' },
      ['name'],
      'alarm names are lowercase letters, digits and hyphens, start with a letter or digit and have at most 63 characters',
    ],
    [
      'an unknown metric',
      { metric: 'errors' },
      ['metric'],
      '"errors" is not a metric: expected requests, errors-5xx, upstream-errors, error-rate, upstream-error-rate, latency',
    ],
    [
      'an unknown treatment of missing data',
      { 'treat-missing-data': 'zero' },
      ['treat-missing-data'],
      '"zero" is not a choice: expected missing, notBreaching, breaching, ignore',
    ],
    ['no threshold', { threshold: undefined }, ['threshold'], 'threshold is required'],
    [
      'no metric',
      { metric: undefined },
      ['metric'],
      'metric is required: expected requests, errors-5xx, upstream-errors, error-rate, upstream-error-rate, latency',
    ],
    ['a misspelt key', { periods: 3 }, [], "Unrecognized key(s) in object: 'periods'"],
  ])('refuses %s', (_title, change, path, message) => {
    const issues = issuesOf([{ ...MINIMAL, ...change }]);

    expect(issues).toEqual([{ path: [0, ...path], message }]);
  });
});

describe('alarm names', () => {
  it('must be unique in an environment', () => {
    const alarms = [MINIMAL, { ...MINIMAL, name: 'slow' }, MINIMAL];

    const issues = issuesOf(alarms);

    expect(issues).toEqual([
      { path: [2, 'name'], message: 'duplicate alarm name "errors" (also alarms[0])' },
    ]);
  });

  it.each([
    [['a', 'b', 'c'], []],
    [
      ['a', 'b', 'a', 'a'],
      [
        { index: 2, message: 'duplicate alarm name "a" (also alarms[0])' },
        { index: 3, message: 'duplicate alarm name "a" (also alarms[0])' },
      ],
    ],
  ])('conflicts in %j', (names, expected) => {
    const conflicts = alarmNameConflicts(names.map((name) => ({ name })));

    expect(conflicts).toEqual(expected);
  });
});

describe('defaultCanaryAlarms', () => {
  it('are what phoenix.yml would say for error-rate and upstream-error-rate > 5%, 3 of 3 seconds', () => {
    const written = [
      { ...MINIMAL, name: 'canary-error-rate', 'evaluation-periods': 3 },
      {
        ...MINIMAL,
        name: 'canary-upstream-error-rate',
        metric: 'upstream-error-rate',
        'evaluation-periods': 3,
      },
    ];

    const parsed = alarmsSchema.parse(written);

    expect(defaultCanaryAlarms).toEqual(parsed);
  });
});

describe('percentileOf', () => {
  it.each([
    ['p99', 0.99],
    ['p50', 0.5],
    ['p99.9', 0.999],
    ['sum', undefined],
    ['average', undefined],
    [undefined, undefined],
  ] as const)('%s is %s', (statistic, quantile) => {
    const expected = quantile === undefined ? undefined : expect.closeTo(quantile, 12);

    expect(percentileOf(statistic)).toEqual(expected);
  });
});
