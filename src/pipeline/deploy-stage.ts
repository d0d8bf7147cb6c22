import { z } from 'zod';
import { isFinished, type Deployment } from '../deploy/deployment.js';
import { describeDeploymentEvent } from '../deploy/deployment-timeline.js';
import type { EnvironmentDeployInput } from '../deploy/environment-deployer.js';
import {
  ConflictError,
  ExternalServiceError,
  NotFoundError,
  PhoenixError,
  PlatformError,
} from '../shared/errors.js';
import type { Stage } from './run.js';
import {
  RunCancelled,
  type StageContext,
  type StageResult,
  type StageRunner,
} from './stage-runner.js';

const DEPLOY_STAGE_PREFIX = 'deploy:';

/** `deploy:dev`: a deploy stage is named after its environment. */
export function deployStageName(environment: string): string {
  return `${DEPLOY_STAGE_PREFIX}${environment}`;
}

/** The environment a deploy stage deploys to; undefined for another stage's name. */
export function environmentOfStage(stage: Pick<Stage, 'name'>): string | undefined {
  return stage.name.startsWith(DEPLOY_STAGE_PREFIX)
    ? stage.name.slice(DEPLOY_STAGE_PREFIX.length)
    : undefined;
}

/** What the deploy stage reads of the release stage's output (see release-stage.ts). */
const releaseOutputSchema = z.object({ releaseId: z.string(), number: z.number() });

export interface DeployStageOptions {
  /** Starts a deployment as phoenix.yml's environment says (EnvironmentDeployer). */
  deployer: { deploy(input: EnvironmentDeployInput): Promise<Deployment> };
  /** The deployment controller's side: reading, waiting, following. */
  deployments: {
    get(id: string): Deployment;
    /** The newest deployment of the environment, finished or not. */
    latest(service: string, environment: string): Deployment | undefined;
    /** Resolves once finished, or as it stands when the controller stops. */
    whenFinished(id: string): Promise<Deployment>;
    /** Stops a deployment in flight: production back to what served before it. */
    abort(id: string, actor: string): Promise<Deployment>;
    /** Every recorded change of every deployment; returns the way to stop listening. */
    subscribe(listener: (deployment: Deployment) => void): () => void;
  };
}

/**
 * The deploy stage: deploys the run's release to the stage's environment and waits until the
 * deployment has finished, logging its timeline as it goes. A deployment that failed or was
 * rolled back fails the stage with its reason. Cancelling the run aborts the deployment
 * (production back to what served before it, as `phoenix abort`), as CodePipeline's "stop and
 * abandon" stops CodeDeploy's deployment with a rollback; the control plane stopping does not:
 * the deployment runs on in the controller, and after the restart the stage waits for the
 * deployment its interrupted attempt started, which the controller recovers.
 */
export class DeployStageRunner implements StageRunner {
  constructor(private readonly o: DeployStageOptions) {}

  async run(context: StageContext): Promise<StageResult> {
    const environment = environmentOfStage(context.stage);
    const release = releaseBefore(context.run.stages, context.stage.index);
    if (environment === undefined || release === undefined) {
      const missing = environment === undefined ? 'environment' : 'release';
      return { status: 'failed', reason: `no ${missing} to deploy`, platformFailure: true };
    }
    const started = await this.start(context, environment, release.releaseId);
    if ('status' in started) return started;
    const { deployment } = started;
    this.log(
      context,
      `Deploying release #${release.number} (${release.releaseId}) to ${environment}, ${deployment.strategy.kind}: ${deployment.id}`,
    );
    const finished = await this.follow(deployment, context);
    if (finished === 'cancelled') return this.cancelled(deployment, context);
    return resultOf(finished);
  }

  /** The run was cancelled while its deployment ran: abort it, unless the server is stopping. */
  private async cancelled(deployment: Deployment, context: StageContext): Promise<StageResult> {
    const reason: unknown = context.signal.reason;
    if (!(reason instanceof RunCancelled)) {
      return {
        status: 'cancelled',
        reason: `the server stopped while ${deployment.id} ran; it goes on and is followed again at the next start`,
        output: outputOf(this.o.deployments.get(deployment.id)),
      };
    }
    // The rollback goes on in the controller: cancelling waits for the request, not for it.
    let aborted: Deployment;
    try {
      aborted = await this.o.deployments.abort(deployment.id, reason.actor);
    } catch (error) {
      // Finished, rolling back or draining just as the run was cancelled (ConflictError), or
      // the abort could not be asked for: the run is cancelled all the same, and says so.
      const why = error instanceof Error ? error.message : String(error);
      if (!(error instanceof ConflictError))
        this.log(context, `Could not abort ${deployment.id}: ${why}`);
      return {
        status: 'cancelled',
        reason: `${reason.message}; deployment ${deployment.id} not aborted: ${why}`,
        output: outputOf(this.o.deployments.get(deployment.id)),
      };
    }
    const back = aborted.previousReleaseId;
    this.log(context, `Aborting ${deployment.id} after the run was ${reason.message}`);
    return {
      status: 'cancelled',
      reason: `${reason.message}; deployment ${deployment.id} aborted${
        back === undefined ? '' : `: production goes back to ${back}`
      }`,
      output: outputOf(aborted),
    };
  }

