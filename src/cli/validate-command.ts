import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadBuildspec } from '../config/buildspec.js';
import { formatIssue } from '../shared/errors.js';

export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('check a buildspec without running anything')
    .option('--buildspec <file>', 'buildspec file', 'buildspec.yml')
    .action(async (options: { buildspec: string }) => {
      const spec = await loadBuildspec(resolve(options.buildspec), options.buildspec);
      for (const warning of spec.warnings)
        process.stderr.write(`warning: ${formatIssue(warning)}\n`);
      const phases = spec.phases.map(
        (phase) => `${phase.name} (${phase.commands.length + phase.finally.length} commands)`,
      );
      process.stdout.write(
        `${options.buildspec}: valid buildspec ${spec.version}; phases: ${phases.join(', ') || 'none'}\n`,
      );
    });
}
