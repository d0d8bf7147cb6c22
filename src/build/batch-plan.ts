import type { Buildspec } from '../config/buildspec.js';
import { isYes } from '../config/buildspec.js';
import type { RawBatch, RawBatchEnv } from '../config/buildspec-schema.js';
import type { KeyPath } from '../config/yaml-source.js';
import { formatIssue, UnsupportedError, ValidationError } from '../shared/errors.js';

/**
 * CodeBuild batch builds run on one machine: a buildspec's `batch` section becomes a plan of
 * tasks (planBatch, pure), which runBatch (batch-runner.ts) runs through an Executor.
 */

export type BatchKind = 'build-list' | 'build-graph' | 'build-matrix';

export interface BatchTask {
  identifier: string;
  /** Buildspec for this task; absent means the batch's own buildspec. */
  buildspec?: string;
  /** The task's env.variables; they win over the buildspec's, start-build overrides win over them. */
  variables: Record<string, string>;
  /** A failure of this task neither fails the batch nor skips its dependents. */
  ignoreFailure: boolean;
  dependOn: string[];
  /** Settings of this task Phoenix cannot honour on the host. */
  warnings: string[];
}

export interface BatchPlan {
  kind: BatchKind;
  fastFail: boolean;
  tasks: BatchTask[];
  /** Every warning of the batch: those about the whole batch, then each task's own. */
  warnings: string[];
}

/** Longest piece of a variable's value kept in a generated matrix identifier. */
const MAX_IDENTIFIER_VALUE_LENGTH = 32;

/** Batch env settings that choose CodeBuild's machine; Phoenix always runs on the host. */
const HOST_SETTINGS = ['image', 'compute-type', 'fleet', 'type'] as const;

/** Turns a buildspec's batch section into tasks; refuses what Phoenix cannot run. */
export function planBatch(spec: Buildspec): BatchPlan {
  const batch = spec.batch;
  if (batch === undefined) {
    throw new UnsupportedError([
      spec.source.issue(['batch'], 'the buildspec has no batch section'),
    ]);
  }
  if (batch['build-fanout'] !== undefined) {
    throw new UnsupportedError([
      spec.source.issue(
        ['batch', 'build-fanout'],
        'build-fanout needs test splitting, which Phoenix does not have; use build-list or build-matrix',
      ),
    ]);
  }
  const fastFail = batch['fast-fail'] ?? false;
  const planned = planTasks(spec, batch);
  const tasks = planned.tasks;
  if (tasks.length === 0) {
    throw new ValidationError([spec.source.issue(['batch'], 'the batch section lists no tasks')]);
  }
  if (planned.kind === 'build-graph') checkAcyclic(spec, tasks);
  const warnings = [...planned.warnings, ...tasks.flatMap((task) => task.warnings)];
  return { kind: planned.kind, fastFail, tasks, warnings };
}

function planTasks(
  spec: Buildspec,
  batch: RawBatch,
): { kind: BatchKind; tasks: BatchTask[]; warnings: string[] } {
  const list = batch['build-list'];
  if (list !== undefined) {
    const tasks = list.map((raw, index) => listTask(spec, ['batch', 'build-list', index], raw));
    return { kind: 'build-list', tasks, warnings: [] };
  }
  const graph = batch['build-graph'];
  if (graph !== undefined) {
    const tasks = graph.map((raw, index) => ({
      ...listTask(spec, ['batch', 'build-graph', index], raw),
      dependOn: [...(raw['depend-on'] ?? [])],
    }));
    return { kind: 'build-graph', tasks, warnings: [] };
  }
  const matrix = batch['build-matrix'];
  if (matrix !== undefined) return { kind: 'build-matrix', ...matrixTasks(spec, matrix) };
  throw new ValidationError([
    spec.source.issue(['batch'], 'expected one of build-list, build-graph or build-matrix'),
  ]);
}

type RawListTask = NonNullable<RawBatch['build-list']>[number];

function listTask(spec: Buildspec, path: KeyPath, raw: RawListTask): BatchTask {
  const who = `task ${raw.identifier}`;
  const warnings = envWarnings(spec, [...path, 'env'], who, raw.env);
  if (raw['debug-session'] === true) {
    warnings.push(
      warning(
        spec,
        [...path, 'debug-session'],
        `${who} asks for a debug session; Phoenix has none`,
      ),
    );
  }
  return {
    identifier: raw.identifier,
    buildspec: raw.buildspec,
    variables: stringValues(raw.env?.variables ?? {}),
    ignoreFailure: raw['ignore-failure'] ?? false,
    dependOn: [],
    warnings,
  };
}

function envWarnings(
  spec: Buildspec,
  path: KeyPath,
  who: string,
  env: RawBatchEnv | undefined,
): string[] {
  if (env === undefined) return [];
  const warnings: string[] = [];
  for (const key of HOST_SETTINGS) {
    const value = env[key];
    if (value === undefined) continue;
    warnings.push(
      warning(
        spec,
        [...path, key],
        `${who} asks for ${key} ${value}; Phoenix runs it on this host`,
      ),
    );
  }
  if (isYes(env['privileged-mode'])) {
    warnings.push(
      warning(
        spec,
        [...path, 'privileged-mode'],
        `${who} asks for privileged mode; Phoenix runs it on this host, with the host's privileges`,
      ),
    );
  }
  return warnings;
}

