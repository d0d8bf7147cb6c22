import type { Command } from 'commander';
import pc from 'picocolors';
import {
  printJson,
  runApiCommand,
  wholeNumber,
  withConnectionOptions,
  type ConnectionOptions,
} from './api-command.js';
import { formatReleaseDetails, formatReleasesTable } from './release-output.js';

/** Most releases one `phoenix releases` asks for (the server's own limit). */
const MAX_RELEASES_PAGE = 200;

interface ReleasesOptions extends ConnectionOptions {
  limit?: number;
  before?: string;
}

/** `phoenix releases SERVICE`, `phoenix release show RELEASE`. */
export function registerReleaseCommands(program: Command): void {
  withConnectionOptions(
    program
      .command('releases')
      .description("list a service's releases, newest first")
      .argument('<service>', 'service name')
      .option('--limit <n>', 'how many (default 20)', wholeNumber(1, MAX_RELEASES_PAGE))
      .option(
        '--before <release-id>',
        'older than this release (the cursor a previous page printed)',
      ),
  ).action((service: string, options: ReleasesOptions) =>
    runApiCommand(options, async (client) => {
      const { limit, before } = options;
      const page = await client.listReleases(service, { limit, before });
      if (options.json) return printJson(page);
      if (page.releases.length === 0) {
        process.stdout.write(
          before === undefined
            ? `No releases of ${service} yet: a successful run makes one when phoenix.yml has a release section and the buildspec an artifacts section.\n`
            : 'No older releases.\n',
        );
        return undefined;
      }
      process.stdout.write(`${formatReleasesTable(page.releases, { now: Date.now() })}\n`);
      if (page.next !== undefined) {
        const limitFlag = limit === undefined ? '' : ` --limit ${limit}`;
        process.stdout.write(
          pc.dim(`older releases: phoenix releases ${service}${limitFlag} --before ${page.next}\n`),
        );
      }
      return undefined;
    }),
  );

  const release = program.command('release').description('look at one release');
  withConnectionOptions(
    release
      .command('show')
      .description("a release's commit, artifact, and start and health-check settings")
      .argument('<release>', 'release id (rel_...) or SERVICE#NUMBER, e.g. shop#3'),
  ).action((reference: string, options: ConnectionOptions) =>
    runApiCommand(options, async (client) => {
      const answer = await client.getRelease(reference);
      if (options.json) return printJson(answer);
      process.stdout.write(`${formatReleaseDetails(answer.release, { now: Date.now() })}\n`);
      return undefined;
    }),
  );
}
