import { InvalidArgumentError, type Command } from 'commander';
import pc from 'picocolors';
import { formatDuration, parseDuration } from '../shared/durations.js';
import {
  printJson,
  runApiCommand,
  withConnectionOptions,
  type ConnectionOptions,
} from './api-command.js';
import type { ServiceView } from '../store/service-view.js';
import { colorStatus, formatAge } from './run-output.js';
import { formatTable } from './table.js';

interface AddOptions extends ConnectionOptions {
  repo: string;
  poll?: string;
  webhookSecret?: string;
  defaultBranch?: string;
}

/** `phoenix services`, `phoenix service add|show|remove`. */
export function registerServiceCommands(program: Command): void {
  withConnectionOptions(
    program.command('services').description('list services, with their latest run'),
  ).action((options: ConnectionOptions) =>
    runApiCommand(options, async (client) => {
      const answer = await client.listServices();
      if (options.json) return printJson(answer);
      if (answer.services.length === 0) {
        process.stdout.write('No services yet: `phoenix repo create NAME` makes one.\n');
        return;
      }
      process.stdout.write(`${formatServicesTable(answer.services, Date.now())}\n`);
    }),
  );

  const service = program.command('service').description('add, show and remove services');

  withConnectionOptions(
    service
      .command('add')
      .description('add a service built from an external repository, polled for new commits')
      .argument('<name>', 'service name')
      .requiredOption('--repo <url>', 'repository URL (https, ssh, file) or absolute path')
      .option(
        '--poll <interval>',
        'how often to look for new commits, e.g. 30s, 5m (default 1m)',
        duration,
      )
      .option('--webhook-secret <secret>', 'secret for GitHub webhooks to POST /hooks/github')
      .option('--default-branch <branch>', 'branch `phoenix trigger` builds by default (main)'),
  ).action((name: string, options: AddOptions) =>
    runApiCommand(options, async (client) => {
      const answer = await client.createService({
        name,
        repository: { url: options.repo },
        ...(options.poll === undefined ? {} : { pollInterval: options.poll }),
        ...(options.webhookSecret === undefined ? {} : { webhookSecret: options.webhookSecret }),
        ...(options.defaultBranch === undefined ? {} : { defaultBranch: options.defaultBranch }),
      });
      if (options.json) return printJson(answer);
      process.stdout.write(`${pc.green('added')} ${formatService(answer.service)}\n`);
    }),
  );

  withConnectionOptions(
    service.command('show').description("a service's settings").argument('<name>', 'service name'),
  ).action((name: string, options: ConnectionOptions) =>
    runApiCommand(options, async (client) => {
      const answer = await client.getService(name);
      if (options.json) return printJson(answer);
      process.stdout.write(`${formatService(answer.service)}\n`);
    }),
  );

  withConnectionOptions(
    service
      .command('remove')
      .description(
        'remove a service: cancel its unfinished runs, take down what it serves (a hosted repository is kept)',
      )
      .argument('<name>', 'service name'),
  ).action((name: string, options: ConnectionOptions) =>
    runApiCommand(options, async (client) => {
      const answer = await client.deleteService(name);
      if (options.json) return printJson(answer);
      const cancelled =
        answer.cancelledRuns > 0 ? ` and cancelled ${answer.cancelledRuns} unfinished runs` : '';
      process.stdout.write(`removed service ${answer.deleted}${cancelled}\n`);
      const { environments, listeners, instances } = answer.takenDown;
      if (environments.length > 0) {
        process.stdout.write(
          `took down ${environments.join(', ')}: ${listeners} listeners closed, ${instances} instances stopped\n`,
        );
      }
    }),
  );
}

function duration(text: string): string {
  if (parseDuration(text) === undefined)
    throw new InvalidArgumentError('is not a duration such as 30s, 5m or 1h');
  return text;
}

function repositoryOf(service: ServiceView): string {
  return service.repository.kind === 'hosted' ? service.repository.pushUrl : service.repository.url;
}

export function formatServicesTable(services: readonly ServiceView[], now: number): string {
  const rows = services.map((service) => {
    const last = service.lastRun;
    return [
      { text: service.name },
      { text: service.repository.kind },
      { text: repositoryOf(service) },
      { text: service.defaultBranch },
      {
        text:
          last === undefined
            ? '-'
            : `#${last.number} ${last.status} ${formatAge(last.createdAt, now)}`,
        style: (text: string) => (last === undefined ? text : colorStatus(last.status, text)),
      },
    ];
  });
  return formatTable(['NAME', 'KIND', 'REPOSITORY', 'BRANCH', 'LAST RUN'], rows);
}

function formatService(service: ServiceView): string {
  const lines = [
    `service ${pc.bold(service.name)}`,
    `  repository  ${repositoryOf(service)} (${service.repository.kind})`,
    `  branch      ${service.defaultBranch}`,
  ];
  if (service.pollIntervalMs !== undefined)
    lines.push(`  polled      every ${formatDuration(service.pollIntervalMs)}`);
  // Forge webhooks announce pushes to external repositories; hosted ones see their pushes.
  if (service.repository.kind === 'external') {
    const secret = service.webhook.secretConfigured
      ? 'secret set'
      : 'no secret: add one with --webhook-secret to accept GitHub deliveries';
    lines.push(`  webhook     ${service.webhook.url} (${secret})`);
  }
  if (service.lastRun !== undefined) {
    const last = service.lastRun;
    lines.push(
      `  last run    #${last.number} ${colorStatus(last.status, last.status)} ${formatAge(last.createdAt, Date.now())}`,
    );
  }
  return lines.join('\n');
}
