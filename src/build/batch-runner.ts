import type { Buildspec } from '../config/buildspec.js';
import { isYes } from '../config/buildspec.js';
import type { RawBatch, RawBatchEnv } from '../config/buildspec-schema.js';
import type { KeyPath } from '../config/yaml-source.js';
import { formatIssue, UnsupportedError, ValidationError } from '../shared/errors.js';
import type { BuildSummary } from './build-result.js';
import type { BuildRequest, Executor } from './executor.js';

/**
 * CodeBuild batch builds run on one machine: a buildspec's `batch` section becomes a plan of
 * tasks (planBatch, pure), then runBatch runs the tasks through an Executor, at most
 * `concurrency` at once, in dependency order.
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

export type BatchTaskStatus = BuildSummary['status'] | 'SKIPPED';

export interface BatchTaskResult {
  identifier: string;
  status: BatchTaskStatus;
  /** Why the task did not succeed or did not run. */
  reason?: string;
  /** Absent for tasks that never ran, or whose build could not start. */
  summary?: BuildSummary;
  ignoreFailure: boolean;
}

export interface BatchSummary {
  status: 'SUCCEEDED' | 'FAILED' | 'STOPPED';
  kind: string;
  /** One result per task, in plan order. */
  tasks: BatchTaskResult[];
  warnings: string[];
  durationMs: number;
}

export interface RunBatchOptions {
  executor: Executor;
  spec: Buildspec;
  /** The batch's own build request; each task runs it with its buildspec and variables. */
  request: BuildRequest;
  /** At most this many tasks run at once; default DEFAULT_BATCH_CONCURRENCY. */
  concurrency?: number;
  now?: () => number;
  /** Aborting stops the running tasks, skips the pending ones, and the batch ends STOPPED. */
  signal?: AbortSignal;
  onTaskStart?: (identifier: string) => void;
  /** Called once per task, skipped tasks included (they have no onTaskStart). */
  onTaskEnd?: (result: BatchTaskResult) => void;
}

/** Tasks running at once when the caller does not say: a small machine stays responsive. */
export const DEFAULT_BATCH_CONCURRENCY = 2;

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

/**
 * Plans the spec's batch and runs its tasks. Resolves with every task's result whatever the
 * outcome; rejects only when the plan is refused (UnsupportedError, ValidationError) or a
 * callback throws. A task whose build cannot start (the executor rejects) is a FAULT task.
 */
export async function runBatch(options: RunBatchOptions): Promise<BatchSummary> {
  const now = options.now ?? Date.now;
  const started = now();
  const plan = planBatch(options.spec);
  const concurrency = options.concurrency ?? DEFAULT_BATCH_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  const run = new BatchRun(plan, options, concurrency);
  const results = await run.run();
  return {
    status: batchStatus(results, run.stopped),
    kind: plan.kind,
    tasks: plan.tasks.flatMap((task) => results.get(task.identifier) ?? []),
    warnings: plan.warnings,
    durationMs: now() - started,
  };
}

function batchStatus(
  results: ReadonlyMap<string, BatchTaskResult>,
  stopped: boolean,
): BatchSummary['status'] {
  if (stopped) return 'STOPPED';
  return [...results.values()].every(succeededOrIgnored) ? 'SUCCEEDED' : 'FAILED';
}

function succeededOrIgnored(result: BatchTaskResult): boolean {
  return result.status === 'SUCCEEDED' || result.ignoreFailure;
}

/** One run of a plan: starts tasks as dependencies and concurrency allow, driven by task ends. */
class BatchRun {
  private readonly pending: BatchTask[];
  private readonly running = new Map<string, AbortController>();
  private readonly results = new Map<string, BatchTaskResult>();
  /** Set once the batch stops starting tasks (outer abort or fast-fail); skipped tasks give it. */
  private stopReason: string | undefined;
  /** Resolves or rejects run(); set when it starts. */
  private settle: (error?: unknown) => void = () => undefined;
  /** The outer signal was aborted. */
  stopped = false;

  constructor(
    private readonly plan: BatchPlan,
    private readonly options: RunBatchOptions,
    private readonly concurrency: number,
  ) {
    this.pending = [...plan.tasks];
  }

