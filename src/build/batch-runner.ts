import type { Buildspec } from '../config/buildspec.js';
import { planBatch, type BatchPlan, type BatchTask } from './batch-plan.js';
import type { BuildSummary } from './build-result.js';
import type { BuildRequest, Executor } from './executor.js';

/**
 * Runs a batch plan's tasks (planBatch, batch-plan.ts) through an Executor, at most
 * `concurrency` at once, in dependency order.
 */

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
