import { z } from 'zod';
import { describeMs, duration, integer } from '../config/schema-parts.js';
import { WINDOW_BUCKET_MS, WINDOW_SPAN_MS } from '../router/rolling-window.js';

/**
 * An alarm as phoenix.yml declares it (per environment, under `alarms:`): CloudWatch's
 * metric alarm — statistic, comparison, threshold, period, M of N datapoints, how missing
 * data is treated — over the router's traffic, with periods down to the router's 100 ms
 * resolution. The schema normalises what people write (CloudWatch's comparison names,
 * `P99`, `2s`) into one `AlarmSpec`; alarm.ts judges it.
 */

export const COUNT_METRICS = ['requests', 'errors-5xx', 'upstream-errors'] as const;
/** Per 100 requests. An upstream error is a failed attempt, retried or not, so it can pass 100. */
export const RATE_METRICS = ['error-rate', 'upstream-error-rate'] as const;
export const ALARM_METRICS = [...COUNT_METRICS, ...RATE_METRICS, 'latency'] as const;
export type AlarmMetric = (typeof ALARM_METRICS)[number];
export type MetricKind = 'count' | 'rate' | 'latency';

export const COMPARISONS = ['>', '>=', '<', '<='] as const;
export type Comparison = (typeof COMPARISONS)[number];
/** CloudWatch's names for the comparisons, accepted as written in CloudFormation. */
export const CLOUDWATCH_COMPARISONS: ReadonlyMap<string, Comparison> = new Map([
  ['GreaterThanThreshold', '>'],
  ['GreaterThanOrEqualToThreshold', '>='],
  ['LessThanThreshold', '<'],
  ['LessThanOrEqualToThreshold', '<='],
]);

export const TREAT_MISSING_DATA = ['missing', 'notBreaching', 'breaching', 'ignore'] as const;
export type TreatMissingData = (typeof TREAT_MISSING_DATA)[number];

/** `sum` and `average` (per second) for counts; a percentile such as `p99` for latency. */
export type AlarmStatistic = 'sum' | 'average' | `p${number}`;

export const ALARM_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** The router's slice: no period can be shorter, and every period is made of whole slices. */
export const MIN_PERIOD_MS = WINDOW_BUCKET_MS;
export const DEFAULT_PERIOD_MS = 1000;
export const DEFAULT_EVALUATION_PERIODS = 1;
/** CloudWatch's default. */
export const DEFAULT_TREAT_MISSING_DATA = 'missing' satisfies TreatMissingData;
/** Below this many requests a rate or a percentile says little: one error in two requests. */
export const DEFAULT_MIN_REQUESTS = 10;
export const DEFAULT_LATENCY_STATISTIC = 'p99' satisfies AlarmStatistic;
export const DEFAULT_COUNT_STATISTIC = 'sum' satisfies AlarmStatistic;
const MAX_EVALUATION_PERIODS = WINDOW_SPAN_MS / MIN_PERIOD_MS;
const MAX_MIN_REQUESTS = 1_000_000;

/**
 * What judging an alarm needs. An AlarmSpec is one; a series from elsewhere (an instance's
 * CPU, say) can be judged by the same rules with its own name as `metric`.
 */
export interface AlarmRule {
  metric: string;
  /** Absent for rates, which have none. */
  statistic?: AlarmStatistic;
  comparison: Comparison;
  threshold: number;
  periodMs: number;
  /** N: how many of the most recent periods are judged. */
  evaluationPeriods: number;
  /** M (at most N): how many of them must breach for ALARM. */
  datapointsToAlarm: number;
  treatMissingData: TreatMissingData;
  /** A period with fewer requests has no datapoint (traffic metrics only). */
  minRequests?: number;
}

export interface AlarmSpec extends AlarmRule {
  name: string;
  metric: AlarmMetric;
  minRequests: number;
}

export function metricKind(metric: AlarmMetric): MetricKind {
  if (metric === 'latency') return 'latency';
  return RATE_METRICS.some((rate) => rate === metric) ? 'rate' : 'count';
}

/** The quantile (0..1) a percentile statistic asks for; undefined for sum and average. */
export function percentileOf(statistic: AlarmStatistic | undefined): number | undefined {
  if (statistic === undefined || !statistic.startsWith('p')) return undefined;
  return Number(statistic.slice(1)) / 100;
}

const METRIC_HINT = `expected ${ALARM_METRICS.join(', ')}`;
const STATISTIC_HINT = 'expected sum or average (counts), or a percentile such as p99 (latency)';

