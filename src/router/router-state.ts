import { ConflictError, NotFoundError } from '../shared/errors.js';
import type { ServerErrorRetry } from './retry-policy.js';
import { RouteValidationError, type RouteIssue } from './route-errors.js';
import {
  parseRoute,
  routerStateSchema,
  serverErrorRetrySchema,
  splitSchema,
  targetGroupSpecSchema,
} from './route-schemas.js';
import type { ListenerSpec, TargetGroupSpec, WeightedGroup } from './traffic-router.js';

/**
 * The routing table as plain data: what `routes.json` holds and what the admin API reads
 * and writes. Every change is a pure function from one state to the next, so the data plane
 * can persist the next state before it takes effect (write-ahead) and keep the old one if
 * the write fails.
 */
export interface RouterState {
  version: 1;
  listeners: readonly ListenerState[];
  targetGroups: readonly TargetGroupState[];
}

export interface ListenerState extends ListenerSpec {
  /** Empty until weights are applied: the listener answers 503 meanwhile. */
  split: readonly WeightedGroup[];
  /** Set with the split, cleared by the next split without it (see retry-policy.ts). */
  serverErrorRetry?: ServerErrorRetry;
}

export interface TargetGroupState extends TargetGroupSpec {
  /**
   * Targets taken out of rotation by a drain. Kept until the target leaves the group, so
   * that a repeated `putTargetGroup` or a router restart never sends traffic to a target
   * that is being stopped.
   */
  draining: readonly string[];
}

export function emptyRouterState(): RouterState {
  return { version: 1, listeners: [], targetGroups: [] };
}

/** The state in a `routes.json`, checked as strictly as the admin API checks each part. */
export function parseRouterState(value: unknown): RouterState {
  const raw = parseRoute(routerStateSchema, value);
  let state: RouterState = emptyRouterState();
  for (const [index, group] of raw.targetGroups.entries()) {
    const spec = parseRoute(targetGroupSpecSchema, withoutDraining(group), `targetGroups.${index}`);
    state = withTargetGroup(state, spec);
    state = withDraining(state, group.name, group.draining);
  }
  for (const [index, listener] of raw.listeners.entries()) {
    const { split, serverErrorRetry, ...spec } = listener;
    state = withListener(state, spec);
    if (split.length > 0) {
      const at = `listeners.${index}`;
      const parsed = parseRoute(splitSchema, split, `${at}.split`);
      const retry =
        serverErrorRetry === undefined
          ? undefined
          : parseRoute(serverErrorRetrySchema, serverErrorRetry, `${at}.serverErrorRetry`);
      state = withWeights(state, listener.name, parsed, retry);
    }
  }
  return state;
}

function withoutDraining(group: TargetGroupState): TargetGroupSpec {
  return { name: group.name, targets: group.targets, healthCheck: group.healthCheck };
}

/** Adds the listener or changes its port or host; its weights stay as they were. */
export function withListener(state: RouterState, spec: ListenerSpec): RouterState {
  const clash = state.listeners.find((l) => l.port === spec.port && l.name !== spec.name);
  if (clash !== undefined) {
    throw new ConflictError(`port ${spec.port} is already used by listener ${clash.name}`);
  }
  const existing = state.listeners.find((listener) => listener.name === spec.name);
  const listener = listenerState(spec, existing?.split ?? [], existing?.serverErrorRetry);
  return { ...state, listeners: replaceByName(state.listeners, listener) };
}

/**
 * Removes the listener and its split, which frees its groups for removal. Without such a
 * listener the very same state comes back, so a caller can tell that nothing changed.
 */
export function withoutListener(state: RouterState, name: string): RouterState {
  if (!state.listeners.some((listener) => listener.name === name)) return state;
  return { ...state, listeners: state.listeners.filter((listener) => listener.name !== name) };
}

/** Adds or replaces the group; drain marks stay on the targets that remain in it. */
export function withTargetGroup(state: RouterState, spec: TargetGroupSpec): RouterState {
  const existing = state.targetGroups.find((group) => group.name === spec.name);
  const ids = new Set(spec.targets.map((target) => target.id));
  const group: TargetGroupState = {
    name: spec.name,
    targets: spec.targets.map((target) => ({ ...target })),
    healthCheck: { ...spec.healthCheck, matcher: spec.healthCheck.matcher.map(([a, b]) => [a, b]) },
    draining: (existing?.draining ?? []).filter((id) => ids.has(id)),
  };
  return { ...state, targetGroups: replaceByName(state.targetGroups, group) };
}

