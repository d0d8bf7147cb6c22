import { InvalidArgumentError, type Command } from 'commander';
import pc from 'picocolors';
import { isRunStatus, RUN_STATUSES } from '../pipeline/run.js';
import type { ApiClient } from './api-client.js';
import {
  printJson,
  runApiCommand,
  wholeNumber,
  withConnectionOptions,
  type ConnectionOptions,
} from './api-command.js';
import type { RunView } from '../pipeline/run-view.js';
import { followRun } from './follow-run.js';
import { formatRunDetails, formatRunsTable, runName } from './run-output.js';

/** Most runs one `phoenix runs` asks for (the server's own limit). */
const MAX_RUNS_PAGE = 200;

const RUN_ARGUMENT = ['<run>', 'run id (r_...) or SERVICE#NUMBER, e.g. shop#12'] as const;

interface RunsOptions extends ConnectionOptions {
  service?: string;
  status?: string;
  limit?: number;
  before?: string;
}

interface LogsOptions extends ConnectionOptions {
  follow?: boolean;
  stage?: number;
}

interface TriggerOptions extends ConnectionOptions {
  branch?: string;
  ref?: string;
  commit?: string;
  follow?: boolean;
}

interface FollowFlag extends ConnectionOptions {
  follow?: boolean;
}

/** `phoenix runs`, `run show`, `logs`, `trigger`, `cancel`, `retry`. */
export function registerRunCommands(program: Command): void {
  withConnectionOptions(
    program
      .command('runs')
      .description('list runs, newest first')
      .option('--service <name>', 'only this service')
      .option(
        '--status <status>',
        `only these statuses, comma-separated: ${RUN_STATUSES.join(', ')}`,
        statuses,
      )
      .option('--limit <n>', 'how many (default 20)', wholeNumber(1, MAX_RUNS_PAGE))
      .option('--before <run-id>', 'older than this run (the cursor a previous page printed)'),
  ).action((options: RunsOptions) => runApiCommand(options, (client) => listRuns(client, options)));

  const run = program.command('run').description('look at one run');
  withConnectionOptions(
    run
      .command('show')
      .description('a run with its stages, durations, artifacts and test reports')
      .argument(...RUN_ARGUMENT),
  ).action((reference: string, options: ConnectionOptions) =>
    runApiCommand(options, async (client) => {
      const answer = await client.getRun(reference);
      if (options.json) return printJson(answer);
      process.stdout.write(`${formatRunDetails(answer.run, { now: Date.now() })}\n`);
    }),
  );

  withConnectionOptions(
    program
      .command('logs')
      .description("print a run's build log; with -f, follow the run live until it ends")
      .argument(...RUN_ARGUMENT)
      .option(
        '-f, --follow',
        'stream log lines and status changes until the run ends (exit 0 when it succeeded)',
      )
      .option(
        '--stage <index>',
        'the stage whose log to print (default: the build stage)',
        wholeNumber(0, 1000),
      ),
    { json: false },
  ).action((reference: string, options: LogsOptions) =>
    runApiCommand(options, async (client) => {
      if (options.follow) return follow(client, (await client.getRun(reference)).run, options);
      process.stdout.write(await client.logs(reference, { stage: options.stage }));
    }),
  );

  withConnectionOptions(
    program
      .command('trigger')
      .description("start a run of a branch's head (or a commit) by hand")
      .argument('<service>', 'service name')
      .option('--branch <branch>', "branch to build (default: the service's default branch)")
      .option('--ref <ref>', 'full ref instead of a branch, e.g. refs/tags/v1.2.0')
      .option('--commit <sha>', "full commit id (default: the branch's head)")
      .option('-f, --follow', 'follow the run until it ends; exit 0 when it succeeded'),
  ).action((service: string, options: TriggerOptions) =>
    runApiCommand(options, (client) => trigger(client, service, options)),
  );

  withConnectionOptions(
    program
      .command('cancel')
      .description('cancel a run and stop its processes')
      .argument(...RUN_ARGUMENT),
  ).action((reference: string, options: ConnectionOptions) =>
    runApiCommand(options, async (client) => {
      const answer = await client.cancelRun(reference);
      if (options.json) return printJson(answer);
      process.stdout.write(`${runName(answer.run)}: ${answer.run.status}\n`);
    }),
  );

  withConnectionOptions(
    program
      .command('retry')
      .description('run the failed (or cancelled) stage of a finished run again')
      .argument(...RUN_ARGUMENT)
      .option('-f, --follow', 'follow the run until it ends; exit 0 when it succeeded'),
  ).action((reference: string, options: FollowFlag) =>
    runApiCommand(options, async (client) => {
      const answer = await client.retryRun(reference);
      if (options.follow) return follow(client, answer.run, options);
      if (options.json) return printJson(answer);
      process.stdout.write(`${runName(answer.run)}: ${answer.run.status} for a retry\n`);
      process.stdout.write(pc.dim(`follow it: phoenix logs ${answer.run.id} -f\n`));
    }),
  );
}