  run(): Promise<ReadonlyMap<string, BatchTaskResult>> {
    const signal = this.options.signal;
    return new Promise((resolve, reject) => {
      // Running tasks end STOPPED and schedule again, which skips the pending ones; an abort
      // before the first schedule makes that schedule skip every task.
      const onAbort = (): void => {
        this.stopped = true;
        this.stop('the batch was stopped');
      };
      const settle = (error?: unknown): void => {
        signal?.removeEventListener('abort', onAbort);
        if (error === undefined) resolve(this.results);
        else reject(error);
      };
      this.settle = settle;
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
      this.guard(() => this.schedule());
    });
  }

  /** Skips what can no longer run, starts what may, and settles when nothing is left. */
  private schedule(): void {
    for (let skipped = true; skipped;) {
      skipped = false;
      for (const task of [...this.pending]) {
        const reason = this.stopReason ?? this.blockedBy(task);
        if (reason !== undefined) {
          this.end({
            identifier: task.identifier,
            status: 'SKIPPED',
            reason,
            ignoreFailure: task.ignoreFailure,
          });
          skipped = true;
        } else if (this.ready(task) && this.running.size < this.concurrency) {
          this.start(task);
        }
      }
    }
    if (this.pending.length > 0 && this.running.size === 0) {
      // planBatch rules out cycles and unknown identifiers, so this cannot happen; never hang.
      for (const task of [...this.pending]) {
        this.end({
          identifier: task.identifier,
          status: 'SKIPPED',
          reason: 'its dependencies can never finish',
          ignoreFailure: task.ignoreFailure,
        });
      }
    }
    if (this.pending.length === 0 && this.running.size === 0) this.settle();
  }

  /** Why a task will never run because of a dependency, if it will not. */
  private blockedBy(task: BatchTask): string | undefined {
    for (const dependency of task.dependOn) {
      const result = this.results.get(dependency);
      if (result === undefined || result.status === 'SUCCEEDED') continue;
      if (result.status === 'SKIPPED') return `dependency ${dependency} was skipped`;
      if (!result.ignoreFailure) return `dependency ${dependency} ended ${result.status}`;
    }
    return undefined;
  }

  private ready(task: BatchTask): boolean {
    return task.dependOn.every((dependency) => this.results.has(dependency));
  }

  private start(task: BatchTask): void {
    this.pending.splice(this.pending.indexOf(task), 1);
    const controller = new AbortController();
    this.running.set(task.identifier, controller);
    this.options.onTaskStart?.(task.identifier);
    void this.execute(task, controller.signal).then((result) =>
      this.guard(() => {
        this.running.delete(task.identifier);
        this.end(result);
        if (this.plan.fastFail && !succeededOrIgnored(result) && this.stopReason === undefined) {
          this.stop(`fast-fail: task ${task.identifier} ended ${result.status}`);
        }
        this.schedule();
      }),
    );
  }

  private async execute(task: BatchTask, signal: AbortSignal): Promise<BatchTaskResult> {
    const request = this.options.request;
    const base = { identifier: task.identifier, ignoreFailure: task.ignoreFailure };
    try {
      const summary = await this.options.executor.run(
        {
          ...request,
          buildspec: task.buildspec ?? request.buildspec,
          overrides: { ...task.variables, ...request.overrides },
          batchIdentifier: task.identifier,
          project: request.project,
        },
        signal,
      );
      return { ...base, status: summary.status, reason: summary.reason, summary };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { ...base, status: 'FAULT', reason: `the build could not start: ${reason}` };
    }
  }

  private end(result: BatchTaskResult): void {
    const index = this.pending.findIndex((task) => task.identifier === result.identifier);
    if (index >= 0) this.pending.splice(index, 1);
    this.results.set(result.identifier, result);
    this.options.onTaskEnd?.(result);
  }

  /**
   * Starts nothing more and aborts every running task; they end STOPPED through the executor,
   * and the next schedule skips the pending ones.
   */
  private stop(reason: string): void {
    this.stopReason ??= reason;
    for (const controller of this.running.values()) controller.abort();
  }

  /** A throwing callback rejects the batch after stopping its tasks, instead of going unhandled. */
  private guard(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.stopReason ??= 'the batch failed';
      for (const controller of this.running.values()) controller.abort();
      this.settle(error);
    }
  }
}
