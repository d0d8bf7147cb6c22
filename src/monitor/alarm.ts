import { describeMs } from '../config/schema-parts.js';
import { LATENCY_SLOTS, latencyQuantile } from '../router/latency-histogram.js';
import type { WindowBucket } from '../router/rolling-window.js';
import { percentileOf, type AlarmRule, type AlarmSpec } from './alarm-spec.js';

/**
 * Judging an alarm as CloudWatch does, as pure functions: `datapoints` turns the router's
 * 100 ms slices into one datapoint per period, `evaluateAlarm` decides OK / ALARM /
 * INSUFFICIENT_DATA from them. Neither reads a clock; the caller passes `nowMs`.
 *
 * Missing data follows "How alarm state is evaluated when data is missing" in
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html
 * (alarm.test.ts checks every row of its tables):
 * - Datapoints come from an evaluation range a little longer than evaluation-periods (N).
 * - With at least N real datapoints in the range, the N most recent real ones are judged and
 *   treat-missing-data does not matter.
 * - With fewer, every real one is judged, and the shortfall is filled from the most recent
 *   missing periods: as breaching or not (breaching, notBreaching), or not at all (missing,
 *   ignore). Then M breaching datapoints mean ALARM, fewer mean OK.
 * - missing: no real datapoint at all is INSUFFICIENT_DATA. A breach at least M periods old
 *   with nothing but missing data since is ALARM, when every real datapoint breaches
 *   ("avoiding premature transitions"). ignore keeps the previous state in both cases.
 */

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/**
 * Periods before the last N that can stand in for missing ones: CloudWatch's evaluation
 * range for N = 3 is 5 periods.
 */
export const LOOKBACK_PERIODS = 2;

/** One period's value; undefined when the period has no datapoint (missing data). */
export interface Datapoint {
  start: number;
  /** Exclusive. */
  end: number;
  value: number | undefined;
}

/** A datapoint of a target group's traffic, with the counts behind its value. */
export interface TrafficDatapoint extends Datapoint {
  requests: number;
  status5xx: number;
  upstreamErrors: number;
}

export type EvaluatedDatapoint<D extends Datapoint> = D & {
  breaching: boolean;
  /** A missing datapoint counted as treat-missing-data says (breaching or notBreaching). */
  filled: boolean;
};

export interface AlarmEvaluation<D extends Datapoint = Datapoint> {
  state: AlarmState;
  /** Judged datapoints that breach, filled ones included. */
  breaching: number;
  /** Datapoints judged: N, or fewer when missing data is left out. */
  evaluated: number;
  reason: string;
  /** The datapoints judged, oldest first: those that tripped the alarm, or cleared it. */
  datapoints: EvaluatedDatapoint<D>[];
}

interface Totals {
  requests: number;
  status5xx: number;
  upstreamErrors: number;
  latency: number[];
}

/**
 * The evaluation range, oldest first: the last `evaluationPeriods` complete periods before
 * `nowMs` (aligned to multiples of the period since the epoch; the period still filling is
 * left out), and up to LOOKBACK_PERIODS before them that the buckets cover. `buckets` are
 * every slice, empty ones included, as RollingWindow.buckets() returns them. A period they
 * do not cover, or with fewer than `minRequests` requests, is missing.
 */
export function datapoints(
  buckets: readonly WindowBucket[],
  spec: AlarmSpec,
  nowMs: number,
): TrafficDatapoint[] {
  const periodMs = spec.periodMs;
  const filling = Math.floor(nowMs / periodMs) * periodMs;
  const covered = Math.min(...buckets.map((bucket) => bucket.start));
  const totals = new Map<number, Totals>();
  for (const bucket of buckets) {
    addBucket(totals, Math.floor(bucket.start / periodMs) * periodMs, bucket);
  }
  const result: TrafficDatapoint[] = [];
  for (let back = spec.evaluationPeriods + LOOKBACK_PERIODS; back >= 1; back--) {
    const start = filling - back * periodMs;
    if (back > spec.evaluationPeriods && start < covered) continue;
    const sums = totals.get(start) ?? emptyTotals();
    const value = start >= covered ? valueOf(spec, sums) : undefined;
    const { requests, status5xx, upstreamErrors } = sums;
    result.push({ start, end: start + periodMs, value, requests, status5xx, upstreamErrors });
  }
  return result;
}

