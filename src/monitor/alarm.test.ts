import { describe, expect, it } from 'vitest';
import { LATENCY_SLOTS, latencySlot } from '../router/latency-histogram.js';
import type { WindowBucket } from '../router/rolling-window.js';
import {
  breaches,
  datapoints,
  evaluateAlarm,
  LOOKBACK_PERIODS,
  type AlarmState,
  type Datapoint,
} from './alarm.js';
import type { AlarmRule, AlarmSpec, Comparison, TreatMissingData } from './alarm-spec.js';

const SPEC: AlarmSpec = {
  name: 'errors',
  metric: 'error-rate',
  statistic: undefined,
  comparison: '>',
  threshold: 5,
  periodMs: 1000,
  evaluationPeriods: 3,
  datapointsToAlarm: 3,
  treatMissingData: 'missing',
  minRequests: 10,
};

type Traffic = Partial<Omit<WindowBucket, 'start' | 'latencyMs'>> & { latency?: number[] };

/** 100 ms slices from `fromMs` up to `toMs` (exclusive), each with what `fill` says. */
function slices(fromMs: number, toMs: number, fill: (start: number) => Traffic = () => ({})) {
  const buckets: WindowBucket[] = [];
  for (let start = fromMs; start < toMs; start += 100) {
    const { latency = [], ...counts } = fill(start);
    const latencyMs = Array.from({ length: LATENCY_SLOTS }, (_, slot) => latency[slot] ?? 0);
    buckets.push({
      start,
      requests: 0,
      status2xx: 0,
      status3xx: 0,
      status4xx: 0,
      status5xx: 0,
      upstreamErrors: 0,
      retries: 0,
      ...counts,
      latencyMs,
    });
  }
  return buckets;
}

/** Traffic in the first slice of each period that `perPeriod` names (by period start). */
function periodsOf(fromMs: number, toMs: number, perPeriod: Record<number, Traffic>) {
  return slices(fromMs, toMs, (start) => perPeriod[start] ?? {});
}

/**
 * A range as the CloudWatch docs draw it, oldest first: `0` is not breaching, `X` is,
 * `-` is missing. Periods are a second long.
 */
function range(drawing: string): Datapoint[] {
  const values: Record<string, number | undefined> = { '0': 1, X: 10, '-': undefined };
  return drawing.split(' ').map((mark, index) => ({
    start: index * 1000,
    end: (index + 1) * 1000,
    value: values[mark],
  }));
}

function rule(change: Partial<AlarmRule> = {}): AlarmRule {
  return { ...SPEC, ...change };
}

