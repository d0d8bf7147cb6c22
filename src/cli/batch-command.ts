import pc from 'picocolors';
import { runBatch, type BatchSummary, type BatchTaskResult } from '../build/batch-runner.js';
import type { BuildRequest, Executor } from '../build/executor.js';
import { DEFAULT_BUILDSPEC } from '../build/executor.js';
import { inspectSource, readSourceFile } from '../build/workspace.js';
import { parseBuildspec } from '../config/buildspec.js';
import { formatDuration } from '../shared/durations.js';

/**
 * `phoenix build --batch`: the buildspec's batch section (build-list, build-graph,
 * build-matrix) as CodeBuild's start-build-batch runs it, each task a build of its own.
 * Tasks run concurrently, so their logs go to each build's log file, not the terminal.
 */
export async function runBatchBuild(options: {
  executor: Executor;
  request: BuildRequest;
  concurrency?: number;
  json: boolean;
  signal: AbortSignal;
}): Promise<BatchSummary> {
  const { request } = options;
  const source = await inspectSource(request.sourceDirectory, request.revision);
  const path = request.buildspec ?? DEFAULT_BUILDSPEC;
  const spec = parseBuildspec(await readSourceFile(source, path), path);
  const progress = options.json ? process.stderr : process.stdout;
  return runBatch({
    executor: options.executor,
    spec,
    request: { ...request, revision: source.commit ?? request.revision, onLog: undefined },
    concurrency: options.concurrency,
    signal: options.signal,
    onTaskStart: (identifier) => progress.write(`${pc.cyan('▶')} ${identifier} started\n`),
    onTaskEnd: (result) => progress.write(`${formatTask(result)}\n`),
  });
}

export function formatTask(result: BatchTaskResult): string {
  const ok = result.status === 'SUCCEEDED';
  const mark = ok ? pc.green('✓') : result.status === 'SKIPPED' ? pc.dim('–') : pc.red('✗');
  const duration = result.summary ? ` in ${formatDuration(result.summary.durationMs)}` : '';
  const ignored = !ok && result.ignoreFailure ? pc.dim(' (ignore-failure)') : '';
  const reason = result.reason && !ok ? `: ${result.reason}` : '';
  const log = result.summary ? pc.dim(`  log: ${result.summary.logFile}`) : '';
  return `${mark} ${result.identifier} ${result.status}${duration}${ignored}${reason}${log ? `\n  ${log}` : ''}`;
}

export function formatBatchSummary(summary: BatchSummary): string {
  const color = summary.status === 'SUCCEEDED' ? pc.green : pc.red;
  const lines = [
    '',
    `${pc.bold(`Batch (${summary.kind})`)}: ${color(summary.status)} in ${formatDuration(summary.durationMs)}`,
    ...summary.tasks.map((task) => `  ${task.identifier.padEnd(32)} ${task.status}`),
    ...summary.warnings.map((warning) => `  ${pc.yellow('warning:')} ${warning}`),
  ];
  return lines.join('\n');
}
