import type { Command } from 'commander';
import pc from 'picocolors';
import {
  printJson,
  runApiCommand,
  withConnectionOptions,
  type ConnectionOptions,
} from './api-command.js';
import type { HostedRepository } from './api-types.js';

interface CreateOptions extends ConnectionOptions {
  defaultBranch?: string;
}

/** `phoenix repo create NAME`: a repository Phoenix hosts; pushing to it starts runs. */
export function registerRepoCommand(program: Command): void {
  const repo = program.command('repo').description('repositories Phoenix hosts');
  withConnectionOptions(
    repo
      .command('create')
      .description('create a hosted git repository and its service; a push to it starts a run')
      .argument('<name>', 'repository and service name')
      .option('--default-branch <branch>', 'branch `phoenix trigger` builds by default (main)'),
  ).action((name: string, options: CreateOptions) =>
    runApiCommand(options, async (client) => {
      const created = await client.createRepository({
        name,
        ...(options.defaultBranch === undefined ? {} : { defaultBranch: options.defaultBranch }),
      });
      if (options.json) return printJson(created);
      const branch = created.service?.defaultBranch ?? options.defaultBranch ?? 'main';
      process.stdout.write(`${formatPushInstructions(created, branch)}\n`);
    }),
  );
}

/** The push URL and the exact commands, with how git authenticates (the token is the password). */
export function formatPushInstructions(repository: HostedRepository, branch: string): string {
  const withToken = repository.pushUrl.replace(/^(https?:\/\/)/, '$1phoenix:<token>@');
  return [
    `${pc.green('created')} repository ${pc.bold(repository.name)}: ${repository.pushUrl}`,
    '',
    'Push to it from your repository:',
    `  git remote add phoenix ${repository.pushUrl}`,
    `  git push phoenix ${branch}`,
    '',
    'git asks for a user name and a password: any user name, and an API token as the password.',
    'To not be asked each time, use a credential helper (git config credential.helper store),',
    'or put the token in the remote URL (it is then stored in .git/config):',
    `  ${pc.dim(withToken)}`,
  ].join('\n');
}
