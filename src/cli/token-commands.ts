import { Option, type Command } from 'commander';
import pc from 'picocolors';
import type { TokenRole } from '../store/token-repository.js';
import {
  printJson,
  runApiCommand,
  withConnectionOptions,
  type ConnectionOptions,
} from './api-command.js';
import { formatAge } from './run-output.js';
import { formatTable } from './table.js';

const ROLES = ['admin', 'developer', 'viewer', 'approver'] as const satisfies readonly TokenRole[];

interface CreateOptions extends ConnectionOptions {
  name: string;
  role: TokenRole;
}

/** `phoenix token create|list|revoke`: API tokens, for people and for automation. */
export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('create, list and revoke API tokens');

  withConnectionOptions(
    token
      .command('create')
      .description('create an API token; it is shown once, only its hash is kept')
      .requiredOption('--name <name>', 'who or what uses it, e.g. ci or alice')
      .addOption(
        new Option('--role <role>', 'what it may do').choices(ROLES).makeOptionMandatory(),
      ),
  ).action((options: CreateOptions) =>
    runApiCommand(options, async (client) => {
      const created = await client.createToken({ name: options.name, role: options.role });
      if (options.json) return printJson(created);
      // The token alone on stdout, so that `TOKEN=$(phoenix token create ...)` works.
      process.stdout.write(`${created.token}\n`);
      process.stderr.write(
        `${pc.green('created')} token ${created.id} "${created.name}" (${created.role})\n` +
          `${pc.yellow('warning:')} copy it now: Phoenix keeps only its hash and cannot show it again\n`,
      );
    }),
  );

  withConnectionOptions(token.command('list').description('list tokens, revoked ones too')).action(
    (options: ConnectionOptions) =>
      runApiCommand(options, async (client) => {
        const answer = await client.listTokens();
        if (options.json) return printJson(answer);
        const now = Date.now();
        const rows = answer.tokens.map((record) => [
          { text: record.id },
          { text: record.name },
          { text: record.role },
          { text: formatAge(record.createdAt, now) },
          { text: record.lastUsedAt === undefined ? 'never' : formatAge(record.lastUsedAt, now) },
          record.revokedAt === undefined
            ? { text: 'active', style: pc.green }
            : { text: `revoked ${formatAge(record.revokedAt, now)}`, style: pc.dim },
        ]);
        process.stdout.write(
          `${formatTable(['ID', 'NAME', 'ROLE', 'CREATED', 'LAST USED', 'STATUS'], rows)}\n`,
        );
      }),
  );

  withConnectionOptions(
    token
      .command('revoke')
      .description('revoke a token: requests with it are refused from now on')
      .argument('<id>', 'the token id, as `phoenix token list` shows (tok_...)'),
  ).action((id: string, options: ConnectionOptions) =>
    runApiCommand(options, async (client) => {
      const answer = await client.revokeToken(id);
      if (options.json) return printJson(answer);
      process.stdout.write(`revoked token ${answer.token.id} "${answer.token.name}"\n`);
    }),
  );
}
