import type { Runtime } from '../runtime/runtime.js';
import type { TrafficRouter } from '../router/traffic-router.js';
import type { Clock } from '../shared/clock.js';
import { HOOK_MARK_VARIABLE } from '../config/appspec-hooks.js';
import { ConflictError, ExternalServiceError, NotFoundError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { reapMarkedProcesses } from '../shared/marked-processes.js';
import type { DeployContext, EnvironmentListeners } from './deploy-context.js';
import { isFinished, type Deployment } from './deployment.js';
import { deploymentLogFile } from './deployment-hooks.js';
import { prepareDeployment, type DeployInput } from './deployment-request.js';
import { waitFor } from './clock-wait.js';
import {
  DeploymentRunner,
  errorMessage,
  ROLLBACK_RETRY_FIRST_MS,
  ROLLBACK_RETRY_MAX_MS,
  STEP_RETRY_LIMIT_MS,
} from './deployment-runner.js';
import { environmentStatus, type EnvironmentStatus } from './environment-status.js';
import { systemAccounts, type LocalAccounts } from './local-accounts.js';
import { heldFrom, Holds } from './holds.js';
import { Promotions } from './promotions.js';
import { StepExecutor } from './step-executor.js';
import { targetGroupName } from './target-group.js';
import type { DeploymentChange, DeploymentStore, ReleaseSource } from './ports.js';
import {
  decideRecovery,
  needsProductionWeights,
  type ObservedProduction,
  type RecoveryDecision,
} from './recovery.js';

export type { DeployInput, EnvironmentStatus };

/** How long draining the previous release may take before requests in flight are cut off. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

export interface DeploymentControllerOptions {
  deployments: DeploymentStore;
  /** Phoenix's secrets, for `{ secret: NAME }` variables (see environmentOf). */
  secret?: DeployContext['secret'];
  runtime: Runtime;
  router: TrafficRouter;
  releases: ReleaseSource;
  /** The store's clock too: bake times survive a restart through the recorded step start. */
  clock: Clock;
  logger: Logger;
  listenersFor(service: string, environment: string): EnvironmentListeners;
  logDirectory: string;
  drainTimeoutMs?: number;
  stopGraceMs?: number;
  accounts?: LocalAccounts;
  hostEnv?: NodeJS.ProcessEnv;
  /** Called after every recorded change (for event streams); must not throw. */
  onChange?: (deployment: Deployment) => void;
}

export interface RecoveryReport {
  decisions: { deploymentId: string; decision: RecoveryDecision }[];
}

interface InFlight {
  abort: AbortController;
  done: Promise<void>;
}

/** What `teardown` took down. */
export interface TeardownResult {
  environments: string[];
  listeners: number;
  targetGroups: number;
  instances: number;
}

/**
 * Runs deployments: each is recorded before anything happens outside, then its planned steps
 * run one at a time, each recorded before it starts (write-ahead). A failing step rolls the
 * deployment back (recorded first too). `recover` picks up what a stopped control plane left.
 *
 * Lifecycle: call `runtime.adopt()` before `recover()`, so that the instances of deployments
 * in flight are known again; `stop()` before closing the store. One deployment per
 * environment runs at a time (the store refuses a second: ConflictError).
 */
export class DeploymentController {
  private readonly context: DeployContext;
  private readonly runner: DeploymentRunner;
  private readonly inFlight = new Map<string, InFlight>();
  /** Serving releases whose instances are being brought back after a restart. */
  private readonly restoring = new Map<string, InFlight>();
  private readonly steps: StepExecutor;
  private readonly promotions = new Promotions();
  private readonly holds = new Holds();
  private readonly waiters = new Map<string, ((deployment: Deployment) => void)[]>();
  private stopped = false;

  constructor(private readonly o: DeploymentControllerOptions) {
    this.context = {
      runtime: o.runtime,
      router: o.router,
      releases: o.releases,
      clock: o.clock,
      logger: o.logger,
      listenersFor: o.listenersFor,
      logDirectory: o.logDirectory,
      drainTimeoutMs: o.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS,
      ...(o.stopGraceMs === undefined ? {} : { stopGraceMs: o.stopGraceMs }),
      accounts: o.accounts ?? systemAccounts,
      hostEnv: o.hostEnv ?? process.env,
      ...(o.secret === undefined ? {} : { secret: o.secret }),
      promotions: this.promotions,
      holds: this.holds,
      note: (id, event) => {
        o.deployments.append(id, event);
        this.changed(id);
      },
    };
    this.steps = new StepExecutor(this.context);
    this.runner = new DeploymentRunner(this.context, {
      deployments: o.deployments,
      record: (id, change) => this.record(id, change),
      finish: (id, change) => this.finish(id, change),
    });
  }

