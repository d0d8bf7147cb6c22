import { posix } from 'node:path';
import { z } from 'zod';
import { NOTIFICATION_KEYS, notificationsSchema } from '../notify/notification-config.js';
import { ENVIRONMENT_KEYS, environmentsSchema, MAX_INSTANCES } from './environment-schema.js';
import { describeMs, duration, ENV_VARIABLE_PATTERN, integer, patterns } from './schema-parts.js';

export { ENVIRONMENT_NAME_PATTERN, MAX_INSTANCES } from './environment-schema.js';

/**
 * The shape of `phoenix.yml`, the service's pipeline file, and its defaults. Unknown keys
 * are errors, so a typo never becomes a silently ignored setting. Checks that compare keys
 * within one section live here too (as refinements), so that they run even when another
 * section of the file is wrong: every problem is reported at once.
 */

/** Service names appear in URLs, folder names and process names. */
export const SERVICE_NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;

export const EXECUTION_MODES = ['superseded', 'queued', 'parallel'] as const;
export const RETRY_ON = ['platform', 'any'] as const;

/** A trigger without `branches` runs for every branch. */
export const DEFAULT_BRANCHES: readonly string[] = ['**'];
export const DEFAULT_EXECUTION_MODE = 'superseded' satisfies (typeof EXECUTION_MODES)[number];
export const DEFAULT_BUILDSPEC = 'buildspec.yml';
/** As CodeBuild's default build timeout. */
export const DEFAULT_BUILD_TIMEOUT_MS = 60 * 60_000;
/** CodeBuild's longest build timeout. */
export const MAX_BUILD_TIMEOUT_MS = 36 * 3_600_000;
/** Builds are retried once when Phoenix, not the code, failed them. */
export const DEFAULT_BUILD_RETRIES = 1;
export const MAX_BUILD_RETRIES = 5;
export const DEFAULT_RETRY_ON = 'platform' satisfies (typeof RETRY_ON)[number];
export const DEFAULT_PORT_ENV = 'PORT';
export const DEFAULT_INSTANCES = 1;
export const DEFAULT_HEALTH_PATH = '/health';
export const DEFAULT_HEALTH_INTERVAL_MS = 5_000;
export const MIN_HEALTH_INTERVAL_MS = 500;
export const DEFAULT_HEALTH_TIMEOUT_MS = 2_000;
export const DEFAULT_HEALTHY_THRESHOLD = 2;
export const DEFAULT_UNHEALTHY_THRESHOLD = 3;
export const MAX_HEALTH_THRESHOLD = 10;
/** Any 2xx answer counts as healthy; redirects usually mean a login page, not health. */
export const DEFAULT_HEALTH_MATCHER = '200-299';
export const DEFAULT_GRACE_PERIOD_MS = 0;

/** Status codes a health check accepts, as `200`, `200,204` or `200-299` (combinable). */
export interface StatusMatcher {
  text: string;
  ranges: readonly { from: number; to: number }[];
}

export function parseStatusMatcher(text: string): StatusMatcher | string {
  const ranges: { from: number; to: number }[] = [];
  for (const part of text.split(',')) {
    const match = /^\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?$/.exec(part);
    if (match === null) return `"${text}" is not a status matcher such as 200, 200,204 or 200-299`;
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    if (from < 100 || to > 599) return `${part.trim()}: HTTP status codes are 100 to 599`;
    if (from > to) return `${part.trim()}: the range is reversed`;
    ranges.push({ from, to });
  }
  return { text: text.replace(/\s+/g, ''), ranges };
}

export function statusMatches(matcher: StatusMatcher, status: number): boolean {
  return matcher.ranges.some((range) => status >= range.from && status <= range.to);
}

const triggerSchema = z
  .object({
    branches: patterns('branch', { include: true }).nullish(),
    'branches-ignore': patterns('branch', { include: false, allowEmpty: true }).nullish(),
    tags: patterns('tag', { include: true, allowEmpty: true }).nullish(),
    'tags-ignore': patterns('tag', { include: false, allowEmpty: true }).nullish(),
    paths: patterns('path', { include: true }).nullish(),
    'paths-ignore': patterns('path', { include: false, allowEmpty: true }).nullish(),
  })
  .strict();

/** A file inside the repository: a pushed phoenix.yml must not name files outside it. */
const repositoryFile = z
  .string({ invalid_type_error: 'expected a file path relative to phoenix.yml' })
  .min(1, 'expected a file path relative to phoenix.yml')
  .superRefine((path, ctx) => {
    const normal = posix.normalize(path);
    if (posix.isAbsolute(path) || normal === '..' || normal.startsWith('../'))
      ctx.addIssue({
        code: 'custom',
        message: 'the buildspec must be a path inside the repository, relative to phoenix.yml',
      });
  });

