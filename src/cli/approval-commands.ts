import type { Command } from 'commander';
import pc from 'picocolors';
import type { Approval } from '../approval/approval.js';
import {
  printJson,
  runApiCommand,
  withConnectionOptions,
  type ConnectionOptions,
} from './api-command.js';
import { formatTable } from './table.js';

interface ApprovalsOptions extends ConnectionOptions {
  service?: string;
}

interface DecideOptions extends ConnectionOptions {
  env: string;
  comment?: string;
}

/** `phoenix approvals`, `phoenix approve`, `phoenix reject`. */
export function registerApprovalCommands(program: Command): void {
  withConnectionOptions(
    program
      .command('approvals')
      .description('approval gates waiting for a decision, oldest first')
      .option('--service <service>', 'only this service'),
  ).action((options: ApprovalsOptions) =>
    runApiCommand(options, async (client) => {
      const { approvals } = await client.approvals(
        options.service === undefined ? {} : { service: options.service },
      );
      if (options.json) return printJson({ approvals });
      if (approvals.length === 0) {
        process.stdout.write('No approval waits.\n');
        return undefined;
      }
      process.stdout.write(`${formatApprovals(approvals)}\n`);
      return undefined;
    }),
  );

  for (const decision of ['approve', 'reject'] as const) {
    withConnectionOptions(
      program
        .command(decision)
        .description(
          decision === 'approve'
            ? 'approve the gate before an environment: the run goes on to deploy once enough approve'
            : 'reject the gate before an environment: the run fails there',
        )
        .argument('<service>', 'service name')
        .requiredOption('--env <environment>', 'the environment, e.g. prod')
        .option('--comment <text>', 'why, recorded with the decision'),
    ).action((service: string, options: DecideOptions) =>
      runApiCommand(options, async (client) => {
        const { approval } = await client.decide(service, decision, {
          environment: options.env,
          ...(options.comment === undefined ? {} : { comment: options.comment }),
        });
        if (options.json) return printJson({ approval });
        const approvals = approval.votes.filter((v) => v.decision === 'approve').length;
        const state =
          approval.status === 'waiting'
            ? `${approvals} of ${approval.required} approvals, still waiting`
            : (approval.reason ?? approval.status);
        process.stdout.write(`${service} ${options.env}: ${state}\n`);
        return undefined;
      }),
    );
  }
}

export function formatApprovals(approvals: readonly Approval[], colors = pc): string {
  return formatTable(
    ['SERVICE', 'ENVIRONMENT', 'RUN', 'APPROVALS', 'EXPIRES', 'APPROVERS', 'REVIEW'],
    approvals.map((approval) => [
      { text: approval.service },
      { text: approval.environment, style: colors.bold },
      { text: approval.runId },
      {
        text: `${approval.votes.filter((v) => v.decision === 'approve').length}/${approval.required}`,
      },
      { text: approval.expiresAt.slice(0, 16).replace('T', ' ') },
      { text: approval.approvers.join(', ') },
      { text: approval.reviewUrl ?? approval.message ?? '' },
    ]),
    colors,
  );
}