function emptyTotals(): Totals {
  return {
    requests: 0,
    status5xx: 0,
    upstreamErrors: 0,
    latency: new Array(LATENCY_SLOTS).fill(0),
  };
}

function addBucket(totals: Map<number, Totals>, start: number, bucket: WindowBucket): void {
  const sums = totals.get(start) ?? emptyTotals();
  sums.requests += bucket.requests;
  sums.status5xx += bucket.status5xx;
  sums.upstreamErrors += bucket.upstreamErrors;
  bucket.latencyMs.forEach((count, slot) => {
    sums.latency[slot] = (sums.latency[slot] ?? 0) + count;
  });
  totals.set(start, sums);
}

function valueOf(spec: AlarmSpec, sums: Totals): number | undefined {
  if (sums.requests < spec.minRequests) return undefined;
  switch (spec.metric) {
    case 'latency':
      return latencyQuantile(sums.latency, percentileOf(spec.statistic) ?? 0.99);
    case 'error-rate':
      return percent(sums.status5xx, sums.requests);
    case 'upstream-error-rate':
      return percent(sums.upstreamErrors, sums.requests);
    case 'requests':
      return perStatistic(spec, sums.requests);
    case 'errors-5xx':
      return perStatistic(spec, sums.status5xx);
    case 'upstream-errors':
      return perStatistic(spec, sums.upstreamErrors);
  }
}

function percent(part: number, whole: number): number | undefined {
  return whole === 0 ? undefined : (100 * part) / whole;
}

/** A count as `sum`, or as `average`: per second. */
function perStatistic(spec: AlarmSpec, count: number): number {
  return spec.statistic === 'average' ? count / (spec.periodMs / 1000) : count;
}

export function breaches(
  rule: Pick<AlarmRule, 'comparison' | 'threshold'>,
  value: number,
): boolean {
  switch (rule.comparison) {
    case '>':
      return value > rule.threshold;
    case '>=':
      return value >= rule.threshold;
    case '<':
      return value < rule.threshold;
    case '<=':
      return value <= rule.threshold;
  }
}

/**
 * The alarm's state from its evaluation range (oldest first; the last `evaluationPeriods`
 * are the periods judged, any before them are looked back on). `previousState` is kept by
 * treat-missing-data `ignore`; a new alarm is INSUFFICIENT_DATA, as in CloudWatch.
 */
export function evaluateAlarm<D extends Datapoint>(
  rule: AlarmRule,
  range: readonly D[],
  previousState: AlarmState = 'INSUFFICIENT_DATA',
): AlarmEvaluation<D> {
  const n = rule.evaluationPeriods;
  const real = range.filter(hasValue);
  if (real.length >= n) return judge(rule, range, onlyReal(real.slice(-n)));
  const fillCount = n - real.length;
  if (rule.treatMissingData === 'breaching' || rule.treatMissingData === 'notBreaching') {
    const fills = range.filter((point) => !hasValue(point)).slice(-fillCount);
    return judge(rule, range, { real, fills, fillCount });
  }
  const ignore = rule.treatMissingData === 'ignore';
  if (real.length === 0) {
    return ignore ? kept(rule, range, previousState) : insufficient(rule, range);
  }
  const enough =
    real.filter((point) => breaches(rule, point.value)).length >= rule.datapointsToAlarm;
  const breach = enough ? undefined : prematureBreach(rule, range);
  if (breach === undefined) return judge(rule, range, onlyReal(real));
  return ignore ? kept(rule, range, previousState) : alarmSinceBreach(rule, range, breach);
}

function hasValue<D extends Datapoint>(point: D): point is D & { value: number } {
  return point.value !== undefined;
}