/**
 * The listener's whole split, replaced at once; every group it names must exist. The
 * optional retry of a canary's 5xx names two groups of the split; a split without it
 * turns it off.
 */
export function withWeights(
  state: RouterState,
  listenerName: string,
  split: readonly WeightedGroup[],
  serverErrorRetry?: ServerErrorRetry,
): RouterState {
  const listener = findListener(state, listenerName);
  const issues: RouteIssue[] = [];
  for (const [index, entry] of split.entries()) {
    if (!state.targetGroups.some((group) => group.name === entry.group)) {
      issues.push({
        field: `split.${index}.group`,
        message: `there is no target group ${entry.group}: put it first`,
      });
    }
  }
  for (const end of ['from', 'to'] as const) {
    const group = serverErrorRetry?.[end];
    if (group !== undefined && !split.some((entry) => entry.group === group)) {
      issues.push({ field: `serverErrorRetry.${end}`, message: `${group} is not in the split` });
    }
  }
  if (issues.length > 0) throw new RouteValidationError(issues);
  const next = listenerState(listener, split, serverErrorRetry);
  return { ...state, listeners: replaceByName(state.listeners, next) };
}

/** Marks targets of the group draining; `all` marks every target it has now. */
export function withDraining(
  state: RouterState,
  groupName: string,
  targetIds: readonly string[] | 'all',
): RouterState {
  const group = findTargetGroup(state, groupName);
  const known = new Set(group.targets.map((target) => target.id));
  const ids = targetIds === 'all' ? [...known] : targetIds;
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new NotFoundError(`target group ${groupName} has no target ${unknown.join(', ')}`);
  }
  const draining = [...new Set([...group.draining, ...ids])];
  return { ...state, targetGroups: replaceByName(state.targetGroups, { ...group, draining }) };
}

/**
 * Removes the group. A group that still has weight on a listener is refused (shift the
 * weight away first); entries with weight 0 are dropped from the listeners' splits.
 */
export function withoutTargetGroup(state: RouterState, groupName: string): RouterState {
  findTargetGroup(state, groupName);
  const user = state.listeners.find((listener) =>
    listener.split.some((entry) => entry.group === groupName && entry.weight > 0),
  );
  if (user !== undefined) {
    const weight = user.split.find((entry) => entry.group === groupName)?.weight ?? 0;
    throw new ConflictError(
      `target group ${groupName} still has weight ${weight} on listener ${user.name}: shift it away before removing the group`,
    );
  }
  return {
    ...state,
    listeners: state.listeners.map((listener) => withoutGroupInSplit(listener, groupName)),
    targetGroups: state.targetGroups.filter((group) => group.name !== groupName),
  };
}

function withoutGroupInSplit(listener: ListenerState, groupName: string): ListenerState {
  if (!listener.split.some((entry) => entry.group === groupName)) return listener;
  const retry = listener.serverErrorRetry;
  const keepRetry = retry !== undefined && retry.from !== groupName && retry.to !== groupName;
  const split = listener.split.filter((entry) => entry.group !== groupName);
  return listenerState(listener, split, keepRetry ? retry : undefined);
}

function listenerState(
  spec: ListenerSpec,
  split: readonly WeightedGroup[],
  serverErrorRetry: ServerErrorRetry | undefined,
): ListenerState {
  return {
    name: spec.name,
    port: spec.port,
    ...(spec.host === undefined ? {} : { host: spec.host }),
    split: split.map((entry) => ({ group: entry.group, weight: entry.weight })),
    ...(serverErrorRetry === undefined ? {} : { serverErrorRetry: { ...serverErrorRetry } }),
  };
}

export function findListener(state: RouterState, name: string): ListenerState {
  const listener = state.listeners.find((candidate) => candidate.name === name);
  if (listener === undefined) throw new NotFoundError(`there is no listener ${name}`);
  return listener;
}

export function findTargetGroup(state: RouterState, name: string): TargetGroupState {
  const group = state.targetGroups.find((candidate) => candidate.name === name);
  if (group === undefined) throw new NotFoundError(`there is no target group ${name}`);
  return group;
}

function replaceByName<T extends { name: string }>(items: readonly T[], item: T): T[] {
  const index = items.findIndex((candidate) => candidate.name === item.name);
  if (index === -1) return [...items, item];
  return items.map((candidate, at) => (at === index ? item : candidate));
}
