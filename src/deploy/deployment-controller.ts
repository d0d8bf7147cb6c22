import type { Runtime } from '../runtime/runtime.js';
import type { TrafficRouter } from '../router/traffic-router.js';
import type { Clock } from '../shared/clock.js';
import { NotFoundError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { DeployContext, EnvironmentListeners } from './deploy-context.js';
import { isFinished, type Deployment } from './deployment.js';
import { deploymentLogFile } from './deployment-hooks.js';
import { prepareDeployment, type DeployInput } from './deployment-request.js';
import { DeploymentRunner, errorMessage } from './deployment-runner.js';
import { environmentStatus, type EnvironmentStatus } from './environment-status.js';
import { systemAccounts, type LocalAccounts } from './local-accounts.js';
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
      note: (id, event) => {
        o.deployments.append(id, event);
        this.changed(id);
      },
    };
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
      const decision = decideRecovery(deployment, await this.observe(deployment));
      decisions.push({ deploymentId: deployment.id, decision });
      this.o.logger.info({ deploymentId: deployment.id, ...decision }, 'deployment recovered');
      this.context.note(deployment.id, {
        type: 'deployment.recovered',
        reason: decision.why,
        data: { action: decision.action, status: deployment.status, step: deployment.step },
      });
      this.apply(deployment, decision);
    }
    return { decisions };
  }

  /**
   * Stops the work in flight without recording anything more, as a shutdown (or a crash)
   * would: the deployments stay as recorded, for `recover` to pick up.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    const pending = [...this.inFlight.values()];
    for (const work of pending) work.abort.abort(new Error('the deployment controller stopped'));
    await Promise.all(pending.map((work) => work.done));
  }

  private apply(deployment: Deployment, decision: RecoveryDecision): void {
    const { id } = deployment;
    switch (decision.action) {
      case 'resume':
        this.launch(id, (signal) => this.runner.execute(id, decision.from, signal));
        return;
      case 'roll-back':
        this.launch(id, (signal) =>
          this.runner.rollBack(id, `${decision.why}; rolled back after a restart`, signal),
        );
        return;
      case 'finish-rollback':
        this.launch(id, (signal) => this.runner.undo(id, signal));
        return;
      case 'fail':
        this.finish(id, {
          status: 'failed',
          reason: decision.why,
          event: { type: 'deployment.finished', reason: decision.why },
        });
        return;
      case 'none':
        return;
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
        if (abort.signal.aborted) this.settle(this.o.deployments.get(id));
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
