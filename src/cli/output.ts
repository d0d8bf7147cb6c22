import pc from 'picocolors';
import type { LogLine } from '../build/build-log.js';
import type { BuildSummary, PhaseStatus } from '../build/build-result.js';
import { formatDuration } from '../shared/durations.js';

/** A build log line for a terminal: time, then the text; Phoenix's own lines stand out. */
export function formatLogLine(line: LogLine, colors = pc): string {
  const time = new Date(line.time).toISOString().slice(11, 23);
  const stamp = colors.dim(time);
  if (line.stream === 'system') return `${stamp} ${colors.cyan(line.text)}`;
  if (line.stream === 'stderr') return `${stamp} ${colors.yellow(line.text)}`;
  return `${stamp} ${line.text}`;
}

function statusColor(status: PhaseStatus | BuildSummary['status'], text: string): string {
  if (status === 'SUCCEEDED') return pc.green(text);
  if (status === 'SKIPPED') return pc.dim(text);
  return pc.red(text);
}

/** The end-of-build summary a person reads. */
export function formatSummary(summary: BuildSummary): string {
  const lines = [''];
  lines.push(
    `${pc.bold(`Build #${summary.buildNumber}`)} ${summary.buildId}: ${statusColor(summary.status, summary.status)} in ${formatDuration(summary.durationMs)}`,
  );
  if (summary.reason !== undefined) lines.push(`  ${pc.red(summary.reason)}`);
  for (const phase of summary.phases) {
    const attempts = phase.attempts > 1 ? ` (${phase.attempts} attempts)` : '';
    lines.push(
      `  ${phase.phase.padEnd(17)} ${statusColor(phase.status, phase.status.padEnd(10))} ${formatDuration(phase.durationMs).padStart(8)}${attempts}`,
    );
  }
  for (const artifact of summary.artifacts) {
    lines.push(
      `  artifact ${artifact.id} "${artifact.name}": ${artifact.files.length} files, ${artifact.totalBytes} bytes, ${artifact.digest}`,
    );
  }
  for (const report of summary.reports) {
    const s = report.summary;
    lines.push(
      s === undefined
        ? `  report ${report.name} (${report.format}): ${report.files.length} files stored`
        : `  report ${report.name}: ${s.passed} passed, ${s.failed} failed, ${s.errors} errors, ${s.skipped} skipped`,
    );
    for (const failure of report.failures.slice(0, 10))
      lines.push(`    ${pc.red('✗')} ${failure.suite} › ${failure.name}`);
  }
  if (summary.cache !== undefined) {
    const c = summary.cache;
    lines.push(
      `  cache: restore ${c.restore}${c.restoredKey ? ` (${c.restoredKey})` : ''}, ${c.saved ? `saved${c.savedKey ? ` as ${c.savedKey}` : ''}` : 'not saved'}`,
    );
  }
  for (const [name, value] of Object.entries(summary.exportedVariables))
    lines.push(`  exported ${name}=${value}`);
  for (const warning of summary.warnings) lines.push(`  ${pc.yellow('warning:')} ${warning}`);
  lines.push(`  log: ${summary.logFile}`);
  return lines.join('\n');
}
