import { NotFoundError } from '../shared/errors.js';
import type { DeployContext } from './deploy-context.js';
import type { Deployment, RollbackOutcome } from './deployment.js';
import { productionTouched, testTouched } from './strategies/step.js';

/** `rolled-back` when production had moved to the new release and could move back; else `failed`. */
export function rollbackOutcome(deployment: Deployment): RollbackOutcome {
  return productionTouched(deployment.plan, deployment.step) &&
    deployment.previousReleaseId !== undefined
    ? 'rolled-back'
    : 'failed';
}

export interface UndoResult {
  /** The release production routes to afterwards; none when nothing ever served. */
  servingReleaseId?: string;
  /** Set when the new release had to stay: said in the deployment's reason. */
  note?: string;
}

/**
 * Puts the environment back as it was before the deployment, as far as the deployment got
 * (the step it recorded): production and the test listener back to the previous release in
 * one change each, production first; then the new release is drained (requests already on
 * it finish, up to the drain timeout), leaves the router and stops. Draining is best effort:
 * a failed drain is logged and the instances stop all the same. Every call is a desired-state
 * call, so this may run again after a restart or a failure.
 *
 * A first deployment has nothing to go back to: if production already routes to the new
 * release it keeps serving (a listener is never left without a target). A test listener
 * that routes to it is removed, as it was made for it; the next deployment makes it again.
 */
export async function undoDeployment(
  context: DeployContext,
  deployment: Deployment,
): Promise<UndoResult> {
  const { production, test } = context.listenersFor(deployment.service, deployment.environment);
  const { group, previousGroup } = deployment.target;
  const movedProduction = productionTouched(deployment.plan, deployment.step);
  const movedTest = testTouched(deployment.plan, deployment.step);
  if (previousGroup === undefined && movedProduction) {
    return {
      servingReleaseId: deployment.releaseId,
      note: 'there is no earlier release to go back to: the new release keeps serving',
    };
  }
  if (previousGroup !== undefined) {
    const back = [{ group: previousGroup, weight: 100 }];
    if (movedProduction) {
      await context.router.applyWeights(production.name, back);
      context.note(deployment.id, {
        type: 'weights.applied',
        data: { listener: production.name, split: back },
      });
    }
    if (movedTest && test !== undefined) await context.router.applyWeights(test.name, back);
  } else if (movedTest && test !== undefined) {
    // A first deployment's test listener reached nothing before it: it goes with the release.
    await context.router.removeListener(test.name);
    context.note(deployment.id, { type: 'listener.removed', data: { listener: test.name } });
  }
  await drainGroup(context, deployment.id, group);
  await removeGroup(context, group);
  const ids = context.runtime
    .list({
      service: deployment.service,
      environment: deployment.environment,
      releaseId: deployment.releaseId,
    })
    .filter((instance) => instance.status !== 'stopped')
    .map((instance) => instance.id);
  await context.runtime.stop(
    ids,
    context.stopGraceMs === undefined ? {} : { graceMs: context.stopGraceMs },
  );
  context.note(deployment.id, {
    type: 'instances.stopped',
    data: { releaseId: deployment.releaseId, instances: ids },
  });
  return deployment.previousReleaseId === undefined
    ? {}
    : { servingReleaseId: deployment.previousReleaseId };
}

async function drainGroup(
  context: DeployContext,
  deploymentId: string,
  group: string,
): Promise<void> {
  try {
    const result = await context.router.drain(group, 'all', context.drainTimeoutMs);
    context.note(deploymentId, { type: 'drained', data: { group, ...result } });
  } catch (error) {
    // Never registered (the start failed) or removed before a restart: nothing to drain.
    if (error instanceof NotFoundError) return;
    context.logger.warn({ deploymentId, group, err: error }, 'rollback could not drain');
  }
}

async function removeGroup(context: DeployContext, group: string): Promise<void> {
  try {
    await context.router.removeTargetGroup(group);
  } catch (error) {
    // Never registered (the start failed) or removed before a restart.
    if (!(error instanceof NotFoundError)) throw error;
  }
}