const buildSchema = z
  .object({
    buildspec: repositoryFile.optional(),
    timeout: duration({ min: 0, above: true, max: MAX_BUILD_TIMEOUT_MS }).optional(),
    retries: integer('retries', 0, MAX_BUILD_RETRIES).optional(),
    'retry-on': z
      .enum(RETRY_ON, {
        errorMap: () => ({
          message:
            'expected platform (retry when Phoenix failed the build) or any (also when a command failed)',
        }),
      })
      .optional(),
    sandbox: z.boolean({ invalid_type_error: 'expected true or false' }).optional(),
  })
  .strict();

const healthCheckSchema = z
  .object({
    path: z
      .string({ invalid_type_error: 'expected a URL path such as /health' })
      .regex(/^\/\S*$/, 'expected a URL path starting with / (such as /health), without spaces')
      .optional(),
    interval: duration({ min: MIN_HEALTH_INTERVAL_MS }).optional(),
    timeout: duration({ min: 0, above: true }).optional(),
    'healthy-threshold': integer('healthy-threshold', 1, MAX_HEALTH_THRESHOLD).optional(),
    'unhealthy-threshold': integer('unhealthy-threshold', 1, MAX_HEALTH_THRESHOLD).optional(),
    matcher: z
      .union([z.string(), z.number()], {
        errorMap: () => ({ message: 'expected status codes such as 200, 200,204 or 200-299' }),
      })
      .transform((value, ctx) => {
        const matcher = parseStatusMatcher(String(value));
        if (typeof matcher !== 'string') return matcher;
        ctx.addIssue({ code: 'custom', message: matcher });
        return z.NEVER;
      })
      .optional(),
    'grace-period': duration({ min: 0 }).optional(),
  })
  .strict()
  .superRefine((check, ctx) => {
    const interval = check.interval ?? DEFAULT_HEALTH_INTERVAL_MS;
    const timeout = check.timeout ?? DEFAULT_HEALTH_TIMEOUT_MS;
    if (typeof interval !== 'number' || typeof timeout !== 'number' || timeout < interval) return;
    ctx.addIssue({
      code: 'custom',
      path: [check.timeout === undefined ? 'interval' : 'timeout'],
      message: `the timeout (${describeMs(timeout)}) must be shorter than the interval (${describeMs(interval)}): one check ends before the next starts`,
    });
  });

const releaseSchema = z
  .object(
    {
      start: z
        .string({
          required_error: 'start is required: the command that starts one instance, e.g. npm start',
          invalid_type_error: 'expected the command that starts one instance, e.g. npm start',
        })
        .trim()
        .min(1, 'expected the command that starts one instance, e.g. npm start'),
      'port-env': z
        .string({ invalid_type_error: 'expected an environment variable name such as PORT' })
        .regex(ENV_VARIABLE_PATTERN, 'expected an environment variable name such as PORT')
        .optional(),
      instances: integer('instances', 1, MAX_INSTANCES).optional(),
      'health-check': healthCheckSchema.nullish(),
    },
    { invalid_type_error: 'expected a mapping with at least start (e.g. start: npm start)' },
  )
  .strict();

export const phoenixSchema = z
  .object({
    service: z
      .string({
        required_error: 'service is required: the service name, used in URLs and folder names',
        invalid_type_error: 'expected a service name such as shop',
      })
      .regex(
        SERVICE_NAME_PATTERN,
        'service names are lowercase letters, digits and hyphens, start with a letter and have at most 63 characters (they appear in URLs and folder names)',
      ),
    trigger: triggerSchema.nullish(),
    'execution-mode': z
      .enum(EXECUTION_MODES, {
        errorMap: () => ({ message: `expected one of ${EXECUTION_MODES.join(', ')}` }),
      })
      .optional(),
    build: buildSchema.nullish(),
    release: releaseSchema.optional(),
    environments: environmentsSchema.nullish(),
    notifications: notificationsSchema.nullish(),
  })
  .strict();

export type RawPhoenixConfig = z.infer<typeof phoenixSchema>;
export type RawTrigger = z.infer<typeof triggerSchema>;
export type RawRelease = z.infer<typeof releaseSchema>;

/** Every key the schema knows, for "did you mean" hints. */
export const KNOWN_KEYS = [
  'service',
  'trigger',
  'branches',
  'branches-ignore',
  'tags',
  'tags-ignore',
  'paths',
  'paths-ignore',
  'execution-mode',
  'build',
  'buildspec',
  'timeout',
  'retries',
  'retry-on',
  'sandbox',
  'release',
  'start',
  'port-env',
  'instances',
  'health-check',
  'path',
  'interval',
  'healthy-threshold',
  'unhealthy-threshold',
  'matcher',
  'grace-period',
  'environments',
  ...ENVIRONMENT_KEYS,
  ...NOTIFICATION_KEYS,
] as const;
