import { ExternalServiceError, PhoenixError } from '../shared/errors.js';
import { waitFor } from './clock-wait.js';
import type { DeployContext, StepOutcome } from './deploy-context.js';
import type { Deployment, RollbackOutcome } from './deployment.js';
import type { DeploymentChange, DeploymentStore } from './ports.js';
import { rollbackOutcome, undoDeployment } from './rollback.js';
import { StepExecutor } from './step-executor.js';
import { describeStep } from './strategies/step.js';

/** Retries of a rollback that could not reach the router: first wait, doubling up to the cap. */
export const ROLLBACK_RETRY_FIRST_MS = 500;
export const ROLLBACK_RETRY_MAX_MS = 30_000;
/**
 * How long an idempotent step (every step but a hook) is tried again while the router
 * cannot be reached, before the deployment gives up and rolls back: long enough for the
 * router to be restarted or upgraded, short enough that a deployment is never stuck.
 */
export const STEP_RETRY_LIMIT_MS = 60_000;

/** Where the runner writes: every change goes through here, so that it is also announced. */
export interface DeploymentJournal {
  deployments: DeploymentStore;
  record(id: string, change: DeploymentChange): Deployment;
  /** Records a finished status and wakes whoever waits for the deployment. */
  finish(id: string, change: DeploymentChange): void;
}

/**
 * Moves one deployment along its plan: each step is recorded before it starts (write-ahead),
 * a failed step starts a rollback (recorded before anything is undone), and the rollback
 * retries for as long as the router cannot be reached. An aborted signal stops it where it
 * is, recording nothing more: what is recorded is what `recover` picks up.
 */
export class DeploymentRunner {
  private readonly steps: StepExecutor;

  constructor(
    private readonly context: DeployContext,
    private readonly journal: DeploymentJournal,
  ) {
    this.steps = new StepExecutor(context);
  }

  /** Runs the plan from step `from`; the step recorded in flight is not recorded again. */
  async execute(id: string, from: number, signal: AbortSignal): Promise<void> {
    let deployment = this.journal.deployments.get(id);
    for (let index = from; index < deployment.plan.length; index++) {
      const step = deployment.plan[index];
      if (step === undefined) break;
      if (index > 0 && index !== deployment.step && this.context.holds.isHeld(id)) {
        // Paused by a person: no next step until resumed (abort still works).
        if (deployment.status !== 'paused') {
          deployment = this.journal.record(id, {
            status: 'paused',
            event: { type: 'deployment.held', data: { before: index } },
          });
        }
        const released = await this.context.holds.released(id, signal).then(
          () => true,
          () => false,
        );
        if (!released) return;
      }
      if (index !== deployment.step) {
        deployment = this.journal.record(id, {
          status: step.status,
          step: index,
          event: {
            type: 'step.started',
            data: { index, kind: step.kind, step: describeStep(step) },
          },
        });
      }
      const outcome = await this.runStep(deployment, index, signal);
      if (signal.aborted) return;
      if (outcome.ok) continue;
      if (step.status === 'draining') {
        // The new release serves everything already: nothing to undo, only to report.
        const reason = `the new release serves, but the previous one was not retired: ${outcome.reason}`;
        this.journal.finish(id, {
          status: 'failed',
          reason,
          servingReleaseId: deployment.releaseId,
          event: { type: 'deployment.finished', reason },
        });
      } else {
        await this.rollBack(id, outcome.reason, signal, { data: outcome.data ?? {} });
      }
      return;
    }
    this.journal.finish(id, {
      status: 'succeeded',
      servingReleaseId: deployment.releaseId,
      event: { type: 'deployment.finished' },
    });
  }

  /**
   * Records the rollback, and the status it will end in, before undoing anything. `outcome`
   * is for a person's abort (issue 5); otherwise it follows from how far the deployment got.
   */
  async rollBack(
    id: string,
    reason: string,
    signal: AbortSignal,
    options: { outcome?: RollbackOutcome; data?: Record<string, unknown> } = {},
  ): Promise<void> {
    const current = this.journal.deployments.get(id);
    this.context.logger.warn({ deploymentId: id, reason }, 'deployment rolling back');
    this.journal.record(id, {
      status: 'rolling-back',
      outcome: options.outcome ?? rollbackOutcome(current),
      reason,
      event: {
        type: 'rollback.started',
        reason,
        data: { step: current.step, ...options.data },
      },
    });
    await this.undo(id, signal);
  }

