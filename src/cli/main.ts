#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { PhoenixError } from '../shared/errors.js';
import { registerBuildCommand } from './build-command.js';
import { registerApprovalCommands } from './approval-commands.js';
import { registerAuditCommands } from './audit-commands.js';
import { registerUpCommand } from './up-command.js';
import { registerSecretCommands } from './secret-commands.js';
import { registerDeployCommands } from './deploy-commands.js';
import { registerInitCommand } from './init-command.js';
import { registerLoginCommand } from './login-command.js';
import { registerReleaseCommands } from './release-commands.js';
import { registerRepoCommand } from './repo-command.js';
import { registerRouterCommand } from './router-command.js';
import { registerRunCommands } from './run-commands.js';
import { registerServerCommand } from './server-command.js';
import { registerServiceCommands } from './service-commands.js';
import { registerTokenCommands } from './token-commands.js';
import { registerValidateCommand } from './validate-command.js';

/** `phoenix`: one entry point; each command lives in its own file. */
export function createProgram(): Command {
  const program = new Command('phoenix')
    .description(
      'Self-hosted, self-healing CI/CD: buildspec builds, pipelines and zero-downtime releases',
    )
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  registerBuildCommand(program);
  registerValidateCommand(program);
  registerServerCommand(program);
  registerRouterCommand(program);
  registerInitCommand(program);
  registerLoginCommand(program);
  registerTokenCommands(program);
  registerRepoCommand(program);
  registerServiceCommands(program);
  registerRunCommands(program);
  registerReleaseCommands(program);
  registerDeployCommands(program);
  registerApprovalCommands(program);
  registerSecretCommands(program);
  registerAuditCommands(program);
  registerUpCommand(program);
  return program;
}

async function main(argv: readonly string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof PhoenixError) {
      process.stderr.write(`phoenix: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv);