describe('datapoints', () => {
  it.each([
    // nowMs, periodMs, evaluation-periods, the starts of the range
    [10_250, 1000, 3, [5000, 6000, 7000, 8000, 9000]],
    [10_000, 1000, 3, [5000, 6000, 7000, 8000, 9000]],
    [10_999, 1000, 1, [7000, 8000, 9000]],
    [10_250, 500, 3, [7500, 8000, 8500, 9000, 9500]],
    [10_250, 100, 2, [9800, 9900, 10_000, 10_100]],
    [10_250, 2000, 2, [2000, 4000, 6000, 8000]],
  ])(
    'at %i with %ims periods, N=%i: aligned to the epoch, the filling period left out',
    (nowMs, periodMs, evaluationPeriods, starts) => {
      const buckets = slices(0, nowMs + 1, () => ({ requests: 1 }));

      const points = datapoints(buckets, { ...SPEC, periodMs, evaluationPeriods }, nowMs);

      expect(points.map((point) => point.start)).toEqual(starts);
      expect(points.map((point) => point.end - point.start)).toEqual(starts.map(() => periodMs));
      expect(points.map((point) => point.requests)).toEqual(starts.map(() => periodMs / 100));
    },
  );

  it('looks back only on periods the buckets cover; a last-N period they miss is missing', () => {
    const buckets = slices(7300, 10_300, () => ({ requests: 20 }));

    const points = datapoints(buckets, SPEC, 10_250);

    expect(points.map((point) => [point.start, point.value])).toEqual([
      [7000, undefined],
      [8000, 0],
      [9000, 0],
    ]);
    expect(LOOKBACK_PERIODS).toBe(2);
  });

  it.each<[string, Partial<AlarmSpec>, Traffic, number | undefined]>([
    ['error-rate in percent', {}, { requests: 16, status5xx: 2 }, 12.5],
    ['no datapoint below min-requests', {}, { requests: 9, status5xx: 9 }, undefined],
    ['a datapoint at min-requests', {}, { requests: 10, status5xx: 1 }, 10],
    ['min-requests 0: still none without requests', { minRequests: 0 }, {}, undefined],
    ['min-requests 0: one error in two', { minRequests: 0 }, { requests: 2, status5xx: 1 }, 50],
    [
      'upstream-error-rate (retried attempts count too)',
      { metric: 'upstream-error-rate' },
      { requests: 10, upstreamErrors: 15 },
      150,
    ],
    [
      'errors-5xx as a sum',
      { metric: 'errors-5xx', statistic: 'sum', minRequests: 0 },
      { requests: 4, status5xx: 3 },
      3,
    ],
    [
      'a quiet count is 0, not missing',
      { metric: 'errors-5xx', statistic: 'sum', minRequests: 0 },
      {},
      0,
    ],
    [
      'upstream-errors per second over 2s',
      { metric: 'upstream-errors', statistic: 'average', periodMs: 2000, minRequests: 0 },
      { requests: 9, upstreamErrors: 7 },
      3.5,
    ],
    [
      'requests per second over 500ms',
      { metric: 'requests', statistic: 'average', periodMs: 500, minRequests: 0 },
      { requests: 6 },
      12,
    ],
    [
      'a count below an explicit min-requests',
      { metric: 'errors-5xx', statistic: 'sum', minRequests: 5 },
      { requests: 4, status5xx: 4 },
      undefined,
    ],
  ])('%s', (_title, change, traffic, value) => {
    const spec = { ...SPEC, evaluationPeriods: 1, datapointsToAlarm: 1, ...change };
    const periodEnd = 4000 + spec.periodMs;
    const buckets = slices(4000, periodEnd + 100, (start) => (start === 4000 ? traffic : {}));

    const points = datapoints(buckets, spec, periodEnd + 50);

    expect(points.map((point) => [point.start, point.value])).toEqual([[4000, value]]);
  });

  it.each([
    // 90 responses of 5-10 ms and 10 of 100-250 ms, split over two slices of the period
    ['p50', 5 + (5 * 50) / 90],
    ['p90', 10],
    ['p95', 100 + (150 * 5) / 10],
    ['p99', 100 + (150 * 9) / 10],
    ['p99.9', 100 + (150 * 9.9) / 10],
  ] as const)('latency %s from the slot counts of the period', (statistic, expected) => {
    const spec: AlarmSpec = {
      ...SPEC,
      metric: 'latency',
      statistic,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
    };
    const latency = (fast: number, slow: number): number[] => {
      const counts = Array<number>(LATENCY_SLOTS).fill(0);
      counts[latencySlot(7)] = fast;
      counts[latencySlot(200)] = slow;
      return counts;
    };
    const buckets = periodsOf(9000, 10_100, {
      9000: { requests: 50, latency: latency(45, 5) },
      9500: { requests: 50, latency: latency(45, 5) },
    });

    const [point] = datapoints(buckets, spec, 10_000).slice(-1);

    expect(point?.requests).toBe(100);
    expect(point?.value).toBeCloseTo(expected, 9);
  });
});

describe('breaches', () => {
  it.each<[Comparison, number, boolean]>([
    ['>', 5.1, true],
    ['>', 5, false],
    ['>=', 5, true],
    ['>=', 4.9, false],
    ['<', 4.9, true],
    ['<', 5, false],
    ['<=', 5, true],
    ['<=', 5.1, false],
  ])('%s 5 with %d: %s', (comparison, value, expected) => {
    expect(breaches({ comparison, threshold: 5 }, value)).toBe(expected);
  });
});