interface Judged<D extends Datapoint> {
  real: readonly (D & { value: number })[];
  /** The missing datapoints counted as treat-missing-data says, most recent first taken. */
  fills: readonly D[];
  /** How many missing datapoints are counted: more than `fills` when the range is short. */
  fillCount: number;
}

function onlyReal<D extends Datapoint>(real: readonly (D & { value: number })[]): Judged<D> {
  return { real, fills: [], fillCount: 0 };
}

/** M of the judged datapoints breaching is ALARM, fewer is OK. */
function judge<D extends Datapoint>(
  rule: AlarmRule,
  range: readonly D[],
  { real, fills, fillCount }: Judged<D>,
): AlarmEvaluation<D> {
  const fillBreaches = rule.treatMissingData === 'breaching';
  const judged = [
    ...real.map((point) => ({ ...point, breaching: breaches(rule, point.value), filled: false })),
    ...fills.map((point) => ({ ...point, breaching: fillBreaches, filled: true })),
  ].sort((a, b) => a.start - b.start);
  const breaching =
    real.filter((point) => breaches(rule, point.value)).length + (fillBreaches ? fillCount : 0);
  const state = breaching >= rule.datapointsToAlarm ? 'ALARM' : 'OK';
  const evaluated = real.length + fillCount;
  const shown = state === 'ALARM' ? judged.filter((point) => point.breaching) : judged;
  const latest = state === 'ALARM' ? shown.filter(hasValue).at(-1)?.value : undefined;
  const needed = state === 'OK' ? `, ${rule.datapointsToAlarm} needed` : '';
  const reason =
    `${describeRule(rule, latest)} in ${breaching} of the last ${plural(evaluated, 'period')}` +
    ` of ${describeMs(rule.periodMs)}${needed}` +
    parenthesised([details(rule, shown), missingNote(rule, range, { real, fills, fillCount })]);
  return { state, breaching, evaluated, reason, datapoints: judged };
}

/**
 * The oldest breach among the last N periods, when it is at least M periods old, every real
 * datapoint in the range breaches and nothing but missing data came after it.
 */
function prematureBreach<D extends Datapoint>(
  rule: AlarmRule,
  range: readonly D[],
): (D & { value: number }) | undefined {
  const real = range.filter(hasValue);
  if (!real.every((point) => breaches(rule, point.value))) return undefined;
  const recent = range.slice(-rule.evaluationPeriods);
  const index = recent.findIndex(hasValue);
  const oldest = recent[index];
  const age = recent.length - index;
  return oldest !== undefined && hasValue(oldest) && age >= rule.datapointsToAlarm
    ? oldest
    : undefined;
}

function alarmSinceBreach<D extends Datapoint>(
  rule: AlarmRule,
  range: readonly D[],
  breach: D & { value: number },
): AlarmEvaluation<D> {
  const real = range.filter(hasValue);
  const judged = real.map((point) => ({ ...point, breaching: true, filled: false }));
  const age = range.length - range.indexOf(breach);
  const reason = `${describeRule(rule, breach.value)} ${plural(age, 'period')} of ${describeMs(rule.periodMs)} ago, no data since${parenthesised([details(rule, judged)])}`;
  return {
    state: 'ALARM',
    breaching: real.length,
    evaluated: real.length,
    reason,
    datapoints: judged,
  };
}

function insufficient<D extends Datapoint>(
  rule: AlarmRule,
  range: readonly D[],
): AlarmEvaluation<D> {
  const periods = Math.max(range.length, rule.evaluationPeriods);
  const minRequests = rule.minRequests ?? 0;
  const needs = minRequests > 0 ? ` (a period needs ${minRequests} requests)` : '';
  const reason = `no ${metricName(rule)} datapoint in the last ${plural(periods, 'period')} of ${describeMs(rule.periodMs)}${needs}`;
  return { state: 'INSUFFICIENT_DATA', breaching: 0, evaluated: 0, reason, datapoints: [] };
}

