import { dirname, join, normalize, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadBuildspec, type Buildspec } from '../config/buildspec.js';
import {
  loadPhoenixConfig,
  PHOENIX_CONFIG_FILE,
  type PhoenixConfig,
} from '../config/phoenix-config.js';
import { DEFAULT_BUILDSPEC } from '../config/phoenix-schema.js';
import { checkAppspec } from '../config/appspec-check.js';
import type { Appspec } from '../config/appspec.js';
import { systemAccounts } from '../deploy/local-accounts.js';
import { loadReleaseAppspec, machineContext } from '../deploy/release-appspec.js';
import { formatIssue, ValidationError, type ValidationIssue } from '../shared/errors.js';
import { pathExists } from '../shared/path-exists.js';

interface ValidateOptions {
  config?: string;
  buildspec?: string;
}

export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description(
      'check phoenix.yml, the buildspec it names and an appspec beside it (or one buildspec) without running anything',
    )
    .option('--config <file>', 'phoenix.yml to check (default: phoenix.yml in the current folder)')
    .option(
      '--buildspec <file>',
      'buildspec to check; without --config, only this buildspec is checked',
    )
    .action(async (options: ValidateOptions) => {
      await validate(options);
    });
}

/** Every problem of both files is reported at once; any error makes one ValidationError (exit 2). */
async function validate(options: ValidateOptions): Promise<void> {
  if (options.config === undefined && options.buildspec !== undefined) {
    reportBuildspec(await loadBuildspec(resolve(options.buildspec), options.buildspec));
    return;
  }
  const configName = options.config ?? PHOENIX_CONFIG_FILE;
  if (
    options.config === undefined &&
    !(await pathExists(PHOENIX_CONFIG_FILE)) &&
    (await pathExists(DEFAULT_BUILDSPEC))
  ) {
    process.stderr.write(
      `note: no ${PHOENIX_CONFIG_FILE} here; checking ${DEFAULT_BUILDSPEC} alone\n`,
    );
    reportBuildspec(await loadBuildspec(resolve(DEFAULT_BUILDSPEC), DEFAULT_BUILDSPEC));
    return;
  }
  const config = await loadPhoenixConfig(resolve(configName), configName);
  const issues: ValidationIssue[] = [];
  printWarnings(config.warnings);
  process.stdout.write(`${configName}: ${describeConfig(config)}\n`);
  const buildspec =
    options.buildspec ?? normalize(join(dirname(configName), config.build.buildspec));
  if (options.buildspec === undefined && !(await pathExists(buildspec))) {
    issues.push(
      config.source.issue(
        ['build', 'buildspec'],
        `${buildspec}: file not found (phoenix init writes a starter)`,
      ),
    );
  } else {
    try {
      reportBuildspec(await loadBuildspec(resolve(buildspec), buildspec));
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      issues.push(...error.issues);
    }
  }
  issues.push(...(await appspecIssues(config, dirname(resolve(configName)))));
  if (issues.length > 0) throw new ValidationError(issues);
}

/**
 * The appspec beside phoenix.yml, if there is one, checked as each environment would deploy
 * it: its scripts relative to the folder, its hook functions mapped by the environment's
 * hook-commands or the appspec's PhoenixCommands, the users it names on this machine. A
 * release's appspec is the one in its artifact; most builds copy this one there.
 */
async function appspecIssues(config: PhoenixConfig, folder: string): Promise<ValidationIssue[]> {
  let spec: Appspec | undefined;
  try {
    spec = await loadReleaseAppspec(folder);
  } catch (error) {
    if (error instanceof ValidationError) return [...error.issues];
    throw error;
  }
  if (spec === undefined) return [];
  printWarnings(spec.warnings);
  const mappings =
    config.environments.length === 0
      ? [{}]
      : config.environments.map((environment) => environment.hookCommands);
  const found = new Map<string, ValidationIssue>();
  for (const functionCommands of mappings) {
    const issues = await checkAppspec(
      spec,
      machineContext(folder, systemAccounts, functionCommands),
    );
    for (const issue of issues) found.set(formatIssue(issue), issue);
  }
  if (found.size === 0) {
    const hooks = Object.values(spec.hooks).flat().length;
    process.stdout.write(`${spec.file}: valid appspec; ${hooks} hook${hooks === 1 ? '' : 's'}\n`);
  }
  return [...found.values()];
}

function describeConfig(config: PhoenixConfig): string {
  const environments = config.environments.map((environment) => environment.name);
  return [
    `valid ${PHOENIX_CONFIG_FILE}; service ${config.service}`,
    `${config.executionMode} runs`,
    config.release === undefined ? 'no release' : `release: ${config.release.start}`,
    `environments: ${environments.join(', ') || 'none'}`,
  ].join(', ');
}

function reportBuildspec(spec: Buildspec): void {
  printWarnings(spec.warnings);
  const phases = spec.phases.map(
    (phase) => `${phase.name} (${phase.commands.length + phase.finally.length} commands)`,
  );
  process.stdout.write(
    `${spec.file}: valid buildspec ${spec.version}; phases: ${phases.join(', ') || 'none'}\n`,
  );
}

function printWarnings(warnings: readonly ValidationIssue[]): void {
  for (const warning of warnings) process.stderr.write(`warning: ${formatIssue(warning)}\n`);
}
