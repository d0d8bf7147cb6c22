import { z } from 'zod';
import { RouteValidationError, type RouteIssue } from './route-errors.js';
import type { TargetSpec } from './traffic-router.js';

/**
 * The admin API's and routes.json's schemas, checked at the boundary with zod: one schema
 * gives the runtime check and the static type, and its issues name the offending field
 * (`split.1.weight`) for the problem response.
 */

/** Listener, target group and target names: plain, short, safe in URLs and metric labels. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const TARGET_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;
/** A hostname, an IPv4 address or an IPv6 address without brackets. */
const HOST = /^[A-Za-z0-9.:-]{1,253}$/;
/** An origin-form path: no spaces or control characters, which would break the request line. */
const HEALTH_PATH = /^\/[\x21-\x7e]{0,1023}$/;

export const nameSchema = z
  .string()
  .regex(NAME, 'is 1 to 64 letters, digits and . _ -, starting with a letter or digit');
const portSchema = z.number().int().min(1).max(65535);
const hostSchema = z.string().regex(HOST, 'is a hostname or an IP address');

export const listenerSpecSchema = z
  .object({ name: nameSchema, port: portSchema, host: hostSchema.optional() })
  .strict();

const targetSpecSchema = z
  .object({
    id: z.string().regex(TARGET_ID, 'is 1 to 128 letters, digits and . _ : @ -'),
    host: hostSchema,
    port: portSchema,
  })
  .strict();

const statusRange = z
  .tuple([z.number().int().min(100).max(599), z.number().int().min(100).max(599)])
  .refine(([low, high]) => low <= high, 'is [low, high] with low <= high');

export const healthCheckSchema = z
  .object({
    path: z.string().regex(HEALTH_PATH, 'is a path starting with / (no spaces)'),
    intervalMs: z.number().int().min(10).max(3_600_000),
    timeoutMs: z.number().int().min(1).max(120_000),
    healthyThreshold: z.number().int().min(1).max(10),
    unhealthyThreshold: z.number().int().min(1).max(10),
    matcher: z.array(statusRange).min(1).max(20),
    gracePeriodMs: z.number().int().min(0).max(3_600_000),
  })
  .strict();

export const targetGroupSpecSchema = z
  .object({
    name: nameSchema,
    targets: z.array(targetSpecSchema).max(1000),
    healthCheck: healthCheckSchema,
  })
  .strict()
  .superRefine((group, context) => {
    for (const issue of duplicateTargetIssues(group.targets)) {
      context.addIssue({ code: z.ZodIssueCode.custom, path: issue.path, message: issue.message });
    }
  });

export const splitSchema = z
  .array(z.object({ group: nameSchema, weight: z.number().int().min(0).max(100) }).strict())
  .min(1, 'names at least one target group')
  .max(20)
  .superRefine((split, context) => {
    const seen = new Set<string>();
    for (const [index, entry] of split.entries()) {
      if (seen.has(entry.group)) {
        context.addIssue({
          code: z.ZodIssueCode.custom,
          path: [index, 'group'],
          message: `names target group ${entry.group} twice`,
        });
      }
      seen.add(entry.group);
    }
    const total = split.reduce((sum, entry) => sum + entry.weight, 0);
    if (split.length > 0 && total !== 100) {
      context.addIssue({
        code: z.ZodIssueCode.custom,
        message: `weights add up to ${total}; they must add up to 100`,
      });
    }
  });

export const serverErrorRetrySchema = z
  .object({ from: nameSchema, to: nameSchema })
  .strict()
  .refine((retry) => retry.from !== retry.to, 'names two different groups');

export const routerStateSchema = z
  .object({
    version: z.literal(1),
    listeners: z.array(
      listenerSpecSchema.extend({
        split: z.array(z.unknown()),
        serverErrorRetry: z.unknown().optional(),
      }),
    ),
    targetGroups: z.array(
      z
        .object({
          name: nameSchema,
          targets: z.array(targetSpecSchema),
          healthCheck: healthCheckSchema,
          draining: z.array(z.string()),
        })
        .strict(),
    ),
  })
  .strict();

function duplicateTargetIssues(
  targets: readonly TargetSpec[],
): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const ids = new Map<string, number>();
  const addresses = new Map<string, number>();
  for (const [index, target] of targets.entries()) {
    const sameId = ids.get(target.id);
    if (sameId !== undefined) {
      issues.push({ path: [index, 'id'], message: `repeats the id of targets.${sameId}` });
    }
    const address = `${target.host}:${target.port}`;
    const sameAddress = addresses.get(address);
    if (sameAddress !== undefined) {
      issues.push({
        path: [index, 'port'],
        message: `repeats ${address} of targets.${sameAddress}`,
      });
    }
    ids.set(target.id, index);
    addresses.set(address, index);
  }
  return issues.map((issue) => ({ ...issue, path: ['targets', ...issue.path] }));
}

/** Checks `value` against `schema`; the error names every bad field under `prefix`. */
export function parseRoute<T extends z.ZodTypeAny>(
  schema: T,
  value: unknown,
  prefix = '',
  location: 'body' | 'path' | 'query' = 'body',
): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => issueOf(issue, prefix));
  throw new RouteValidationError(issues, location);
}

function issueOf(issue: z.ZodIssue, prefix: string): RouteIssue {
  const field = [prefix, ...issue.path.map(String)].filter((part) => part !== '').join('.');
  if (issue.code === z.ZodIssueCode.unrecognized_keys) {
    return { field, message: `unknown field ${issue.keys.join(', ')}` };
  }
  if (issue.code === z.ZodIssueCode.invalid_type && issue.received === 'undefined') {
    return { field, message: 'is required' };
  }
  return { field, message: issue.message };
}