  /** Undoes a deployment recorded as rolling back; retries while the router is unreachable. */
  async undo(id: string, signal: AbortSignal): Promise<void> {
    let delay = ROLLBACK_RETRY_FIRST_MS;
    for (;;) {
      const deployment = this.journal.deployments.get(id);
      try {
        const result = await undoDeployment(this.context, deployment);
        if (signal.aborted) return;
        const reason =
          result.note === undefined
            ? deployment.reason
            : `${deployment.reason ?? 'failed'}; ${result.note}`;
        this.journal.finish(id, {
          status: deployment.outcome ?? rollbackOutcome(deployment),
          ...(reason === undefined ? {} : { reason }),
          ...(result.servingReleaseId === undefined
            ? {}
            : { servingReleaseId: result.servingReleaseId }),
          event: { type: 'deployment.finished', ...(reason === undefined ? {} : { reason }) },
        });
        return;
      } catch (error) {
        if (signal.aborted) return;
        if (!(error instanceof ExternalServiceError)) {
          const reason = `${deployment.reason ?? 'failed'}; the rollback could not finish: ${errorMessage(error)}`;
          this.context.logger.error({ deploymentId: id, err: error }, 'rollback failed');
          this.journal.finish(id, {
            status: 'failed',
            reason,
            event: { type: 'deployment.finished', reason },
          });
          return;
        }
        this.context.logger.warn(
          { deploymentId: id, err: error, retryInMs: delay },
          'rollback waits for the router',
        );
        this.context.note(id, {
          type: 'rollback.retry',
          reason: errorMessage(error),
          data: { retryInMs: delay },
        });
        await waitFor(this.context.clock, delay, signal);
        delay = Math.min(delay * 2, ROLLBACK_RETRY_MAX_MS);
      }
    }
  }

  /**
   * Runs one step. A step that failed because the router could not be reached is run again
   * (steps are idempotent desired-state calls; hooks excepted, since their outcome would be
   * unknown), waiting 0.5 s, 1 s, 2 s... for up to STEP_RETRY_LIMIT_MS: a router restarted
   * during a bake or a health wait does not roll back a healthy release.
   */
  private async runStep(
    deployment: Deployment,
    index: number,
    signal: AbortSignal,
  ): Promise<StepOutcome> {
    const step = deployment.plan[index];
    if (step === undefined) return { ok: true };
    const { clock } = this.context;
    let firstFailure: number | undefined;
    let delay = ROLLBACK_RETRY_FIRST_MS;
    for (;;) {
      try {
        return await this.steps.run(deployment, step, signal);
      } catch (error) {
        if (signal.aborted) return { ok: false, reason: 'stopped' };
        const retriable = error instanceof ExternalServiceError && step.kind !== 'run-hooks';
        firstFailure ??= clock.now();
        if (retriable && clock.now() - firstFailure + delay <= STEP_RETRY_LIMIT_MS) {
          this.context.logger.warn(
            { deploymentId: deployment.id, step: step.kind, err: error, retryInMs: delay },
            'deployment step waits for the router',
          );
          this.context.note(deployment.id, {
            type: 'step.retry',
            reason: errorMessage(error),
            data: { index, kind: step.kind, retryInMs: delay },
          });
          const waited = await waitFor(clock, delay, signal).then(
            () => true,
            () => false,
          );
          if (!waited) return { ok: false, reason: 'stopped' };
          delay = Math.min(delay * 2, ROLLBACK_RETRY_MAX_MS);
          continue;
        }
        this.context.logger.error(
          { deploymentId: deployment.id, step: step.kind, err: error },
          'deployment step failed',
        );
        return {
          ok: false,
          reason: `Phoenix failed to ${describeStep(step)}: ${errorMessage(error)}`,
        };
      }
    }
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof PhoenixError || error instanceof Error ? error.message : String(error);
}