type RawMatrix = NonNullable<RawBatch['build-matrix']>;

/** One axis of the matrix: every task takes one of its values. */
interface Dimension {
  values: string[];
  /** The piece of the identifier naming a value; absent when the axis does not name tasks. */
  label?: (value: string) => string;
  apply: (task: BatchTask, value: string) => void;
}

function matrixTasks(
  spec: Buildspec,
  matrix: RawMatrix,
): { tasks: BatchTask[]; warnings: string[] } {
  const base: KeyPath = ['batch', 'build-matrix'];
  const staticEnv = matrix.static?.env;
  const dynamic = matrix.dynamic;
  const warnings = envWarnings(spec, [...base, 'static', 'env'], 'every matrix task', staticEnv);
  const dimensions: Dimension[] = [];
  if (dynamic?.buildspec !== undefined) {
    dimensions.push({
      values: dynamic.buildspec,
      label: sanitize,
      apply: (task, value) => (task.buildspec = value),
    });
  }
  for (const [name, values] of Object.entries(dynamic?.env?.variables ?? {})) {
    dimensions.push({
      values: values.map(String),
      label: (value) => `${name}_${sanitize(value).slice(0, MAX_IDENTIFIER_VALUE_LENGTH)}`,
      apply: (task, value) => (task.variables[name] = value),
    });
  }
  for (const key of ['image', 'compute-type', 'fleet'] as const) {
    const values = dynamic?.env?.[key];
    if (values === undefined) continue;
    const path = [...base, 'dynamic', 'env', key];
    const message = `matrix tasks ask for ${key} ${values.join(', ')}; Phoenix runs them on this host`;
    const duplicates =
      values.length > 1 ? ', so tasks differing only in it run the same build' : '';
    warnings.push(warning(spec, path, message + duplicates));
    dimensions.push({
      values,
      // A single image or machine names nothing; several must still give distinct identifiers.
      label: values.length > 1 ? (value) => `${key}_${sanitize(value)}` : undefined,
      apply: () => undefined,
    });
  }
  const template: BatchTask = {
    identifier: '',
    variables: stringValues(staticEnv?.variables ?? {}),
    ignoreFailure: matrix.static?.['ignore-failure'] ?? false,
    dependOn: [],
    warnings: [],
  };
  const used = new Set<string>();
  const tasks = product(dimensions).map((choice) => {
    const task: BatchTask = { ...template, variables: { ...template.variables } };
    const labels: string[] = [];
    choice.forEach((value, index) => {
      const dimension = dimensions[index];
      if (dimension === undefined) return;
      dimension.apply(task, value);
      if (dimension.label !== undefined) labels.push(dimension.label(value));
    });
    task.identifier = uniqueIdentifier(sanitize(labels.join('_')) || 'build_matrix', used);
    return task;
  });
  return { tasks, warnings };
}

/** Every combination of one value per dimension, the first dimension varying slowest. */
function product(dimensions: readonly Dimension[]): string[][] {
  let combinations: string[][] = [[]];
  for (const dimension of dimensions) {
    combinations = combinations.flatMap((prefix) =>
      dimension.values.map((value) => [...prefix, value]),
    );
  }
  return combinations;
}

/** Letters, digits and single underscores, as CodeBuild identifiers must be. */
function sanitize(text: string): string {
  return text
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_|_$/g, '');
}

function uniqueIdentifier(identifier: string, used: Set<string>): string {
  let candidate = identifier;
  for (let n = 2; used.has(candidate); n++) candidate = `${identifier}_${n}`;
  used.add(candidate);
  return candidate;
}

/** Refuses a build-graph whose depend-on lists form a cycle, naming the tasks in it. */
function checkAcyclic(spec: Buildspec, tasks: readonly BatchTask[]): void {
  const byId = new Map(tasks.map((task) => [task.identifier, task]));
  const finished = new Set<string>();
  const path: string[] = [];
  const visit = (identifier: string): string[] | undefined => {
    if (finished.has(identifier)) return undefined;
    const start = path.indexOf(identifier);
    if (start >= 0) return [...path.slice(start), identifier];
    path.push(identifier);
    for (const dependency of byId.get(identifier)?.dependOn ?? []) {
      const cycle = visit(dependency);
      if (cycle !== undefined) return cycle;
    }
    path.pop();
    finished.add(identifier);
    return undefined;
  };
  for (const task of tasks) {
    const cycle = visit(task.identifier);
    if (cycle === undefined) continue;
    const index = tasks.findIndex((candidate) => candidate.identifier === cycle[0]);
    throw new ValidationError([
      spec.source.issue(
        ['batch', 'build-graph', index, 'depend-on'],
        `dependency cycle: ${cycle.join(' -> ')}`,
      ),
    ]);
  }
}

function warning(spec: Buildspec, path: KeyPath, message: string): string {
  return formatIssue(spec.source.issue(path, message));
}

function stringValues(values: Record<string, string | number | boolean>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [name, String(value)]));
}