  /**
   * Records a pending deployment and returns it; the deployment then runs on its own (see
   * `whenFinished`). Refuses, before recording anything, what cannot work (see
   * prepareDeployment); ConflictError when the environment has a deployment in flight.
   */
  async deploy(input: DeployInput): Promise<Deployment> {
    const prepared = await prepareDeployment(this.context, this.o.deployments, input);
    const deployment = this.o.deployments.create(prepared);
    this.o.onChange?.(deployment);
    this.launch(deployment.id, (signal) => this.runner.execute(deployment.id, 0, signal));
    return deployment;
  }

  /**
   * A person lets a held deployment go on (`promote: manual`), or cuts the current bake
   * short (the judging of that share ends; the next step runs now). ConflictError when the
   * deployment waits for nothing a promotion ends.
   */
  promote(id: string, actor: string): Deployment {
    const deployment = this.o.deployments.get(id);
    const step = deployment.plan[deployment.step];
    if (
      isFinished(deployment.status) ||
      (step?.kind !== 'await-promotion' && step?.kind !== 'bake')
    ) {
      throw new ConflictError(
        `deployment ${id} is ${deployment.status}: it waits for no promotion (only a hold or a bake can be promoted)`,
      );
    }
    this.context.note(id, { type: 'deployment.promoted', data: { actor, step: deployment.step } });
    this.promotions.grant(id);
    return this.o.deployments.get(id);
  }

  /**
   * A person pauses a deployment: it finishes the step under way and takes no next one; a
   * bake under way goes on judging the new release past its time (an alarm still rolls it
   * back). ConflictError when it has finished, is rolling back or draining, or is paused.
   */
  pause(id: string, actor: string): Deployment {
    const deployment = this.o.deployments.get(id);
    const stuck = ['rolling-back', 'draining', 'pending'].includes(deployment.status);
    if (isFinished(deployment.status) || stuck || this.holds.isHeld(id)) {
      const why = this.holds.isHeld(id) ? 'paused already' : deployment.status;
      throw new ConflictError(`deployment ${id} is ${why}: it cannot be paused`);
    }
    this.holds.hold(id);
    this.context.note(id, { type: 'deployment.paused', data: { actor, step: deployment.step } });
    return this.o.deployments.get(id);
  }

  /** Lets a paused deployment take its next step. ConflictError when it is not paused. */
  resume(id: string, actor: string): Deployment {
    const deployment = this.o.deployments.get(id);
    if (!this.holds.isHeld(id) || isFinished(deployment.status)) {
      throw new ConflictError(`deployment ${id} is not paused (${deployment.status})`);
    }
    this.context.note(id, { type: 'deployment.resumed', data: { actor } });
    this.holds.release(id);
    // Paused before a restart: nothing runs it now, so resuming starts its next step.
    if (!this.inFlight.has(id) && deployment.status === 'paused') {
      this.launch(id, (signal) => this.runner.execute(id, deployment.step + 1, signal));
    }
    return this.o.deployments.get(id);
  }

  /**
   * A person stops a deployment now: production goes back to the previous release at once
   * (the work in flight is cut off, hooks included), the new release is drained and stopped,
   * and the deployment ends `aborted`. ConflictError when it has finished, or is rolling
   * back already.
   */
  async abort(id: string, actor: string): Promise<Deployment> {
    const deployment = this.o.deployments.get(id);
    if (isFinished(deployment.status) || deployment.status === 'rolling-back') {
      throw new ConflictError(
        `deployment ${id} is ${deployment.status}: there is nothing to abort`,
      );
    }
    if (deployment.status === 'draining') {
      throw new ConflictError(
        `deployment ${id} is draining: the new release serves everything already; roll back instead`,
      );
    }
    const work = this.inFlight.get(id);
    if (work !== undefined) {
      this.inFlight.delete(id);
      work.abort.abort(new Error(`aborted by ${actor}`));
      await work.done;
    }
    const reason = `aborted by ${actor}`;
    this.launch(id, (signal) =>
      this.runner.rollBack(id, reason, signal, { outcome: 'aborted', data: { actor } }),
    );
    return this.o.deployments.get(id);
  }

