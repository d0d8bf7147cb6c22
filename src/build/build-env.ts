import { ValidationError, type ValidationIssue } from '../shared/errors.js';
import { allowedHostVariables, HOST_ALLOWLIST } from '../shared/host-env.js';
import { BUILD_MARK_VARIABLE } from './process-reaper.js';

/** Host variables a build may see; its HOME is its own folder, never the host's. */
const BUILD_HOST_VARIABLES = HOST_ALLOWLIST.filter((name) => name !== 'HOME');

export interface BuildIdentity {
  project: string;
  buildId: string;
  buildNumber: number;
  startTime: number;
  initiator: string;
  sourceDirectory: string;
  home: string;
  tmp: string;
  logPath: string;
  sourceVersion?: string;
  resolvedSourceVersion?: string;
  branch?: string;
  sourceRepoUrl?: string;
  /** CODEBUILD_WEBHOOK_* values (without the prefix), when a webhook started the build. */
  webhook?: Partial<
    Record<
      'TRIGGER' | 'EVENT' | 'HEAD_REF' | 'BASE_REF' | 'PREV_COMMIT' | 'ACTOR_ACCOUNT_ID',
      string
    >
  >;
  batchIdentifier?: string;
}

/** The variables CodeBuild sets, and Phoenix's own names for the same facts. */
export function codebuildVariables(identity: BuildIdentity): Record<string, string> {
  const variables: Record<string, string> = {
    CODEBUILD_BUILD_ID: identity.buildId,
    CODEBUILD_BUILD_ARN: `arn:phoenix:codebuild:local:000000000000:build/${identity.buildId}`,
    CODEBUILD_BUILD_NUMBER: String(identity.buildNumber),
    CODEBUILD_BUILD_SUCCEEDING: '1',
    CODEBUILD_BUILD_IMAGE: 'phoenix/local-host',
    CODEBUILD_CI: 'true',
    CODEBUILD_INITIATOR: identity.initiator,
    CODEBUILD_LOG_PATH: identity.logPath,
    CODEBUILD_PROJECT_ARN: `arn:phoenix:codebuild:local:000000000000:project/${identity.project}`,
    CODEBUILD_SRC_DIR: identity.sourceDirectory,
    CODEBUILD_START_TIME: String(identity.startTime),
    PHOENIX_BUILD_NUMBER: String(identity.buildNumber),
    PHOENIX_PROJECT: identity.project,
    PHOENIX_SRC_DIR: identity.sourceDirectory,
    [BUILD_MARK_VARIABLE]: identity.buildId,
  };
  setIf(variables, ['CODEBUILD_SOURCE_VERSION', 'PHOENIX_SOURCE_VERSION'], identity.sourceVersion);
  setIf(
    variables,
    ['CODEBUILD_RESOLVED_SOURCE_VERSION', 'PHOENIX_COMMIT'],
    identity.resolvedSourceVersion,
  );
  setIf(variables, ['CODEBUILD_SOURCE_REPO_URL', 'PHOENIX_REPO_URL'], identity.sourceRepoUrl);
  setIf(variables, ['PHOENIX_BRANCH'], identity.branch);
  setIf(variables, ['CODEBUILD_BATCH_BUILD_IDENTIFIER'], identity.batchIdentifier);
  for (const [name, value] of Object.entries(identity.webhook ?? {})) {
    setIf(variables, [`CODEBUILD_WEBHOOK_${name}`], value);
  }
  return variables;
}

function setIf(
  target: Record<string, string>,
  names: readonly string[],
  value: string | undefined,
): void {
  if (value === undefined) return;
  for (const name of names) target[name] = value;
}

/**
 * A build's whole environment, lowest precedence first: the host's allowlisted variables,
 * the buildspec's `env.variables`, resolved secrets, then overrides from whoever started the
 * build (CodeBuild's start-build overrides win over the buildspec), then the engine's own
 * CODEBUILD_/PHOENIX_ variables, which nobody may override.
 */
export function buildEnvironment(options: {
  host: NodeJS.ProcessEnv;
  buildspecVariables: Record<string, string>;
  secrets: Record<string, string>;
  overrides: Record<string, string>;
  identity: BuildIdentity;
}): Record<string, string> {
  const env = allowedHostVariables(options.host, BUILD_HOST_VARIABLES);
  env['HOME'] = options.identity.home;
  env['TMPDIR'] = options.identity.tmp;
  env['SHELL'] = '/bin/bash';
  Object.assign(env, options.buildspecVariables, options.secrets, options.overrides);
  Object.assign(env, codebuildVariables(options.identity));
  return env;
}

/** Parses `--env KEY=VALUE` arguments; names are checked like buildspec variables. */
export function parseOverrides(pairs: readonly string[]): Record<string, string> {
  const overrides: Record<string, string> = {};
  const issues: ValidationIssue[] = [];
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    const name = at === -1 ? pair : pair.slice(0, at);
    const location = { file: '--env', line: 1, column: 1 };
    if (at === -1) {
      issues.push({ location, key: name, message: 'expected KEY=VALUE' });
    } else if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      issues.push({
        location,
        key: name,
        message: 'environment variable names must be shell identifiers',
      });
    } else if (name.startsWith('CODEBUILD_') || name === BUILD_MARK_VARIABLE) {
      issues.push({ location, key: name, message: 'this name is reserved for the build engine' });
    } else {
      overrides[name] = pair.slice(at + 1);
    }
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return overrides;
}