/** `Sum`, `average`, `P99`, `p99.0` → sum, average, p99, p99; undefined when unknown. */
function parseStatistic(text: string): AlarmStatistic | undefined {
  const lower = text.trim().toLowerCase();
  if (lower === 'sum' || lower === 'average') return lower;
  const match = /^p(\d{1,2}(?:\.\d+)?)$/.exec(lower);
  const percent = Number(match?.[1]);
  if (match === null || percent <= 0 || percent >= 100) return undefined;
  return `p${percent}`;
}

const statisticSchema = z
  .string({ invalid_type_error: STATISTIC_HINT })
  .transform((text, ctx): AlarmStatistic => {
    const statistic = parseStatistic(text);
    if (statistic !== undefined) return statistic;
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a statistic: ${STATISTIC_HINT}` });
    return z.NEVER;
  });

const COMPARISON_HINT = `expected >, >=, < or <= (or ${[...CLOUDWATCH_COMPARISONS.keys()].join(', ')})`;

const comparisonSchema = z
  .string({ required_error: `comparison is required: ${COMPARISON_HINT}` })
  .transform((text, ctx): Comparison => {
    const trimmed = text.trim();
    const known =
      COMPARISONS.find((symbol) => symbol === trimmed) ?? CLOUDWATCH_COMPARISONS.get(trimmed);
    if (known !== undefined) return known;
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a comparison: ${COMPARISON_HINT}` });
    return z.NEVER;
  });

const TREAT_MISSING_HINT = `expected ${TREAT_MISSING_DATA.join(', ')}`;

const treatMissingDataSchema = z.string().transform((text, ctx): TreatMissingData => {
  // not-breaching reads like the rest of phoenix.yml; CloudWatch spells it notBreaching.
  const name = text === 'not-breaching' ? 'notBreaching' : text;
  const known = TREAT_MISSING_DATA.find((value) => value === name);
  if (known !== undefined) return known;
  ctx.addIssue({ code: 'custom', message: `"${text}" is not a choice: ${TREAT_MISSING_HINT}` });
  return z.NEVER;
});

const rawAlarmSchema = z
  .object(
    {
      name: z
        .string({ required_error: 'name is required', invalid_type_error: 'expected a name' })
        .regex(
          ALARM_NAME_PATTERN,
          'alarm names are lowercase letters, digits and hyphens, start with a letter or digit and have at most 63 characters',
        ),
      metric: z.enum(ALARM_METRICS, {
        errorMap: (_issue, ctx) => ({
          message:
            ctx.data === undefined
              ? `metric is required: ${METRIC_HINT}`
              : `"${String(ctx.data)}" is not a metric: ${METRIC_HINT}`,
        }),
      }),
      statistic: statisticSchema.optional(),
      comparison: comparisonSchema,
      threshold: z
        .number({
          required_error: 'threshold is required',
          invalid_type_error: 'expected a number (5 for 5%)',
        })
        .finite('expected a number (5 for 5%)')
        .min(0, 'threshold must be at least 0: no metric here goes below 0'),
      period: duration({ min: MIN_PERIOD_MS }).optional(),
      'evaluation-periods': integer('evaluation-periods', 1, MAX_EVALUATION_PERIODS).optional(),
      'datapoints-to-alarm': integer('datapoints-to-alarm', 1, MAX_EVALUATION_PERIODS).optional(),
      'treat-missing-data': treatMissingDataSchema.optional(),
      'min-requests': integer('min-requests', 0, MAX_MIN_REQUESTS).optional(),
    },
    { invalid_type_error: 'expected an alarm such as { name: errors, metric: error-rate }' },
  )
  .strict();

type RawAlarm = z.infer<typeof rawAlarmSchema>;
type AddIssue = (path: string, message: string) => void;

/**
 * Checks that compare keys; each problem is reported at the key to change. They wait until
 * every key is valid on its own: a key that failed its check holds zod's INVALID marker
 * here (an object, where every valid value is a string or a number).
 */
function checkAlarm(alarm: RawAlarm, addIssue: AddIssue): void {
  if (Object.values(alarm).some((value) => typeof value === 'object')) return;
  checkStatistic(alarm, addIssue);
  const periodMs = alarm.period ?? DEFAULT_PERIOD_MS;
  const n = alarm['evaluation-periods'] ?? DEFAULT_EVALUATION_PERIODS;
  const m = alarm['datapoints-to-alarm'];
  if (m !== undefined && m > n) {
    const given = alarm['evaluation-periods'] === undefined ? `${n}, the default` : `${n}`;
    addIssue(
      'datapoints-to-alarm',
      `datapoints-to-alarm (${m}) cannot exceed evaluation-periods (${given})`,
    );
  }
  if (periodMs % MIN_PERIOD_MS !== 0) {
    addIssue('period', `must be a multiple of ${MIN_PERIOD_MS}ms, the router's resolution`);
  } else if ((n + 1) * periodMs > WINDOW_SPAN_MS) {
    addIssue(
      'evaluation-periods',
      `${n} periods of ${describeMs(periodMs)}, and the one still filling, need ${describeMs((n + 1) * periodMs)} of traffic; the router keeps ${describeMs(WINDOW_SPAN_MS)}`,
    );
  }
  if (metricKind(alarm.metric) === 'rate' && alarm.threshold > 100) {
    addIssue('threshold', `${alarm.metric} is a percentage: threshold must be 0 to 100`);
  }
}