  /**
   * Takes a service off this machine (its service is being deleted): every deployment in
   * flight aborted, every environment's listeners removed from the router (their ports
   * close), every target group removed, every instance stopped. `recorded` names the
   * environments whose listeners the registry holds, deployed or not. Idempotent: what is
   * gone already is skipped. The router must be reachable; the caller checks that before
   * changing anything. (The deployment records go with the service, by the store.)
   */
  async teardown(
    service: string,
    actor: string,
    recorded: readonly string[] = [],
  ): Promise<TeardownResult> {
    for (const deployment of this.o.deployments.unfinished()) {
      if (deployment.service !== service) continue;
      try {
        await this.abort(deployment.id, actor);
      } catch (error) {
        // Rolling back or draining already: it ends by itself.
        if (!(error instanceof ConflictError)) throw error;
      }
      await this.whenFinished(deployment.id);
    }
    const latest = this.o.deployments.latest(service);
    const instances = this.o.runtime
      .list({ service })
      .filter((instance) => instance.status !== 'stopped');
    const groups = new Set(latest.map((deployment) => deployment.target.group));
    for (const instance of instances) {
      const release = await this.o.releases.get(instance.releaseId);
      groups.add(targetGroupName(service, instance.environment, release.number));
    }
    const environments = [
      ...new Set([...recorded, ...[...latest, ...instances].map((each) => each.environment)]),
    ].sort();
    let listeners = 0;
    for (const environment of environments) {
      let recorded: EnvironmentListeners;
      try {
        recorded = this.o.listenersFor(service, environment);
      } catch (error) {
        if (error instanceof NotFoundError) continue;
        throw error;
      }
      for (const listener of [recorded.production, recorded.test]) {
        if (listener === undefined) continue;
        await this.o.router.removeListener(listener.name);
        listeners++;
      }
    }
    for (const group of groups) await this.o.router.removeTargetGroup(group);
    await this.o.runtime.stop(
      instances.map((instance) => instance.id),
      this.o.stopGraceMs === undefined ? {} : { graceMs: this.o.stopGraceMs },
    );
    this.o.logger.info(
      { service, actor, environments, listeners, groups: groups.size, instances: instances.length },
      'service taken down',
    );
    return { environments, listeners, targetGroups: groups.size, instances: instances.length };
  }

  /** Resolves with the deployment once finished, or as it stands when the controller stops. */
  whenFinished(id: string): Promise<Deployment> {
    const deployment = this.o.deployments.get(id);
    if (isFinished(deployment.status) || (this.stopped && !this.inFlight.has(id))) {
      return Promise.resolve(deployment);
    }
    return new Promise((resolve) => {
      this.waiters.set(id, [...(this.waiters.get(id) ?? []), resolve]);
    });
  }

  /** Per environment (or for one): what serves, and the newest deployment. */
  status(service: string, environment?: string): EnvironmentStatus[] {
    return environmentStatus(this.o.deployments, service, environment);
  }

  /** An environment's deployments, newest first. */
  history(service: string, environment: string, limit = 100): Deployment[] {
    return this.o.deployments.list({ service, environment, limit });
  }

  /** Deployments' hook output. */
  logFile(id: string): string {
    return deploymentLogFile(this.o.logDirectory, id);
  }

  /**
   * Finishes or rolls back what a stopped control plane left unfinished (see decideRecovery),
   * oldest first. The decisions are recorded on the deployments' timelines and returned; the
   * work they start runs on its own, like a deployment's.
   */
  async recover(): Promise<RecoveryReport> {
    const decisions: RecoveryReport['decisions'] = [];
    for (const deployment of this.o.deployments.unfinished()) {
      if (this.inFlight.has(deployment.id)) continue;
      if (heldFrom(deployment.timeline)) this.holds.hold(deployment.id);
      await this.reapHooks(deployment);
      const production = await this.observe(deployment);
      if (production === 'unknown') {
        // The router may be starting too: decide once it answers (or after the limit).
        const decision: RecoveryDecision = {
          action: 'none',
          why: "the router cannot be asked for production's weights yet: deciding once it answers",
        };
        decisions.push({ deploymentId: deployment.id, decision });
        this.launch(deployment.id, (signal) =>
          this.recoverOnceRouterAnswers(deployment.id, signal),
        );
        continue;
      }
      const decision = decideRecovery(deployment, production);
      decisions.push({ deploymentId: deployment.id, decision });
      this.noteRecovery(deployment, decision);
      this.apply(deployment, decision);
    }
    this.restoreServing();
    return { decisions };
  }

