import type { LogLine } from '../build/build-log.js';
import type { PhoenixConfig } from '../config/phoenix-config.js';
import { environmentsFor, matchTrigger } from '../config/trigger-match.js';
import type { Clock } from '../shared/clock.js';
import { ConflictError, PhoenixError, ValidationError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { branchOf } from '../source/ref-name.js';
import { approvalStageName } from './approval-stage.js';
import { deployStageName } from './deploy-stage.js';
import { ServiceLanes, type ExecutionMode, type Promotion } from './lanes.js';
import type { EventStore, RunStore } from './ports.js';
import {
  FINISHED_RUN_STATUSES,
  type Run,
  type Stage,
  type StageKind,
  type Trigger,
} from './run.js';
import type { RunEventBus } from './run-events.js';
import { RunCancelled, type StageResult, type StageRunners } from './stage-runner.js';

/** Loads a service's phoenix.yml as committed; throws ValidationError when it is invalid. */
export interface ConfigSource {
  load(service: string, commit: string): Promise<PhoenixConfig>;
}

export interface OrchestratorOptions {
  runs: RunStore;
  events: EventStore;
  bus: RunEventBus;
  configs: ConfigSource;
  runners: StageRunners;
  clock: Clock;
  logger: Logger;
  /** Kills whatever a stage started (a build's processes), found again after a restart. */
  reap: (stage: Stage) => Promise<void>;
}

export interface SubmitInput {
  service: string;
  ref: string;
  commit: string;
  trigger: Trigger;
  /** Files the push changed, for path filters; undefined when unknown. */
  changedPaths?: string[];
  /** Manual triggers run whatever the branch and path filters say. */
  ignoreFilters?: boolean;
}

export type SubmitResult = { run: Run } | { ignored: string };

const SHUTDOWN = 'shutdown';
const INTERRUPTED = 'the Phoenix server stopped while this stage ran';

/**
 * The stages a run of `ref` goes through: a release is recorded after the build when
 * phoenix.yml has a `release` section, then promoted through every environment whose
 * branches match the run's branch, in phoenix.yml's order: `approve:<environment>` first
 * where the environment needs an approval, then `deploy:<environment>`. Each stage waits for
 * the one before, so an environment is deployed only once the previous one finished healthy
 * (its bake included). Environments without listeners cannot be deployed and are left out,
 * unless none of the matching ones has any: then the first is kept, and its stage says why
 * it fails. A tag's run goes to the environments that name no branches.
 */
export function stagesFor(config: PhoenixConfig, ref: string): { name: string; kind: StageKind }[] {
  const stages: { name: string; kind: StageKind }[] = [
    { name: 'source', kind: 'source' },
    { name: 'build', kind: 'build' },
  ];
  if (config.release === undefined) return stages;
  stages.push({ name: 'release', kind: 'release' });
  const branch = branchOf(ref);
  const names =
    branch === undefined
      ? config.environments.filter((e) => e.branches === undefined).map((e) => e.name)
      : environmentsFor(config, branch);
  const matching = config.environments.filter((e) => names.includes(e.name));
  const deployable = matching.filter((e) => e.listeners !== undefined);
  for (const environment of deployable.length > 0 ? deployable : matching.slice(0, 1)) {
    if (environment.approval !== undefined) {
      stages.push({ name: approvalStageName(environment.name), kind: 'approval' });
    }
    stages.push({ name: deployStageName(environment.name), kind: 'deploy' });
  }
  return stages;
}

/**
 * Moves runs through their stages: admission by execution mode, one stage at a time, every
 * change recorded in the store before it takes effect, events on the bus after. Cancel, retry
 * and recovery after a restart go through the same paths.
 */
export class Orchestrator {
  private readonly lanes = new ServiceLanes();
  private readonly active = new Map<string, AbortController>();
  private readonly configs = new Map<string, PhoenixConfig>();
  private readonly finished = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  /** Stages a restart interrupted, by `runId:index`: what their attempt had started. */
  private readonly interrupted = new Map<string, string | undefined>();
  private stopping = false;

  constructor(private readonly o: OrchestratorOptions) {}

  /** Records a run for a push (or a manual trigger) and starts it when its turn comes. */
  async submit(input: SubmitInput): Promise<SubmitResult> {
    let config: PhoenixConfig;
    try {
      config = await this.o.configs.load(input.service, input.commit);
    } catch (error) {
      // Whatever stops the configuration from loading is recorded: a push never vanishes.
      const invalid =
        error instanceof ValidationError
          ? error
          : new ValidationError([
              {
                location: { file: 'phoenix.yml', line: 1, column: 1 },
                key: '',
                message: `cannot be read: ${errorMessage(error)}`,
              },
            ]);
      return { run: this.recordInvalid(input, invalid) };
    }
    if (!input.ignoreFilters) {
      const match = matchTrigger(config.trigger, {
        ref: input.ref,
        changedPaths: input.changedPaths,
      });
      if (!match.matches) return { ignored: match.reason };
    }
    let run = this.o.runs.create({ ...input, stages: stagesFor(config, input.ref) });
    this.configs.set(run.id, config);
    this.emitCreated(run);
    run = this.stage(run, 0, 'running', { startedAt: this.now() });
    run = this.stage(run, 0, 'succeeded', {
      finishedAt: this.now(),
      output: { commit: input.commit, ref: input.ref, executionMode: config.executionMode },
    });
    this.schedule(run.id);
    return { run };
  }

  /** Stops a run now: its stage's processes are killed, or it leaves the queue. */
  async cancel(runId: string, actor: string): Promise<Run> {
    const run = this.o.runs.get(runId);
    if (FINISHED_RUN_STATUSES.includes(run.status)) {
      throw new ConflictError(`run ${run.service} #${run.number} is already ${run.status}`);
    }
    this.record(run.id, 'run.cancel-requested', { actor });
    const controller = this.active.get(runId);
    if (controller !== undefined) {
      const done = this.completion(runId);
      controller.abort(new RunCancelled(actor));
      await done;
      return this.o.runs.get(runId);
    }
    let current = run;
    for (const stage of run.stages) {
      if (stage.status === 'pending')
        current = this.stage(current, stage.index, 'cancelled', {
          reason: `cancelled by ${actor}`,
        });
    }
    this.finishRun(current, 'cancelled', `cancelled by ${actor}`);
    return this.o.runs.get(runId);
  }

  /** Re-runs a failed or cancelled run from its first stage that did not succeed. */
  async retry(runId: string, actor: string): Promise<Run> {
    let run = this.o.runs.get(runId);
    if (run.status !== 'failed' && run.status !== 'cancelled') {
      throw new ConflictError(
        `run ${run.service} #${run.number} is ${run.status}; only failed or cancelled runs can be retried`,
      );
    }
    const config = await this.configFor(run);
    // Another retry (or a cancel) may have moved the run while the config loaded.
    run = this.o.runs.get(runId);
    if (run.status !== 'failed' && run.status !== 'cancelled') {
      throw new ConflictError(`run ${run.service} #${run.number} is ${run.status} already`);
    }
    if (run.stages.some((stage) => stage.kind === 'source' && stage.status !== 'succeeded')) {
      throw new ConflictError(
        `run ${run.service} #${run.number} failed before its build (${run.reason ?? 'invalid phoenix.yml'}); push a fix instead`,
      );
    }
    this.configs.set(run.id, config);
    for (const stage of run.stages) {
      if (stage.status === 'cancelled' && stage.startedAt === undefined)
        run = this.stage(run, stage.index, 'pending');
    }
    run = this.o.runs.transition(run.id, 'queued', { reason: `retried by ${actor}` });
    this.record(run.id, 'run.retried', { actor });
    this.o.bus.emit({ type: 'run.status', run, status: 'queued', reason: run.reason });
    this.schedule(run.id);
    return run;
  }

  /**
   * After a restart: stages that were running when the control plane died are failed with
   * that reason (their processes reaped) and their runs go back in line; queued and waiting
   * runs are scheduled again, oldest first.
   */
  async recover(): Promise<{ resumed: number; failed: number }> {
    let resumed = 0;
    let failed = 0;
    const unfinished = this.o.runs
      .unfinished()
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    for (const original of unfinished) {
      let run = original;
      const interrupted = run.stages.filter((s) => s.status === 'running');
      for (const stage of interrupted) {
        this.interrupted.set(stageKey(run.id, stage.index), stage.externalId);
        await this.o.reap(stage);
        run = this.stage(run, stage.index, 'failed', {
          reason: INTERRUPTED,
          platformFailure: true,
          finishedAt: this.now(),
        });
      }
      let config: PhoenixConfig;
      try {
        config = await this.configFor(run);
      } catch (error) {
        this.finishRun(run, 'failed', `cannot resume: ${errorMessage(error)}`);
        failed++;
        continue;
      }
      // A stage that keeps taking the server down must not be resumed for ever: restarts
      // count against the build's retries. A deploy stage's deployment goes on by itself in
      // the deployment controller (which recovers it); resuming the stage only follows it.
      const exhausted = interrupted.find(
        (stage) => stage.kind !== 'deploy' && stage.attempt > config.build.retries,
      );
      if (exhausted !== undefined) {
        this.finishRun(
          run,
          'failed',
          `${exhausted.name} failed: ${INTERRUPTED} (attempt ${exhausted.attempt}; build.retries is ${config.build.retries})`,
        );
        failed++;
        continue;
      }
      if (run.status === 'running') {
        run = this.o.runs.transition(run.id, 'failed', { reason: INTERRUPTED });
        run = this.o.runs.transition(run.id, 'queued', { reason: 'resumed after a restart' });
      }
      this.record(run.id, 'run.resumed', {});
      this.schedule(run.id);
      resumed++;
    }
    return { resumed, failed };
  }

  /** Stops every running stage; their runs stay recorded as running, for recover() to resume. */
  async stop(): Promise<void> {
    this.stopping = true;
    const pending = [...this.active.keys()].map((id) => this.completion(id));
    for (const controller of this.active.values()) controller.abort(SHUTDOWN);
    await Promise.all(pending);
  }

  /** Resolves when the run is finished (or the orchestrator stops). */
  whenFinished(runId: string): Promise<void> {
    const run = this.o.runs.get(runId);
    if (FINISHED_RUN_STATUSES.includes(run.status)) return Promise.resolve();
    return this.completion(runId);
  }

  private schedule(runId: string): void {
    void this.advance(runId).catch((error: unknown) => this.crashed(runId, error));
  }

  private async advance(runId: string): Promise<void> {
    if (this.stopping) return;
    const run = this.o.runs.get(runId);
    if (FINISHED_RUN_STATUSES.includes(run.status)) return;
    const next = nextStage(run);
    if (next === undefined) {
      this.finishRun(run, 'succeeded');
      return;
    }
    const admission = this.lanes.enter(run.service, this.modeOf(run), run.id, next.name);
    if (!admission.go) {
      if (admission.superseded !== undefined) this.supersede(admission.superseded, run);
      if (run.status === 'running') {
        const waiting = this.o.runs.transition(run.id, 'waiting', {
          reason: `waiting for ${next.name}`,
        });
        this.o.bus.emit({
          type: 'run.status',
          run: waiting,
          status: 'waiting',
          reason: waiting.reason,
        });
      }
      return;
    }
    await this.execute(run, next);
  }

  private async execute(original: Run, stage: Stage): Promise<void> {
    const runner = this.o.runners[stage.kind];
    let run = original;
    if (run.status !== 'running') {
      run = this.o.runs.transition(
        run.id,
        'running',
        run.startedAt ? {} : { startedAt: this.now() },
      );
      this.o.bus.emit({ type: 'run.status', run, status: 'running' });
    }
    const key = stageKey(run.id, stage.index);
    const interrupted = this.interrupted.has(key)
      ? { externalId: this.interrupted.get(key) }
      : undefined;
    this.interrupted.delete(key);
    run = this.stage(run, stage.index, 'running', { startedAt: this.now(), reason: undefined });
    const controller = new AbortController();
    this.active.set(run.id, controller);
    let result: StageResult;
    try {
      result =
        runner === undefined
          ? {
              status: 'failed',
              reason: `no runner for ${stage.kind} stages`,
              platformFailure: true,
            }
          : await runner.run({
              run,
              stage: run.stages[stage.index] ?? stage,
              config: await this.configFor(run),
              signal: controller.signal,
              ...(interrupted === undefined ? {} : { interrupted }),
              started: async (info) => {
                this.o.runs.updateStage(run.id, stage.index, info);
                this.record(run.id, 'stage.started', { index: stage.index, ...info });
              },
              log: (line: LogLine) =>
                this.o.bus.emit({ type: 'log', runId: run.id, index: stage.index, line }),
            });
    } catch (error) {
      this.o.logger.error({ runId: run.id, stage: stage.name, err: error }, 'stage runner failed');
      result = {
        status: 'failed',
        reason: `Phoenix failed: ${errorMessage(error)}`,
        platformFailure: true,
      };
    } finally {
      this.active.delete(run.id);
    }
    if (this.stopping && controller.signal.reason === SHUTDOWN) {
      this.settle(run.id);
      return;
    }
    this.afterStage(run.id, stage, result);
  }

  private afterStage(runId: string, stage: Stage, result: StageResult): void {
    let run = this.stage(this.o.runs.get(runId), stage.index, result.status, {
      finishedAt: this.now(),
      reason: result.reason,
      platformFailure: result.platformFailure,
      output: result.output,
    });
    const promoted = this.lanes.leave(run.service, run.id, stage.name);
    if (result.status === 'succeeded') this.schedule(run.id);
    else if (result.status === 'cancelled') {
      for (const later of run.stages.filter((s) => s.status === 'pending')) {
        run = this.stage(run, later.index, 'cancelled', { reason: 'the run was cancelled' });
      }
      this.finishRun(run, 'cancelled', result.reason ?? 'cancelled');
    } else
      this.finishRun(run, 'failed', `${stage.name} failed: ${result.reason ?? 'unknown reason'}`);
    if (promoted !== undefined) this.promote(promoted);
  }

  private finishRun(
    run: Run,
    status: 'succeeded' | 'failed' | 'cancelled' | 'superseded',
    reason?: string,
  ): void {
    const finished = this.o.runs.transition(run.id, status, { finishedAt: this.now(), reason });
    this.record(run.id, 'run.finished', { status, reason });
    this.o.bus.emit({ type: 'run.status', run: finished, status, reason });
    this.configs.delete(run.id);
    const promotions = this.lanes.finish(
      run.service,
      run.id,
      (id) => nextStage(this.o.runs.get(id))?.name,
    );
    this.settle(run.id);
    for (const promotion of promotions) this.promote(promotion);
  }

  private supersede(runId: string, by: Run): void {
    const run = this.o.runs.get(runId);
    if (FINISHED_RUN_STATUSES.includes(run.status)) return;
    this.finishRun(
      run,
      'superseded',
      `superseded by run #${by.number} (${by.commit.slice(0, 12)})`,
    );
  }

  private promote(promotion: Promotion): void {
    this.schedule(promotion.runId);
  }

  private recordInvalid(input: SubmitInput, error: ValidationError): Run {
    let run = this.o.runs.create({ ...input, stages: [{ name: 'source', kind: 'source' }] });
    this.emitCreated(run);
    run = this.stage(run, 0, 'running', { startedAt: this.now() });
    run = this.stage(run, 0, 'failed', {
      finishedAt: this.now(),
      reason: error.message,
      output: { issues: error.issues.map((issue) => ({ ...issue })) },
    });
    const failed = this.o.runs.transition(run.id, 'failed', {
      finishedAt: this.now(),
      reason: `invalid configuration: ${error.message}`,
    });
    this.record(run.id, 'run.finished', { status: 'failed', reason: failed.reason });
    this.o.bus.emit({ type: 'run.status', run: failed, status: 'failed', reason: failed.reason });
    return failed;
  }

  private stage(
    run: Run,
    index: number,
    status: Stage['status'],
    fields: Parameters<RunStore['transitionStage']>[3] = {},
  ): Run {
    const updated = this.o.runs.transitionStage(run.id, index, status, fields);
    this.record(run.id, 'stage.status', { index, status, reason: fields.reason });
    this.o.bus.emit({ type: 'stage.status', run: updated, index, status, reason: fields.reason });
    return updated;
  }

  private emitCreated(run: Run): void {
    this.record(run.id, 'run.created', { trigger: run.trigger, commit: run.commit, ref: run.ref });
    this.o.bus.emit({ type: 'run.created', run });
  }

  private record(runId: string, type: string, data: Record<string, unknown>): void {
    this.o.events.append(runId, type, data);
  }

  private async configFor(run: Run): Promise<PhoenixConfig> {
    const cached = this.configs.get(run.id);
    if (cached !== undefined) return cached;
    const config = await this.o.configs.load(run.service, run.commit);
    this.configs.set(run.id, config);
    return config;
  }

  private modeOf(run: Run): ExecutionMode {
    return this.configs.get(run.id)?.executionMode ?? 'superseded';
  }

  private completion(runId: string): Promise<void> {
    let entry = this.finished.get(runId);
    if (entry === undefined) {
      let resolve = (): void => undefined;
      const promise = new Promise<void>((done) => (resolve = done));
      entry = { promise, resolve };
      this.finished.set(runId, entry);
    }
    return entry.promise;
  }

  private settle(runId: string): void {
    this.finished.get(runId)?.resolve();
    this.finished.delete(runId);
  }

  private crashed(runId: string, error: unknown): void {
    this.o.logger.error({ runId, err: error }, 'pipeline failed to advance a run');
    try {
      const run = this.o.runs.get(runId);
      if (!FINISHED_RUN_STATUSES.includes(run.status)) {
        this.finishRun(run, 'failed', `Phoenix failed: ${errorMessage(error)}`);
      }
    } catch (inner) {
      this.o.logger.error({ runId, err: inner }, 'could not record the failure of a run');
    }
  }

  private now(): string {
    return new Date(this.o.clock.now()).toISOString();
  }
}

function stageKey(runId: string, index: number): string {
  return `${runId}:${index}`;
}

/** The first stage that has not succeeded: where a run goes next. */
export function nextStage(run: Run): Stage | undefined {
  return run.stages.find((stage) => stage.status !== 'succeeded' && stage.status !== 'skipped');
}

function errorMessage(error: unknown): string {
  return error instanceof PhoenixError || error instanceof Error ? error.message : String(error);
}