describe('evaluateAlarm', () => {
  type Outcome = AlarmState | 'kept';
  const MODES: TreatMissingData[] = ['missing', 'ignore', 'breaching', 'notBreaching'];

  /** The two tables of "How alarm state is evaluated when data is missing", row by row. */
  const CLOUDWATCH_TABLES: [string, number, Outcome[]][] = [
    // datapoints, M (N is 3): MISSING, IGNORE, BREACHING, NOT BREACHING
    ['0 - X - X', 3, ['OK', 'OK', 'OK', 'OK']],
    ['0 - - - -', 3, ['OK', 'OK', 'OK', 'OK']],
    ['- - - - -', 3, ['INSUFFICIENT_DATA', 'kept', 'ALARM', 'OK']],
    ['0 X X - X', 3, ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    ['- - X - -', 3, ['ALARM', 'kept', 'ALARM', 'OK']],
    ['0 - X - X', 2, ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    ['0 0 X 0 X', 2, ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    ['0 - X - -', 2, ['OK', 'OK', 'ALARM', 'OK']],
    ['- - - - 0', 2, ['OK', 'OK', 'ALARM', 'OK']],
    ['- - - X -', 2, ['ALARM', 'kept', 'ALARM', 'OK']],
    // "Avoiding premature transitions": a breach too recent to be M periods old does not
    // alarm on its own (the docs say only "not ALARM"; the one real datapoint judged is OK).
    ['- - - - X', 3, ['OK', 'OK', 'ALARM', 'OK']],
    ['- - - X -', 3, ['OK', 'OK', 'ALARM', 'OK']],
  ];
  const rows = CLOUDWATCH_TABLES.flatMap(([drawing, m, outcomes]) =>
    MODES.flatMap((mode, column) =>
      (['OK', 'ALARM'] as const).map((previous) => {
        const outcome = outcomes[column] ?? 'kept';
        return [drawing, m, mode, previous, outcome === 'kept' ? previous : outcome] as const;
      }),
    ),
  );

  it.each(rows)('%s, %i of 3, %s, was %s: %s', (drawing, m, mode, previous, expected) => {
    const alarm = rule({ datapointsToAlarm: m, treatMissingData: mode });

    const evaluation = evaluateAlarm(alarm, range(drawing), previous);

    expect(evaluation.state).toBe(expected);
  });

  it.each([
    // drawing, N, M, state, breaching, evaluated, starts of the datapoints judged
    ['X X X', 3, 3, 'ALARM', 3, 3, [0, 1, 2]],
    ['X X 0', 3, 3, 'OK', 2, 3, [0, 1, 2]],
    ['0 X 0 X', 3, 2, 'ALARM', 2, 3, [1, 2, 3]],
    ['X 0 0 X', 3, 2, 'OK', 1, 3, [1, 2, 3]],
    ['X X 0 0 0 X 0 X', 5, 3, 'OK', 2, 5, [3, 4, 5, 6, 7]],
    ['X 0 X X 0 X X', 5, 3, 'ALARM', 4, 5, [2, 3, 4, 5, 6]],
    ['X - 0 - X - X', 3, 3, 'OK', 2, 3, [2, 4, 6]],
    ['0', 1, 1, 'OK', 0, 1, [0]],
    ['X', 1, 1, 'ALARM', 1, 1, [0]],
  ] as const)(
    '%s, %i of %i: %s with %i of %i breaching',
    (drawing, n, m, state, breaching, evaluated, starts) => {
      const alarm = rule({ evaluationPeriods: n, datapointsToAlarm: m });

      const evaluation = evaluateAlarm(alarm, range(drawing));

      expect(evaluation).toMatchObject({ state, breaching, evaluated });
      expect(evaluation.datapoints.map((point) => point.start / 1000)).toEqual(starts);
    },
  );

  it('fills the most recent missing periods, and marks them', () => {
    const alarm = rule({ datapointsToAlarm: 2, treatMissingData: 'breaching' });

    const evaluation = evaluateAlarm(alarm, range('- - - - 0'));

    expect(
      evaluation.datapoints.map(({ start, breaching, filled }) => [start, breaching, filled]),
    ).toEqual([
      [2000, true, true],
      [3000, true, true],
      [4000, false, false],
    ]);
  });

  it('judges a range shorter than N as if the periods before it were missing', () => {
    const alarm = rule({ evaluationPeriods: 3, treatMissingData: 'breaching' });

    const evaluation = evaluateAlarm(alarm, range('X'));

    expect(evaluation).toMatchObject({ state: 'ALARM', breaching: 3, evaluated: 3 });
  });

  it('starts INSUFFICIENT_DATA when ignore has no state to keep', () => {
    const alarm = rule({ treatMissingData: 'ignore' });

    const evaluation = evaluateAlarm(alarm, range('- - - - -'));

    expect(evaluation.state).toBe('INSUFFICIENT_DATA');
  });

  it('lets real breaches alarm under ignore when there are enough of them', () => {
    const alarm = rule({ datapointsToAlarm: 2, treatMissingData: 'ignore' });

    const evaluation = evaluateAlarm(alarm, range('- - X X -'), 'OK');

    expect(evaluation).toMatchObject({ state: 'ALARM', breaching: 2, evaluated: 2 });
  });

  it('turns low-traffic periods into missing data before judging them', () => {
    const buckets = periodsOf(5000, 10_100, {
      7000: { requests: 2, status5xx: 1 },
      8000: { requests: 4, status5xx: 2 },
      9000: { requests: 9, status5xx: 9 },
    });

    const evaluation = evaluateAlarm(SPEC, datapoints(buckets, SPEC, 10_050));

    expect(evaluation.state).toBe('INSUFFICIENT_DATA');
    expect(evaluation.reason).toBe(
      'no error-rate datapoint in the last 5 periods of 1s (a period needs 10 requests)',
    );
  });

  describe('reason', () => {
    it.each<[string, Partial<AlarmSpec>, Record<number, Traffic>, string]>([
      [
        'the datapoints that tripped it',
        {},
        {
          7000: { requests: 16, status5xx: 2 },
          8000: { requests: 24, status5xx: 3 },
          9000: { requests: 16, status5xx: 2 },
        },
        'error-rate 12.5% > 5% in 3 of the last 3 periods of 1s (2/16, 3/24, 2/16 requests failed)',
      ],
      [
        'what cleared it',
        { datapointsToAlarm: 2 },
        {
          7000: { requests: 20 },
          8000: { requests: 24, status5xx: 3 },
          9000: { requests: 30 },
        },
        'error-rate > 5% in 1 of the last 3 periods of 1s, 2 needed (0/20, 3/24, 0/30 requests failed)',
      ],
      [
        'periods left out for want of traffic',
        {},
        {
          5000: { requests: 40, status5xx: 9 },
          6000: { requests: 20, status5xx: 2 },
          7000: { requests: 3, status5xx: 3 },
          8000: { requests: 50, status5xx: 3 },
          9000: { requests: 10, status5xx: 1 },
        },
        'error-rate 10% > 5% in 3 of the last 3 periods of 1s (2/20, 3/50, 1/10 requests failed; 1 period without data left out)',
      ],
      [
        'upstream errors',
        { metric: 'upstream-error-rate', evaluationPeriods: 2, datapointsToAlarm: 1 },
        { 8000: { requests: 20 }, 9000: { requests: 20, upstreamErrors: 5 } },
        'upstream-error-rate 25% > 5% in 1 of the last 2 periods of 1s (5/20 upstream errors/requests)',
      ],
      [
        'latency, with the requests behind each percentile',
        {
          metric: 'latency',
          statistic: 'p90',
          threshold: 5,
          evaluationPeriods: 1,
          datapointsToAlarm: 1,
        },
        { 9000: { requests: 10, latency: [0, 0, 0, 10] } },
        'latency p90 9.5ms > 5ms in 1 of the last 1 period of 1s (9.5ms of 10 requests)',
      ],
      [
        'a rate of requests',
        {
          metric: 'requests',
          statistic: 'average',
          comparison: '<',
          threshold: 10,
          periodMs: 500,
          evaluationPeriods: 2,
          datapointsToAlarm: 2,
          minRequests: 0,
        },
        { 9000: { requests: 3 }, 9500: { requests: 1 } },
        'requests average 2/s < 10/s in 2 of the last 2 periods of 500ms (6/s, 2/s)',
      ],
      [
        'missing periods counted as breaching',
        { treatMissingData: 'breaching', datapointsToAlarm: 2 },
        { 5000: { requests: 20 }, 8000: { requests: 20, status5xx: 4 } },
        'error-rate 20% > 5% in 2 of the last 3 periods of 1s (4/20 requests failed; 1 period without data counted as breaching)',
      ],
    ])('shows %s', (_title, change, traffic, reason) => {
      const spec = { ...SPEC, ...change };
      const buckets = periodsOf(5000, 10_100, traffic);

      const evaluation = evaluateAlarm(spec, datapoints(buckets, spec, 10_050));

      expect(evaluation.reason).toBe(reason);
    });

    it.each<[string, Partial<AlarmRule>, string, AlarmState, string]>([
      [
        'a breach with no data since',
        {},
        '- - X - -',
        'OK',
        'error-rate 10% > 5% 3 periods of 1s ago, no data since (10%)',
      ],
      [
        'the state ignore keeps',
        { treatMissingData: 'ignore' },
        '- - X - -',
        'ALARM',
        'error-rate: no data in 2 of the last 3 periods of 1s; staying ALARM (treat-missing-data: ignore)',
      ],
      [
        'the periods missing data leaves out',
        { datapointsToAlarm: 2 },
        '- - - - 0',
        'ALARM',
        'error-rate > 5% in 0 of the last 1 period of 1s, 2 needed (1%; 2 periods without data left out)',
      ],
      [
        'missing periods counted as not breaching',
        { treatMissingData: 'notBreaching' },
        '- - X - -',
        'ALARM',
        'error-rate > 5% in 1 of the last 3 periods of 1s, 3 needed (10%; 2 periods without data counted as not breaching)',
      ],
    ])('shows %s', (_title, change, drawing, previous, reason) => {
      const evaluation = evaluateAlarm(rule(change), range(drawing), previous);

      expect(evaluation.reason).toBe(reason);
    });

    it('names any series by its own name', () => {
      const cpu = rule({ metric: 'cpu', threshold: 90, periodMs: 60_000, datapointsToAlarm: 2 });
      const series = [85, 93.5, 91].map((value, index) => ({
        start: index * 60_000,
        end: (index + 1) * 60_000,
        value,
      }));

      const evaluation = evaluateAlarm(cpu, series);

      expect(evaluation.state).toBe('ALARM');
      expect(evaluation.reason).toBe('cpu 91 > 90 in 2 of the last 3 periods of 1m (93.5, 91)');
    });
  });
});