  /**
   * Stops the work in flight without recording anything more, as a shutdown (or a crash)
   * would: the deployments stay as recorded, for `recover` to pick up.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    const pending = [...this.inFlight.values(), ...this.restoring.values()];
    for (const work of pending) work.abort.abort(new Error('the deployment controller stopped'));
    await Promise.all(pending.map((work) => work.done));
  }

  /** Hooks the previous control plane left running are stopped before anything is decided. */
  private async reapHooks(deployment: Deployment): Promise<void> {
    const killed = await reapMarkedProcesses({
      variable: HOOK_MARK_VARIABLE,
      value: deployment.id,
    });
    if (killed === 0) return;
    this.o.logger.warn({ deploymentId: deployment.id, killed }, 'stopped hooks left by a crash');
    this.context.note(deployment.id, {
      type: 'hooks.reaped',
      reason: 'the control plane stopped while they ran',
      data: { processes: killed },
    });
  }

  private noteRecovery(deployment: Deployment, decision: RecoveryDecision): void {
    this.o.logger.info({ deploymentId: deployment.id, ...decision }, 'deployment recovered');
    this.context.note(deployment.id, {
      type: 'deployment.recovered',
      reason: decision.why,
      data: { action: decision.action, status: deployment.status, step: deployment.step },
    });
  }

  private apply(deployment: Deployment, decision: RecoveryDecision): void {
    const work = this.workFor(deployment.id, decision);
    if (work !== undefined) this.launch(deployment.id, work);
  }

  /** What carries out a recovery decision; undefined when there is nothing to run. */
  private workFor(
    id: string,
    decision: RecoveryDecision,
  ): ((signal: AbortSignal) => Promise<void>) | undefined {
    switch (decision.action) {
      case 'resume':
        return (signal) => this.runner.execute(id, decision.from, signal);
      case 'roll-back':
        return (signal) =>
          this.runner.rollBack(id, `${decision.why}; rolled back after a restart`, signal);
      case 'finish-rollback':
        return (signal) => this.runner.undo(id, signal);
      case 'fail':
        this.finish(id, {
          status: 'failed',
          reason: decision.why,
          event: { type: 'deployment.finished', reason: decision.why },
        });
        return undefined;
      case 'none':
        return undefined;
    }
  }

  /**
   * Asks the router for production's weights again, waiting 0.5 s, 1 s, 2 s... for up to
   * STEP_RETRY_LIMIT_MS, then decides with what it learnt (still unknown: see decideRecovery).
   */
  private async recoverOnceRouterAnswers(id: string, signal: AbortSignal): Promise<void> {
    const { clock } = this.context;
    const since = clock.now();
    let delay = ROLLBACK_RETRY_FIRST_MS;
    let production: ObservedProduction = 'unknown';
    while (production === 'unknown' && clock.now() - since + delay <= STEP_RETRY_LIMIT_MS) {
      await waitFor(clock, delay, signal);
      delay = Math.min(delay * 2, ROLLBACK_RETRY_MAX_MS);
      production = await this.observe(this.o.deployments.get(id));
    }
    const deployment = this.o.deployments.get(id);
    const decision = decideRecovery(deployment, production);
    this.noteRecovery(deployment, decision);
    await this.workFor(id, decision)?.(signal);
  }

  /**
   * Each serving release gets its instances back: those that died while no control plane
   * watched them start again and its group is registered with them (see StepExecutor.restore).
   * Runs in the background, waiting for the router as long as it takes.
   */
  private restoreServing(): void {
    for (const deployment of this.o.deployments.serving()) {
      if (this.restoring.has(deployment.id)) continue;
      const abort = new AbortController();
      const done = this.restore(deployment, abort.signal).finally(() =>
        this.restoring.delete(deployment.id),
      );
      this.restoring.set(deployment.id, { abort, done });
    }
  }

