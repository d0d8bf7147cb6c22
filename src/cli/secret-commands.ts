import type { Command } from 'commander';
import pc from 'picocolors';
import { ALL_SERVICES, type SecretRecord } from '../secrets/secret.js';
import {
  printJson,
  runApiCommand,
  withConnectionOptions,
  type ConnectionOptions,
} from './api-command.js';
import { formatAge } from './run-output.js';
import { readSecretValue } from './secret-input.js';
import { formatTable } from './table.js';

interface ScopeOptions extends ConnectionOptions {
  service?: string;
  env?: string;
}

interface SetOptions extends ScopeOptions {
  valueFile?: string;
}

/** `phoenix secret set|list|rm`: secrets encrypted at rest, for builds and deployments. */
export function registerSecretCommands(program: Command): void {
  const secret = program
    .command('secret')
    .description('set, list and remove secrets (admin); values are never shown again');

  withScope(
    secret
      .command('set')
      .description(
        'create or replace a secret; the value is read from stdin (typed without echo on a terminal) or --value-file, never from the command line',
      )
      .argument('<name>', 'e.g. DB_PASSWORD or prod/db (what buildspec references name)')
      .option('--value-file <file>', 'read the value from this file instead of stdin'),
  ).action((name: string, options: SetOptions) =>
    runApiCommand(options, async (client) => {
      // Read before any request, so a missing value is a usage error with nothing sent.
      const value = await readSecretValue({
        name,
        stdin: process.stdin,
        prompt: process.stderr,
        ...(options.valueFile === undefined ? {} : { valueFile: options.valueFile }),
      });
      const answer = await client.setSecret(name, { value, ...scopeOf(options) });
      if (options.json) return printJson(answer);
      const verb = answer.secret.createdAt === answer.secret.updatedAt ? 'created' : 'updated';
      process.stdout.write(`${pc.green(verb)} secret ${describe(answer.secret)}\n`);
      return undefined;
    }),
  );

  withConnectionOptions(
    secret
      .command('list')
      .description('list secrets (names, scopes, who set them; never values)')
      .option('--service <service>', "only those a service sees: its own and all services'"),
  ).action((options: ScopeOptions) =>
    runApiCommand(options, async (client) => {
      const answer = await client.listSecrets(
        options.service === undefined ? {} : { service: options.service },
      );
      if (options.json) return printJson(answer);
      if (answer.secrets.length === 0) {
        process.stdout.write('No secrets.\n');
        return undefined;
      }
      process.stdout.write(`${formatSecrets(answer.secrets, Date.now())}\n`);
      return undefined;
    }),
  );

  withScope(
    secret
      .command('rm')
      .description('remove the secret at one scope; lookups then fall back to a wider one')
      .argument('<name>', 'the secret name'),
  ).action((name: string, options: ScopeOptions) =>
    runApiCommand(options, async (client) => {
      const answer = await client.removeSecret(name, scopeOf(options));
      if (options.json) return printJson(answer);
      process.stdout.write(`removed secret ${describe(answer.secret)}\n`);
      return undefined;
    }),
  );
}

function withScope(command: Command): Command {
  return withConnectionOptions(
    command
      .option('--service <service>', 'for this service only (default: all services)')
      .option('--env <environment>', 'for this environment only (default: all environments)'),
  );
}

function scopeOf(options: ScopeOptions): { service?: string; environment?: string } {
  return {
    ...(options.service === undefined ? {} : { service: options.service }),
    ...(options.env === undefined ? {} : { environment: options.env }),
  };
}

/** `DB_PASSWORD for service shop, environment prod`. */
function describe(secret: SecretRecord): string {
  const scope = secret.scope === ALL_SERVICES ? 'all services' : `service ${secret.scope}`;
  const environment =
    secret.environment === undefined ? 'all environments' : `environment ${secret.environment}`;
  return `${pc.bold(secret.name)} for ${scope}, ${environment}`;
}

export function formatSecrets(secrets: readonly SecretRecord[], now: number): string {
  const rows = secrets.map((secret) => [
    { text: secret.name },
    secret.scope === ALL_SERVICES ? { text: 'all', style: pc.dim } : { text: secret.scope },
    secret.environment === undefined
      ? { text: 'all', style: pc.dim }
      : { text: secret.environment },
    { text: formatAge(secret.updatedAt, now) },
    { text: secret.updatedBy },
  ]);
  return formatTable(['NAME', 'SERVICE', 'ENVIRONMENT', 'UPDATED', 'BY'], rows);
}
