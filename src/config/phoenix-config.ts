import { readFile } from 'node:fs/promises';
import { ValidationError, type ValidationIssue } from '../shared/errors.js';
import {
  DEFAULT_BRANCHES,
  DEFAULT_BUILD_RETRIES,
  DEFAULT_BUILD_TIMEOUT_MS,
  DEFAULT_BUILDSPEC,
  DEFAULT_EXECUTION_MODE,
  DEFAULT_GRACE_PERIOD_MS,
  DEFAULT_HEALTH_INTERVAL_MS,
  DEFAULT_HEALTH_MATCHER,
  DEFAULT_HEALTH_PATH,
  DEFAULT_HEALTH_TIMEOUT_MS,
  DEFAULT_HEALTHY_THRESHOLD,
  DEFAULT_INSTANCES,
  DEFAULT_PORT_ENV,
  DEFAULT_RETRY_ON,
  DEFAULT_UNHEALTHY_THRESHOLD,
  KNOWN_KEYS,
  parseStatusMatcher,
  phoenixSchema,
  type EXECUTION_MODES,
  type RawPhoenixConfig,
  type RawRelease,
  type RETRY_ON,
  type StatusMatcher,
} from './phoenix-schema.js';
import type { NotificationChannelConfig } from '../notify/notification-config.js';
import { environmentModel, type EnvironmentConfig } from './environment-config.js';
import { YamlSource } from './yaml-source.js';

export type { StatusMatcher };
export { statusMatches } from './phoenix-schema.js';
export type {
  CrashLoopConfig,
  EnvironmentConfig,
  ListenersConfig,
  StrategyConfig,
} from './environment-config.js';

export type ExecutionMode = (typeof EXECUTION_MODES)[number];
export type RetryOn = (typeof RETRY_ON)[number];

/**
 * Which pushes start a run. Globs as GitHub Actions: `*` stays within one `/` segment,
 * `**` crosses them; `!pattern` in an include list takes back what an earlier one included.
 */
export interface TriggerConfig {
  /** Branches that run; `['**']` (every branch) unless set. */
  branches: string[];
  branchesIgnore: string[];
  /** Tags run only when listed here; none by default. */
  tags: string[];
  tagsIgnore: string[];
  /** When set, a push runs only if a changed file matches; undefined: any change runs. */
  paths?: string[];
  pathsIgnore: string[];
}

export interface BuildConfig {
  /** Relative to the folder of phoenix.yml, inside the repository. */
  buildspec: string;
  timeoutMs: number;
  /** Extra attempts after a failed one, for the failures `retryOn` names. */
  retries: number;
  /** `platform`: killed, timed out, or Phoenix crashed; `any`: failing commands too. */
  retryOn: RetryOn;
  sandbox: boolean;
}

export interface HealthCheckConfig {
  path: string;
  intervalMs: number;
  timeoutMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  matcher: StatusMatcher;
  /** Failed checks do not count for this long after an instance starts. */
  gracePeriodMs: number;
}

/** How one instance of a release starts and how Phoenix knows it is healthy. */
export interface ReleaseConfig {
  start: string;
  /** The variable that tells an instance which port to listen on. */
  portEnv: string;
  instances: number;
  healthCheck: HealthCheckConfig;
}

export interface PhoenixConfig {
  file: string;
  service: string;
  trigger: TriggerConfig;
  executionMode: ExecutionMode;
  build: BuildConfig;
  /** Absent for a service that is built but never deployed. */
  release?: ReleaseConfig;
  /** In deployment order. */
  environments: EnvironmentConfig[];
  /** Where events of this service are sent (docs/notifications.md); none by default. */
  notifications: NotificationChannelConfig[];
  /** Settings that are valid but have no effect as written; printed, never silent. */
  warnings: ValidationIssue[];
  /** Locates any key of the original file, for errors found later (a missing buildspec). */
  source: YamlSource;
}

export const PHOENIX_CONFIG_FILE = 'phoenix.yml';

export async function loadPhoenixConfig(path: string, displayName = path): Promise<PhoenixConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'file not found (phoenix init writes a starter)'
        : (code ?? String(error));
    throw new ValidationError(
      [
        {
          location: { file: displayName, line: 1, column: 1 },
          key: '',
          message: `cannot read ${PHOENIX_CONFIG_FILE}: ${reason}`,
        },
      ],
      { cause: error },
    );
  }
  return parsePhoenixConfig(text, displayName);
}

