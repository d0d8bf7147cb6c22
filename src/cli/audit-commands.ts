import type { Command } from 'commander';
import type { AuditEntry } from '../store/audit-repository.js';
import {
  printJson,
  runApiCommand,
  withConnectionOptions,
  type ConnectionOptions,
} from './api-command.js';
import { formatTable } from './table.js';

interface AuditOptions extends ConnectionOptions {
  actor?: string;
  limit?: string;
}

/** `phoenix audit`: who did what, when, from where, and how it ended (admins). */
export function registerAuditCommands(program: Command): void {
  withConnectionOptions(
    program
      .command('audit')
      .description('the audit log, newest first: every mutating action and its outcome')
      .option('--actor <name>', "only this token's actions")
      .option('--limit <n>', 'at most this many entries (default 50)', '50'),
  ).action((options: AuditOptions) =>
    runApiCommand(options, async (client) => {
      const { entries } = await client.audit({
        limit: Number(options.limit ?? 50),
        ...(options.actor === undefined ? {} : { actor: options.actor }),
      });
      if (options.json) return printJson({ entries });
      process.stdout.write(`${formatAudit(entries)}\n`);
      return undefined;
    }),
  );
}

export function formatAudit(entries: readonly AuditEntry[]): string {
  return formatTable(
    ['TIME', 'ACTOR', 'ACTION', 'TARGET', 'STATUS', 'FROM'],
    entries.map((entry) => [
      { text: entry.time.slice(0, 19).replace('T', ' ') },
      { text: entry.role === undefined ? entry.actor : `${entry.actor} (${entry.role})` },
      { text: entry.action },
      {
        text: Object.entries(entry.target)
          .map(([key, value]) => `${key}=${value}`)
          .join(' '),
      },
      { text: String(entry.status) },
      { text: entry.ip ?? '' },
    ]),
  );
}
