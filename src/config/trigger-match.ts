import picomatch from 'picomatch';
import type { PhoenixConfig, TriggerConfig } from './phoenix-config.js';

/**
 * Whether a push starts a run, by the rules GitHub Actions uses for `on.push`: `*` stays
 * within one `/` segment, `**` crosses segments, dotfiles match like any file; an ignore
 * list wins over the include list; a `!pattern` in an include list takes back what an
 * earlier pattern included (later patterns win).
 */

export interface PushEvent {
  /** `refs/heads/<branch>` or `refs/tags/<tag>`. */
  ref: string;
  /** Files the push changed; undefined when unknown (a new branch), then paths never block. */
  changedPaths?: readonly string[];
}

export interface TriggerMatch {
  matches: boolean;
  /** Why, in words a person reads in a log: `branch wip/x matches branches-ignore "wip/**"`. */
  reason: string;
}

export interface PatternMatch {
  matched: boolean;
  /** The pattern that decided; undefined when none matched. */
  pattern?: string;
}

const GLOB_OPTIONS = { dot: true, nonegate: true, windows: false } as const;

/** Evaluates an ordered pattern list; `!pattern` excludes what earlier patterns included. */
export function matchPatterns(patterns: readonly string[], value: string): PatternMatch {
  let result: PatternMatch = { matched: false };
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    const glob = negated ? pattern.slice(1) : pattern;
    if (negated !== result.matched) continue;
    if (picomatch.isMatch(value, glob, GLOB_OPTIONS)) result = { matched: !negated, pattern };
  }
  return result;
}

export function matchTrigger(trigger: TriggerConfig, event: PushEvent): TriggerMatch {
  const branch = stripPrefix(event.ref, 'refs/heads/');
  if (branch !== undefined) {
    const refMatch = matchRef('branch', branch, trigger.branches, trigger.branchesIgnore);
    if (!refMatch.matches || !hasPathFilters(trigger)) return refMatch;
    const pathMatch = matchPaths(trigger, event.changedPaths);
    return {
      matches: pathMatch.matches,
      reason: pathMatch.matches ? `${refMatch.reason}; ${pathMatch.reason}` : pathMatch.reason,
    };
  }
  const tag = stripPrefix(event.ref, 'refs/tags/');
  if (tag !== undefined) {
    // As GitHub Actions: path filters are not evaluated for tags.
    if (trigger.tags.length === 0)
      return { matches: false, reason: `tag ${tag}: tags run only when listed in tags` };
    return matchRef('tag', tag, trigger.tags, trigger.tagsIgnore);
  }
  return {
    matches: false,
    reason: `ref ${event.ref} is neither a branch (refs/heads/...) nor a tag (refs/tags/...)`,
  };
}

/** Names of the environments a run of `branch` deploys to, in order. */
export function environmentsFor(
  config: Pick<PhoenixConfig, 'environments'>,
  branch: string,
): string[] {
  return config.environments
    .filter(
      (environment) =>
        environment.branches === undefined || matchPatterns(environment.branches, branch).matched,
    )
    .map((environment) => environment.name);
}

function matchRef(
  kind: 'branch' | 'tag',
  name: string,
  include: readonly string[],
  ignore: readonly string[],
): TriggerMatch {
  const list = kind === 'branch' ? 'branches' : 'tags';
  const ignored = matchPatterns(ignore, name);
  if (ignored.matched)
    return {
      matches: false,
      reason: `${kind} ${name} matches ${list}-ignore "${ignored.pattern}"`,
    };
  const included = matchPatterns(include, name);
  if (included.matched)
    return { matches: true, reason: `${kind} ${name} matches ${list} "${included.pattern}"` };
  if (included.pattern !== undefined)
    return {
      matches: false,
      reason: `${kind} ${name} is excluded by ${list} "${included.pattern}"`,
    };
  return { matches: false, reason: `${kind} ${name} matches none of ${list} ${quoted(include)}` };
}

function matchPaths(
  trigger: TriggerConfig,
  changedPaths: readonly string[] | undefined,
): TriggerMatch {
  if (changedPaths === undefined)
    return { matches: true, reason: 'changed files unknown, so path filters do not apply' };
  if (changedPaths.length === 0)
    return { matches: false, reason: 'the push changed no files, and path filters are set' };
  let lastIgnored: { path: string; pattern: string } | undefined;
  for (const path of changedPaths) {
    const ignored = matchPatterns(trigger.pathsIgnore, path);
    if (ignored.matched) {
      lastIgnored = { path, pattern: ignored.pattern ?? '' };
      continue;
    }
    if (trigger.paths === undefined)
      return { matches: true, reason: `${path} matches no paths-ignore pattern` };
    const included = matchPatterns(trigger.paths, path);
    if (included.matched)
      return { matches: true, reason: `${path} matches paths "${included.pattern}"` };
  }
  if (lastIgnored !== undefined && trigger.paths === undefined) {
    return {
      matches: false,
      reason: `every changed file matches paths-ignore (${lastIgnored.path} matches "${lastIgnored.pattern}")`,
    };
  }
  return {
    matches: false,
    reason: `no changed file matches paths ${quoted(trigger.paths ?? [])}${lastIgnored === undefined ? '' : ' outside paths-ignore'}`,
  };
}

function hasPathFilters(trigger: TriggerConfig): boolean {
  return trigger.paths !== undefined || trigger.pathsIgnore.length > 0;
}

function stripPrefix(ref: string, prefix: string): string | undefined {
  return ref.startsWith(prefix) && ref.length > prefix.length
    ? ref.slice(prefix.length)
    : undefined;
}

function quoted(patterns: readonly string[]): string {
  return patterns.map((pattern) => `"${pattern}"`).join(', ');
}
