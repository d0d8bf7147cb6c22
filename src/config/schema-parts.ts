import { z } from 'zod';
import { parseDuration } from '../shared/durations.js';

/**
 * Schema pieces that several sections of phoenix.yml share: durations with units, bounded
 * whole numbers, branch/tag/path patterns, variable names. Each carries the message a person
 * reads next to the file, line and key.
 */

/** A variable name as a shell accepts it: PORT, NODE_ENV, _private. */
export const ENV_VARIABLE_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function describeMs(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * A duration such as `30m`, `90s` or `500ms`, in milliseconds. A bare number needs a unit
 * (except 0): `timeout: 30` reads as minutes to some and seconds to others.
 */
export function duration(bounds: { min: number; max?: number; above?: boolean }) {
  return z
    .union([z.string(), z.number()], {
      errorMap: () => ({ message: 'expected a duration such as 30s, 5m or 500ms' }),
    })
    .transform((value, ctx) => {
      const ms = parseDuration(value);
      const unitless = typeof value === 'number' || /^\s*[\d.]+\s*$/.test(value);
      if (ms === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `"${value}" is not a duration such as 30s, 5m or 500ms`,
        });
      } else if (unitless && ms !== 0) {
        ctx.addIssue({
          code: 'custom',
          message: `${value} has no unit: write ${value}s or ${value}m`,
        });
      } else if (bounds.above === true ? ms <= bounds.min : ms < bounds.min) {
        ctx.addIssue({
          code: 'custom',
          message: `must be ${bounds.above === true ? 'more than' : 'at least'} ${describeMs(bounds.min)}`,
        });
      } else if (bounds.max !== undefined && ms > bounds.max) {
        ctx.addIssue({ code: 'custom', message: `must be at most ${describeMs(bounds.max)}` });
      } else {
        return ms;
      }
      return z.NEVER;
    });
}

export function integer(name: string, min: number, max: number) {
  return z
    .number({ invalid_type_error: `expected a whole number from ${min} to ${max}` })
    .int(`expected a whole number from ${min} to ${max}`)
    .min(min, `${name} must be ${min} to ${max}`)
    .max(max, `${name} must be ${min} to ${max}`);
}

export type PatternKind = 'branch' | 'tag' | 'path';

const LIST_NAMES: Record<PatternKind, string> = {
  branch: 'branches',
  tag: 'tags',
  path: 'paths',
};

/**
 * A glob or a list of globs. Include lists accept `!pattern` to take back part of what an
 * earlier pattern included (as GitHub Actions); ignore lists do not need it.
 */
export function patterns(kind: PatternKind, options: { include: boolean; allowEmpty?: boolean }) {
  const list = LIST_NAMES[kind];
  const pattern = z
    .string({
      invalid_type_error: `expected a ${kind} pattern (quote it if YAML reads it as a number)`,
    })
    .min(1, 'an empty pattern matches nothing')
    .superRefine((text, ctx) => {
      const problem = patternProblem(kind, text, options.include);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    });
  return z
    .union([z.array(pattern), pattern], {
      errorMap: (issue, ctx) =>
        issue.code === 'invalid_union'
          ? { message: `expected a ${kind} pattern or a list of them` }
          : { message: ctx.defaultError },
    })
    .transform((value) => (typeof value === 'string' ? [value] : value))
    .superRefine((items, ctx) => {
      if (items.length === 0 && options.allowEmpty !== true) {
        ctx.addIssue({
          code: 'custom',
          message: `an empty list matches no ${kind}: leave ${list} out to match every ${kind}`,
        });
      } else if (items.length > 0 && items.every((item) => item.startsWith('!'))) {
        ctx.addIssue({
          code: 'custom',
          message: `only "!" patterns match nothing: list what to include first, or use ${list}-ignore`,
        });
      }
    });
}

function patternProblem(kind: PatternKind, text: string, include: boolean): string | undefined {
  const negated = text.startsWith('!');
  const body = negated ? text.slice(1) : text;
  if (negated && !include)
    return `"!" patterns belong in ${LIST_NAMES[kind]}; an ignore list already excludes what it lists`;
  if (body === '') return 'a "!" pattern needs something to exclude';
  if (kind !== 'path' && body.startsWith('refs/'))
    return `write the ${kind} name without "${kind === 'branch' ? 'refs/heads/' : 'refs/tags/'}"`;
  if (kind === 'path' && (body.startsWith('/') || body.startsWith('./')))
    return `paths are relative to the repository root: write "${body.replace(/^\.?\/+/, '')}"`;
  return undefined;
}
