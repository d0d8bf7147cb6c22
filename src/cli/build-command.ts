import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parseOverrides } from '../build/build-env.js';
import type { BatchSummary } from '../build/batch-runner.js';
import type { BuildSummary } from '../build/build-result.js';
import type { BuildRequest } from '../build/executor.js';
import { createPhoenix } from '../main.js';
import { parseDuration } from '../shared/durations.js';
import { ValidationError } from '../shared/errors.js';
import { formatBatchSummary, runBatchBuild } from './batch-command.js';
import { formatLogLine, formatSummary } from './output.js';

interface BuildOptions {
  source?: string;
  buildspec?: string;
  sourceVersion?: string;
  env: string[];
  json?: boolean;
  project?: string;
  timeout?: string;
  sandbox?: boolean;
  keepWorkspace?: boolean;
  quiet?: boolean;
  batch?: boolean;
  concurrency?: string;
}

export function registerBuildCommand(program: Command): void {
  program
    .command('build')
    .description(
      'run a CodeBuild buildspec on a source folder, as CodeBuild would, on this machine',
    )
    .option(
      '--source <dir>',
      'folder in a git repository to build (its committed state); default: current folder',
    )
    .option(
      '--buildspec <file>',
      'buildspec path, relative to the source (read from the commit) or absolute',
      undefined,
    )
    .option('--source-version <ref>', 'branch, tag or commit to build (default: HEAD)')
    .option(
      '--env <KEY=VALUE>',
      'environment variable override (repeatable); wins over the buildspec',
      collect,
      [],
    )
    .option('--project <name>', 'project name (default: the source folder name)')
    .option('--timeout <duration>', 'build timeout, e.g. 30m or 90s (default 60m, as CodeBuild)')
    .option('--sandbox', 'run commands under bubblewrap: only the build folder is writable')
    .option('--keep-workspace', 'keep the checkout, HOME and TMPDIR of the build after it ends')
    .option('--batch', "run the buildspec's batch section (build-list, build-graph, build-matrix)")
    .option('--concurrency <n>', 'with --batch: builds running at once (default 2)')
    .option('--json', 'print one JSON summary on stdout at the end (logs go to stderr)')
    .option('-q, --quiet', 'do not stream the build log')
    .action(async (options: BuildOptions) => {
      process.exitCode = await runBuild(options);
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function runBuild(options: BuildOptions): Promise<number> {
  const overrides = parseOverrides(options.env);
  const timeoutMs = options.timeout === undefined ? undefined : parseDuration(options.timeout);
  if (options.timeout !== undefined && (timeoutMs === undefined || timeoutMs <= 0)) {
    throw new ValidationError([
      {
        location: { file: '--timeout', line: 1, column: 1 },
        key: 'timeout',
        message: `"${options.timeout}" is not a duration such as 30m or 90s`,
      },
    ]);
  }
  const phoenix = createPhoenix();
  const logStream = options.json ? process.stderr : process.stdout;
  const controller = new AbortController();
  const onSignal = (): void => controller.abort('stopped');
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const request: BuildRequest = {
    sourceDirectory: resolve(options.source ?? '.'),
    revision: options.sourceVersion,
    buildspec: options.buildspec,
    project: options.project,
    overrides,
    timeoutMs,
    sandbox: options.sandbox,
    keepWorkspace: options.keepWorkspace,
    onLog: options.quiet ? undefined : (line) => logStream.write(`${formatLogLine(line)}\n`),
  };
  let status: BuildSummary['status'] | BatchSummary['status'];
  try {
    if (options.batch) {
      const summary = await runBatchBuild({
        executor: phoenix.executor,
        request,
        concurrency: parseConcurrency(options.concurrency),
        json: options.json === true,
        signal: controller.signal,
      });
      process.stdout.write(
        options.json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatBatchSummary(summary)}\n`,
      );
      status = summary.status;
    } else {
      const summary = await phoenix.executor.run(request, controller.signal);
      process.stdout.write(
        options.json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatSummary(summary)}\n`,
      );
      status = summary.status;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (status === 'SUCCEEDED') return 0;
  return status === 'STOPPED' ? 130 : 1;
}

function parseConcurrency(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 64) {
    throw new ValidationError([
      {
        location: { file: '--concurrency', line: 1, column: 1 },
        key: 'concurrency',
        message: `"${text}" is not a whole number from 1 to 64`,
      },
    ]);
  }
  return value;
}