async function listRuns(client: ApiClient, options: RunsOptions): Promise<undefined> {
  const { service, status, limit, before } = options;
  const page = await client.listRuns({ service, status, limit, before });
  if (options.json) return printJson(page);
  if (page.runs.length === 0) {
    process.stdout.write(before === undefined ? 'No runs.\n' : 'No older runs.\n');
    return undefined;
  }
  process.stdout.write(`${formatRunsTable(page.runs, { now: Date.now() })}\n`);
  if (page.next !== undefined) {
    const filters = [
      service === undefined ? '' : ` --service ${service}`,
      status === undefined ? '' : ` --status ${status}`,
      limit === undefined ? '' : ` --limit ${limit}`,
    ].join('');
    process.stdout.write(pc.dim(`older runs: phoenix runs${filters} --before ${page.next}\n`));
  }
  return undefined;
}

async function trigger(
  client: ApiClient,
  service: string,
  options: TriggerOptions,
): Promise<number> {
  const { branch, ref, commit } = options;
  const answer = await client.trigger(service, { branch, ref, commit });
  if (!('run' in answer)) {
    if (options.json) printJson(answer);
    else process.stdout.write(`nothing started: ${answer.ignored}\n`);
    return options.follow ? 1 : 0;
  }
  const { run } = answer;
  if (options.follow) return follow(client, run, options);
  if (options.json) {
    printJson(answer);
    return 0;
  }
  process.stdout.write(
    `started ${pc.bold(runName(run))} (${run.id}) at ${run.commit.slice(0, 12)}\n` +
      pc.dim(`follow it: phoenix logs ${run.id} -f\n`),
  );
  return 0;
}

/**
 * Follows a run to its end: exit 0 when it succeeded, 1 otherwise, 130 when Ctrl-C stopped
 * following (the run goes on). With --json, the live view goes to stderr and the finished
 * run, as the API shows it, to stdout.
 */
async function follow(
  client: ApiClient,
  run: RunView,
  options: ConnectionOptions,
): Promise<number> {
  const out = options.json ? process.stderr : process.stdout;
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.stderr.write(
    pc.dim(`following ${runName(run)} (${run.id}); Ctrl-C stops following, not the run\n`),
  );
  let result;
  try {
    result = await followRun({
      client,
      run,
      signal: controller.signal,
      write: (line) => out.write(`${line}\n`),
    });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  if (result.stopped) {
    process.stderr.write(
      `stopped following; ${runName(run)} goes on (phoenix cancel ${run.id} stops it)\n`,
    );
    return 130;
  }
  if (options.json) printJson(await client.getRun(run.id));
  return result.status === 'succeeded' ? 0 : 1;
}

function statuses(text: string): string {
  const parts = text.split(',').map((part) => part.trim());
  const unknown = parts.filter((part) => !isRunStatus(part));
  if (unknown.length > 0 || parts.length === 0)
    throw new InvalidArgumentError(
      `${unknown.join(', ')} is not a status; use ${RUN_STATUSES.join(', ')}`,
    );
  return parts.join(',');
}