/** Parses and validates a phoenix.yml; every problem in the file is reported at once. */
export function parsePhoenixConfig(text: string, file: string): PhoenixConfig {
  const source = YamlSource.parse(text, file);
  const js = source.toJS();
  if (js === null || typeof js !== 'object' || Array.isArray(js)) {
    throw new ValidationError([
      source.issue([], `${PHOENIX_CONFIG_FILE} must be a YAML mapping with at least a service`),
    ]);
  }
  const parsed = phoenixSchema.safeParse(js);
  const issues = [
    ...(parsed.success ? [] : source.zodIssues(parsed.error.issues, KNOWN_KEYS)),
    ...crossSectionIssues(source, js),
  ];
  if (!parsed.success || issues.length > 0) throw new ValidationError(issues);
  return buildModel(source, parsed.data);
}

/** Checks between sections, on the raw file so that they run even when a section is wrong. */
function crossSectionIssues(source: YamlSource, js: object): ValidationIssue[] {
  const environments: unknown = 'environments' in js ? js.environments : undefined;
  const release: unknown = 'release' in js ? js.release : undefined;
  if (!Array.isArray(environments) || environments.length === 0) return [];
  if (release === undefined) {
    return [
      source.issue(
        ['environments'],
        'environments deploy a release: add release.start, the command that starts the service',
      ),
    ];
  }
  const portEnv = isRecord(release) ? release['port-env'] : undefined;
  const portVariable = typeof portEnv === 'string' ? portEnv : DEFAULT_PORT_ENV;
  return environments.flatMap((environment, index) => {
    const variables = isRecord(environment) ? environment['variables'] : undefined;
    if (!isRecord(variables) || !(portVariable in variables)) return [];
    return [
      source.issue(
        ['environments', index, 'variables', portVariable],
        `${portVariable} is set by Phoenix for each instance (release.port-env): the port it must listen on`,
      ),
    ];
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function buildModel(source: YamlSource, raw: RawPhoenixConfig): PhoenixConfig {
  const warnings: ValidationIssue[] = [];
  const trigger = raw.trigger ?? {};
  const build = raw.build ?? {};
  if ((trigger['tags-ignore'] ?? []).length > 0 && (trigger.tags ?? []).length === 0) {
    warnings.push(
      source.issue(
        ['trigger', 'tags-ignore'],
        'has no effect: tags run only when listed in trigger.tags',
      ),
    );
  }
  const retries = build.retries ?? DEFAULT_BUILD_RETRIES;
  if (build['retry-on'] !== undefined && retries === 0) {
    warnings.push(source.issue(['build', 'retry-on'], 'has no effect with retries: 0'));
  }
  const releaseConfig = raw.release === undefined ? undefined : release(raw.release);
  return {
    file: source.file,
    service: raw.service,
    trigger: {
      branches: trigger.branches ?? [...DEFAULT_BRANCHES],
      branchesIgnore: trigger['branches-ignore'] ?? [],
      tags: trigger.tags ?? [],
      tagsIgnore: trigger['tags-ignore'] ?? [],
      paths: trigger.paths ?? undefined,
      pathsIgnore: trigger['paths-ignore'] ?? [],
    },
    executionMode: raw['execution-mode'] ?? DEFAULT_EXECUTION_MODE,
    build: {
      buildspec: build.buildspec ?? DEFAULT_BUILDSPEC,
      timeoutMs: build.timeout ?? DEFAULT_BUILD_TIMEOUT_MS,
      retries,
      retryOn: build['retry-on'] ?? DEFAULT_RETRY_ON,
      sandbox: build.sandbox ?? false,
    },
    release: releaseConfig,
    notifications: raw.notifications ?? [],
    environments: (raw.environments ?? []).map((environment, index) =>
      environmentModel(source, environment, {
        index,
        releaseInstances: releaseConfig?.instances ?? DEFAULT_INSTANCES,
        warnings,
      }),
    ),
    warnings,
    source,
  };
}

function release(raw: RawRelease): ReleaseConfig {
  const check = raw['health-check'] ?? {};
  return {
    start: raw.start,
    portEnv: raw['port-env'] ?? DEFAULT_PORT_ENV,
    instances: raw.instances ?? DEFAULT_INSTANCES,
    healthCheck: {
      path: check.path ?? DEFAULT_HEALTH_PATH,
      intervalMs: check.interval ?? DEFAULT_HEALTH_INTERVAL_MS,
      timeoutMs: check.timeout ?? DEFAULT_HEALTH_TIMEOUT_MS,
      healthyThreshold: check['healthy-threshold'] ?? DEFAULT_HEALTHY_THRESHOLD,
      unhealthyThreshold: check['unhealthy-threshold'] ?? DEFAULT_UNHEALTHY_THRESHOLD,
      matcher: check.matcher ?? defaultMatcher(),
      gracePeriodMs: check['grace-period'] ?? DEFAULT_GRACE_PERIOD_MS,
    },
  };
}

function defaultMatcher(): StatusMatcher {
  const matcher = parseStatusMatcher(DEFAULT_HEALTH_MATCHER);
  if (typeof matcher === 'string') throw new TypeError(matcher);
  return matcher;
}