function checkStatistic(alarm: RawAlarm, addIssue: AddIssue): void {
  const { statistic, metric } = alarm;
  if (statistic === undefined) return;
  const kind = metricKind(metric);
  if (kind === 'rate') {
    addIssue(
      'statistic',
      `${metric} is a percentage of requests and takes no statistic: leave statistic out`,
    );
  } else if (percentileOf(statistic) !== undefined && kind !== 'latency') {
    addIssue('statistic', `statistic ${statistic} only applies to metric latency`);
  } else if (percentileOf(statistic) === undefined && kind !== 'count') {
    addIssue(
      'statistic',
      `statistic ${statistic} only applies to counts (${COUNT_METRICS.join(', ')}): latency takes a percentile such as p99`,
    );
  }
}

function normalise(alarm: RawAlarm): AlarmSpec {
  const kind = metricKind(alarm.metric);
  const evaluationPeriods = alarm['evaluation-periods'] ?? DEFAULT_EVALUATION_PERIODS;
  const defaultStatistic = kind === 'latency' ? DEFAULT_LATENCY_STATISTIC : DEFAULT_COUNT_STATISTIC;
  return {
    name: alarm.name,
    metric: alarm.metric,
    statistic: kind === 'rate' ? undefined : (alarm.statistic ?? defaultStatistic),
    comparison: alarm.comparison,
    threshold: alarm.threshold,
    periodMs: alarm.period ?? DEFAULT_PERIOD_MS,
    evaluationPeriods,
    datapointsToAlarm: alarm['datapoints-to-alarm'] ?? evaluationPeriods,
    treatMissingData: alarm['treat-missing-data'] ?? DEFAULT_TREAT_MISSING_DATA,
    minRequests: alarm['min-requests'] ?? (kind === 'count' ? 0 : DEFAULT_MIN_REQUESTS),
  };
}

export const alarmSpecSchema = rawAlarmSchema
  .superRefine((alarm, ctx) =>
    checkAlarm(alarm, (path, message) => ctx.addIssue({ code: 'custom', path: [path], message })),
  )
  .transform(normalise);

export type RawAlarmSpec = z.input<typeof alarmSpecSchema>;

/** Alarm names that repeat within one environment, each at the later index. */
export function alarmNameConflicts(
  alarms: readonly { name: string }[],
): { index: number; message: string }[] {
  const first = new Map<string, number>();
  const conflicts: { index: number; message: string }[] = [];
  alarms.forEach(({ name }, index) => {
    const earlier = first.get(name);
    if (earlier === undefined) first.set(name, index);
    else
      conflicts.push({
        index,
        message: `duplicate alarm name "${name}" (also alarms[${earlier}])`,
      });
  });
  return conflicts;
}

/** An environment's `alarms:` list. */
export const alarmsSchema = z
  .array(alarmSpecSchema, { invalid_type_error: 'expected a list of alarms (- name: errors)' })
  .superRefine((alarms, ctx) => {
    for (const { index, message } of alarmNameConflicts(alarms)) {
      ctx.addIssue({ code: 'custom', path: [index, 'name'], message });
    }
  });

/**
 * What watches a canary or linear shift when the environment declares no alarms: more than
 * 5% of requests failing, or failing to reach the new release, three seconds running. Ten
 * requests a second is the least traffic judged, so one failure in a quiet second does not
 * roll back; with less traffic the alarms stay INSUFFICIENT_DATA.
 */
export const defaultCanaryAlarms: readonly AlarmSpec[] = [
  {
    name: 'canary-error-rate',
    metric: 'error-rate',
    statistic: undefined,
    comparison: '>',
    threshold: 5,
    periodMs: 1000,
    evaluationPeriods: 3,
    datapointsToAlarm: 3,
    treatMissingData: 'missing',
    minRequests: DEFAULT_MIN_REQUESTS,
  },
  {
    name: 'canary-upstream-error-rate',
    metric: 'upstream-error-rate',
    statistic: undefined,
    comparison: '>',
    threshold: 5,
    periodMs: 1000,
    evaluationPeriods: 3,
    datapointsToAlarm: 3,
    treatMissingData: 'missing',
    minRequests: DEFAULT_MIN_REQUESTS,
  },
];
