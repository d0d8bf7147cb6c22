import { Command } from 'commander';
import { registerApprovalCommands } from './approval-commands.js';
import { registerAuditCommands } from './audit-commands.js';
import { registerBuildCommand } from './build-command.js';
import { registerDeployCommands } from './deploy-commands.js';
import { registerInitCommand } from './init-command.js';
import { registerLoginCommand } from './login-command.js';
import { registerReleaseCommands } from './release-commands.js';
import { registerRepoCommand } from './repo-command.js';
import { registerRouterCommand } from './router-command.js';
import { registerRunCommands } from './run-commands.js';
import { registerSecretCommands } from './secret-commands.js';
import { registerServerCommand } from './server-command.js';
import { registerServiceCommands } from './service-commands.js';
import { registerTokenCommands } from './token-commands.js';
import { registerUpCommand } from './up-command.js';
import { registerValidateCommand } from './validate-command.js';

/**
 * `phoenix`: one entry point; each command lives in its own file. Kept apart from main.ts,
 * which runs the program when imported, so tests can inspect the definition.
 */
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