function kept<D extends Datapoint>(
  rule: AlarmRule,
  range: readonly D[],
  previousState: AlarmState,
): AlarmEvaluation<D> {
  const recent = range.slice(-rule.evaluationPeriods);
  const missing = rule.evaluationPeriods - recent.filter(hasValue).length;
  const reason = `${metricName(rule)}: no data in ${missing} of the last ${plural(rule.evaluationPeriods, 'period')} of ${describeMs(rule.periodMs)}; staying ${previousState} (treat-missing-data: ignore)`;
  return { state: previousState, breaching: 0, evaluated: 0, reason, datapoints: [] };
}

/** `error-rate 12.5% > 5%`, or `latency p99 > 500ms` without a value. */
function describeRule(rule: AlarmRule, value: number | undefined): string {
  const unit = unitOf(rule);
  const shown = value === undefined ? '' : ` ${formatNumber(value)}${unit}`;
  return `${metricName(rule)}${shown} ${rule.comparison} ${formatNumber(rule.threshold)}${unit}`;
}

/** `error-rate`, `errors-5xx` (a sum), `requests average`, `latency p99`. */
function metricName(rule: AlarmRule): string {
  const plain = rule.statistic === undefined || rule.statistic === 'sum';
  return plain ? rule.metric : `${rule.metric} ${rule.statistic}`;
}

function unitOf(rule: AlarmRule): string {
  if (rule.metric === 'error-rate' || rule.metric === 'upstream-error-rate') return '%';
  if (rule.metric === 'latency') return 'ms';
  return rule.statistic === 'average' ? '/s' : '';
}

type RealTraffic = TrafficDatapoint & { value: number };

/** How a traffic datapoint is shown in a reason, per metric: `2/16` and what it counts. */
const TRAFFIC_DETAILS = new Map<string, { each: (point: RealTraffic) => string; unit: string }>([
  [
    'error-rate',
    { each: (point) => `${point.status5xx}/${point.requests}`, unit: 'requests failed' },
  ],
  [
    'upstream-error-rate',
    {
      each: (point) => `${point.upstreamErrors}/${point.requests}`,
      unit: 'upstream errors/requests',
    },
  ],
  [
    'latency',
    { each: (point) => `${formatNumber(point.value)}ms of ${point.requests}`, unit: 'requests' },
  ],
]);

/** What each datapoint shown was made of: `2/16, 3/24 requests failed`, or the values. */
function details(rule: AlarmRule, shown: readonly Datapoint[]): string {
  const real = shown.filter(hasValue);
  const traffic = real.filter(isTraffic);
  const format = TRAFFIC_DETAILS.get(rule.metric);
  if (real.length === 0) return '';
  if (format !== undefined && traffic.length === real.length) {
    return `${traffic.map(format.each).join(', ')} ${format.unit}`;
  }
  return real.map((point) => `${formatNumber(point.value)}${unitOf(rule)}`).join(', ');
}

function isTraffic(point: Datapoint): point is RealTraffic {
  return 'requests' in point && 'status5xx' in point && 'upstreamErrors' in point;
}

/** How missing periods entered the judgment, if any did. */
function missingNote<D extends Datapoint>(
  rule: AlarmRule,
  range: readonly D[],
  { real, fillCount }: Judged<D>,
): string {
  if (fillCount > 0) {
    const as = rule.treatMissingData === 'breaching' ? 'breaching' : 'not breaching';
    return `${plural(fillCount, 'period')} without data counted as ${as}`;
  }
  const oldest = real[0]?.start ?? Infinity;
  const recent = range.slice(-rule.evaluationPeriods);
  const left = range.filter(
    (point) => !hasValue(point) && (point.start > oldest || recent.includes(point)),
  );
  return left.length > 0 ? `${plural(left.length, 'period')} without data left out` : '';
}

function parenthesised(notes: readonly string[]): string {
  const present = notes.filter((note) => note !== '');
  return present.length === 0 ? '' : ` (${present.join('; ')})`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** 12.5, 33.3, 812, 0.25: enough digits to read, no float noise. */
function formatNumber(value: number): string {
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return String(Number(value.toFixed(digits)));
}