  /** The deployment of this attempt: a new one, or the one an interrupted attempt started. */
  private async start(
    context: StageContext,
    environment: string,
    releaseId: string,
  ): Promise<{ deployment: Deployment } | StageResult> {
    const earlier = this.earlierDeployment(context, environment);
    if (earlier !== undefined) {
      await context.started({ externalId: earlier.id });
      this.log(context, `The server stopped while ${earlier.id} ran: following it again`);
      return { deployment: earlier };
    }
    if (context.signal.aborted)
      return { status: 'cancelled', reason: 'cancelled before deploying' };
    const { run } = context;
    let deployment: Deployment;
    try {
      deployment = await this.o.deployer.deploy({
        config: context.config,
        environment,
        releaseId,
        trigger: {
          type: 'pipeline',
          actor: 'pipeline',
          runId: run.id,
          detail: `run ${run.service} #${run.number}`,
        },
      });
    } catch (error) {
      if (!(error instanceof PhoenixError)) throw error;
      const platformFailure =
        error instanceof ExternalServiceError || error instanceof PlatformError;
      return {
        status: 'failed',
        reason: error.message,
        ...(platformFailure ? { platformFailure } : {}),
      };
    }
    await context.started({ externalId: deployment.id });
    return { deployment };
  }

  /**
   * The deployment an interrupted attempt started: the one it recorded, or, when the control
   * plane stopped between creating a deployment and recording it, this run's own deployment
   * still in flight in the environment.
   */
  private earlierDeployment(context: StageContext, environment: string): Deployment | undefined {
    if (context.interrupted === undefined) return undefined;
    const id = context.interrupted.externalId;
    if (id === undefined) {
      const latest = this.o.deployments.latest(context.run.service, environment);
      const ours = latest?.trigger.runId === context.run.id && !isFinished(latest.status);
      return ours ? latest : undefined;
    }
    try {
      return this.o.deployments.get(id);
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  /**
   * Logs the deployment's timeline (what is recorded already, then each new event) until it
   * has finished, or until the run is cancelled.
   */
  private async follow(
    deployment: Deployment,
    context: StageContext,
  ): Promise<Deployment | 'cancelled'> {
    let logged = 0;
    const logNew = (current: Deployment): void => {
      for (const event of current.timeline) {
        if (event.id <= logged) continue;
        logged = event.id;
        this.log(context, describeDeploymentEvent(event), Date.parse(event.time));
      }
    };
    const unsubscribe = this.o.deployments.subscribe((changed) => {
      if (changed.id === deployment.id) logNew(changed);
    });
    let stopWaiting = (): void => undefined;
    const cancelled = new Promise<'cancelled'>((resolve) => {
      stopWaiting = () => resolve('cancelled');
      context.signal.addEventListener('abort', stopWaiting, { once: true });
    });
    try {
      logNew(this.o.deployments.get(deployment.id));
      if (context.signal.aborted) return 'cancelled';
      const finished = await Promise.race([
        this.o.deployments.whenFinished(deployment.id),
        cancelled,
      ]);
      if (finished !== 'cancelled') logNew(finished);
      return finished;
    } finally {
      unsubscribe();
      context.signal.removeEventListener('abort', stopWaiting);
    }
  }

  private log(context: StageContext, text: string, time = Date.now()): void {
    context.log({ time, stream: 'system', text });
  }
}

/** The nearest succeeded release stage's release, before `index`. */
function releaseBefore(
  stages: readonly Stage[],
  index: number,
): z.infer<typeof releaseOutputSchema> | undefined {
  const stage = stages
    .slice(0, index)
    .findLast((s) => s.kind === 'release' && s.status === 'succeeded');
  const parsed = releaseOutputSchema.safeParse(stage?.output);
  return parsed.success ? parsed.data : undefined;
}

function outputOf(deployment: Deployment): Record<string, unknown> {
  return {
    deploymentId: deployment.id,
    status: deployment.status,
    releaseId: deployment.releaseId,
    ...(deployment.servingReleaseId === undefined
      ? {}
      : { servingReleaseId: deployment.servingReleaseId }),
  };
}

function resultOf(deployment: Deployment): StageResult {
  const output = outputOf(deployment);
  if (deployment.status === 'succeeded') return { status: 'succeeded', output };
  if (!isFinished(deployment.status)) {
    return {
      status: 'failed',
      reason: `the deployment controller stopped while ${deployment.id} was ${deployment.status}`,
      platformFailure: true,
      output,
    };
  }
  const reason = deployment.reason ?? `the deployment ended ${deployment.status}`;
  return {
    status: 'failed',
    reason: deployment.status === 'rolled-back' ? `rolled back: ${reason}` : reason,
    output,
  };
}