  private async restore(deployment: Deployment, signal: AbortSignal): Promise<void> {
    let delay = ROLLBACK_RETRY_FIRST_MS;
    for (;;) {
      try {
        const started = await this.steps.restore(deployment, signal);
        if (started.length === 0) return;
        this.o.logger.warn(
          { deploymentId: deployment.id, instances: started },
          'restarted instances of a serving release that died while the control plane was down',
        );
        this.context.note(deployment.id, {
          type: 'instances.restored',
          reason: 'they died while the control plane was down',
          data: { group: deployment.target.group, instances: started },
        });
        return;
      } catch (error) {
        if (signal.aborted) return;
        const retriable = error instanceof ExternalServiceError;
        this.o.logger[retriable ? 'warn' : 'error'](
          { deploymentId: deployment.id, err: error, retryInMs: delay },
          'restoring a serving release failed',
        );
        if (!retriable) return;
        const waited = await waitFor(this.context.clock, delay, signal).then(
          () => true,
          () => false,
        );
        if (!waited) return;
        delay = Math.min(delay * 2, ROLLBACK_RETRY_MAX_MS);
      }
    }
  }

  private async observe(deployment: Deployment): Promise<ObservedProduction> {
    if (!needsProductionWeights(deployment)) return [];
    const { production } = this.o.listenersFor(deployment.service, deployment.environment);
    try {
      return await this.o.router.verifyWeights(production.name);
    } catch (error) {
      if (error instanceof NotFoundError) return [];
      this.o.logger.warn(
        { deploymentId: deployment.id, err: error },
        'cannot verify production weights',
      );
      return 'unknown';
    }
  }

  /** Runs work for a deployment in the background; after `stop` nothing new starts. */
  private launch(id: string, work: (signal: AbortSignal) => Promise<void>): void {
    if (this.stopped) return;
    const abort = new AbortController();
    const done = work(abort.signal)
      .catch((error: unknown) => this.crashed(id, error, abort.signal))
      .finally(() => {
        // A crash may have launched the rollback already: that one stays tracked.
        if (this.inFlight.get(id)?.abort === abort) this.inFlight.delete(id);
        // Stopped with the controller: whoever waits gets it as it stands. (An abort by a
        // person stops the work too, but the rollback it launched finishes the deployment.)
        if (abort.signal.aborted && this.stopped) this.settle(this.o.deployments.get(id));
      });
    this.inFlight.set(id, { abort, done });
  }

  private finish(id: string, change: DeploymentChange): void {
    this.settle(this.record(id, change));
  }

  private record(id: string, change: DeploymentChange): Deployment {
    const deployment = this.o.deployments.record(id, change);
    this.o.onChange?.(deployment);
    return deployment;
  }

  private changed(id: string): void {
    if (this.o.onChange !== undefined) this.o.onChange(this.o.deployments.get(id));
  }

  private settle(deployment: Deployment): void {
    const waiters = this.waiters.get(deployment.id) ?? [];
    this.waiters.delete(deployment.id);
    for (const resolve of waiters) resolve(deployment);
  }

  /**
   * A bug, or a store that refuses writes. A deployment that can still be undone is rolled
   * back; one whose rollback (or draining) is what failed ends failed, so this never loops.
   */
  private crashed(id: string, error: unknown, signal: AbortSignal): void {
    if (signal.aborted) return;
    this.o.logger.error({ deploymentId: id, err: error }, 'deployment controller failed');
    try {
      const deployment = this.o.deployments.get(id);
      if (isFinished(deployment.status)) return;
      const reason = `Phoenix failed: ${errorMessage(error)}`;
      if (deployment.status === 'rolling-back' || deployment.status === 'draining') {
        this.finish(id, {
          status: 'failed',
          reason,
          event: { type: 'deployment.finished', reason },
        });
        return;
      }
      this.launch(id, (next) => this.runner.rollBack(id, reason, next));
    } catch (inner) {
      this.o.logger.error(
        { deploymentId: id, err: inner },
        'could not record the failure of a deployment',
      );
    }
  }
}
