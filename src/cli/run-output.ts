import pc from 'picocolors';
import type { RunStatus, StageStatus } from '../pipeline/run.js';
import { formatIssue, type ValidationIssue } from '../shared/errors.js';
import { formatDuration } from '../shared/durations.js';
import type { Colors } from './api-command.js';
import type { RunView, StageView } from '../pipeline/run-view.js';
import { formatTable, type Cell } from './table.js';

export interface OutputContext {
  /** Milliseconds since the epoch, for ages and the duration of unfinished runs. */
  now: number;
  colors?: Colors;
}

type StatusColor = 'green' | 'red' | 'blue' | 'dim' | 'magenta' | 'yellow';

const STATUS_COLORS: Record<RunStatus | StageStatus, StatusColor> = {
  succeeded: 'green',
  failed: 'red',
  running: 'blue',
  queued: 'dim',
  pending: 'dim',
  waiting: 'magenta',
  cancelled: 'yellow',
  superseded: 'dim',
  skipped: 'dim',
};

export function colorStatus(
  status: RunStatus | StageStatus,
  text: string = status,
  colors: Colors = pc,
): string {
  return colors[STATUS_COLORS[status]](text);
}

/** `refs/heads/main` → `main`; `refs/tags/v1` → `tag v1`; anything else as it is. */
export function branchOf(ref: string): string {
  if (ref.startsWith('refs/heads/')) return ref.slice('refs/heads/'.length);
  if (ref.startsWith('refs/tags/')) return `tag ${ref.slice('refs/tags/'.length)}`;
  return ref;
}

/** `payments #12`: how people name a run. */
export function runName(run: Pick<RunView, 'service' | 'number'>): string {
  return `${run.service} #${run.number}`;
}

export function formatAge(iso: string, now: number): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 48 * 3600) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86_400)}d ago`;
}

/** From start to finish, or to now while it still runs; undefined before it starts. */
export function elapsedMs(
  item: { startedAt?: string; finishedAt?: string },
  now: number,
): number | undefined {
  if (item.startedAt === undefined) return undefined;
  const end = item.finishedAt === undefined ? now : Date.parse(item.finishedAt);
  return Math.max(0, end - Date.parse(item.startedAt));
}

function formatElapsed(item: { startedAt?: string; finishedAt?: string }, now: number): string {
  const ms = elapsedMs(item, now);
  return ms === undefined ? '-' : formatDuration(ms);
}

export function formatRunsTable(runs: readonly RunView[], context: OutputContext): string {
  const colors = context.colors ?? pc;
  const rows = runs.map((run): Cell[] => [
    { text: `#${run.number}` },
    { text: run.service },
    { text: run.status, style: (text) => colorStatus(run.status, text, colors) },
    { text: branchOf(run.ref) },
    { text: run.commit.slice(0, 12), style: colors.dim },
    { text: `${run.trigger.type} by ${run.trigger.actor}` },
    { text: formatAge(run.createdAt, context.now) },
    { text: formatElapsed(run, context.now) },
  ]);
  return formatTable(
    ['RUN', 'SERVICE', 'STATUS', 'BRANCH', 'COMMIT', 'TRIGGER', 'AGE', 'DURATION'],
    rows,
    colors,
  );
}

/** One run for a person: what, where from, how long, then every stage and what it produced. */
export function formatRunDetails(run: RunView, context: OutputContext): string {
  const colors = context.colors ?? pc;
  const lines = [
    `${colors.bold(runName(run))}  ${colorStatus(run.status, run.status, colors)}  ${colors.dim(run.id)}`,
    `  commit    ${run.commit} (${branchOf(run.ref)})`,
    `  trigger   ${run.trigger.type} by ${run.trigger.actor}${run.trigger.detail === undefined ? '' : ` (${run.trigger.detail})`}`,
    `  created   ${run.createdAt} (${formatAge(run.createdAt, context.now)})`,
  ];
  if (run.startedAt !== undefined) lines.push(`  duration  ${formatElapsed(run, context.now)}`);
  if (run.reason !== undefined)
    lines.push(`  reason    ${colorStatus(run.status, run.reason, colors)}`);
  lines.push('', colors.bold('  stages'));
  const width = Math.max(...run.stages.map((stage) => stage.name.length), 5);
  for (const stage of run.stages) lines.push(...formatStage(stage, width, context.now, colors));
  return lines.join('\n');
}

function formatStage(stage: StageView, width: number, now: number, colors: Colors): string[] {
  const attempt = stage.attempt > 1 ? `attempt ${stage.attempt}` : '';
  const parts = [
    `    ${stage.name.padEnd(width)}`,
    colorStatus(stage.status, stage.status.padEnd(10), colors),
    formatElapsed(stage, now).padStart(8),
    attempt,
  ].filter((part) => part !== '');
  const lines = [parts.join('  ')];
  if (stage.reason !== undefined) {
    const platform = stage.platformFailure === true ? ' (platform failure)' : '';
    lines.push(`      ${colorStatus(stage.status, stage.reason + platform, colors)}`);
  }
  if (stage.output !== undefined) lines.push(...formatStageOutput(stage.output, colors));
  return lines;
}

/**
 * What a build stage left (artifacts, test reports), the release a release stage recorded,
 * or why the configuration was refused.
 */
function formatStageOutput(output: Record<string, unknown>, colors: Colors): string[] {
  const lines: string[] = [];
  const { buildId, buildNumber, artifacts, reports, issues, releaseId } = output;
  if (typeof buildId === 'string') {
    const number = typeof buildNumber === 'number' ? ` #${buildNumber}` : '';
    const count = Array.isArray(artifacts) ? artifacts.length : 0;
    lines.push(`      build ${buildId}${number}: ${count} artifact${count === 1 ? '' : 's'}`);
  }
  if (typeof releaseId === 'string') {
    const number = typeof output['number'] === 'number' ? `#${output['number']} ` : '';
    lines.push(`      release ${number}${releaseId}`);
  }
  if (Array.isArray(reports)) {
    for (const report of reports.filter(isRecord)) lines.push(...formatReport(report, colors));
  }
  if (Array.isArray(issues)) {
    for (const issue of issues.filter(isIssue))
      lines.push(`      ${colors.red(formatIssue(issue))}`);
  }
  return lines;
}

function formatReport(report: Record<string, unknown>, colors: Colors): string[] {
  const name = typeof report['name'] === 'string' ? report['name'] : 'report';
  const counts = report['summary'];
  if (!isRecord(counts)) return [`      report ${name}: stored`];
  const count = (key: string): number => (typeof counts[key] === 'number' ? counts[key] : 0);
  const failed = count('failed') + count('errors');
  const summary = `${count('passed')} passed, ${count('failed')} failed, ${count('errors')} errors, ${count('skipped')} skipped`;
  const lines = [`      report ${name}: ${failed > 0 ? colors.red(summary) : summary}`];
  const failures = Array.isArray(report['failures']) ? report['failures'].filter(isRecord) : [];
  for (const failure of failures.slice(0, 10)) {
    lines.push(
      `        ${colors.red('✗')} ${String(failure['suite'] ?? '')} › ${String(failure['name'] ?? '')}`,
    );
  }
  return lines;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isIssue(value: unknown): value is ValidationIssue {
  return (
    isRecord(value) &&
    typeof value['message'] === 'string' &&
    typeof value['key'] === 'string' &&
    isRecord(value['location'])
  );
}
