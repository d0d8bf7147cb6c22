import type { Instance } from '../runtime/runtime.js';
import { NotFoundError, PlatformError } from '../shared/errors.js';
import { waitFor } from './clock-wait.js';
import { OK, type DeployContext, type StepOutcome } from './deploy-context.js';
import type { Deployment } from './deployment.js';
import { runHooksAt } from './deployment-hooks.js';
import { MAX_HEALTH_POLL_MS, waitUntilHealthy } from './health-wait.js';
import { formatSplit } from './recovery.js';
import type { DeploymentStep } from './strategies/step.js';
import { healthWaitTimeoutMs, productionSplit, sameRouting, targetsOf } from './target-group.js';

/**
 * Runs one step of a deployment against the runtime and the router. A failure of the
 * release (unhealthy, a hook) comes back as an outcome; a failure of Phoenix or of what it
 * drives (the router unreachable) is thrown. Each step may be run again after a restart.
 */
export class StepExecutor {
  constructor(private readonly c: DeployContext) {}

  run(deployment: Deployment, step: DeploymentStep, signal: AbortSignal): Promise<StepOutcome> {
    switch (step.kind) {
      case 'run-hooks':
        return runHooksAt(this.c, deployment, step.point, signal);
      case 'start':
        return this.start(deployment, signal);
      case 'await-healthy':
        return this.awaitHealthy(deployment, signal);
      case 'route-test':
        return this.routeTest(deployment);
      case 'shift':
        return this.shift(deployment, step.weight);
      case 'bake':
        return this.bake(deployment, step.ms, signal);
      case 'drain-previous':
        return this.drainPrevious(deployment);
      case 'stop-previous':
        return this.stopPrevious(deployment);
    }
  }

  private async start(deployment: Deployment, signal: AbortSignal): Promise<StepOutcome> {
    const instances = await this.ensureStarted(deployment, signal);
    this.c.note(deployment.id, {
      type: 'instances.started',
      data: {
        group: deployment.target.group,
        instances: instances.map(({ id, port }) => ({ id, port })),
      },
    });
    return OK;
  }

  /**
   * Starts whatever instances are missing (start is idempotent per instance, so after a
   * restart only the ones that died start again) and registers them all as the group.
   */
  private async ensureStarted(deployment: Deployment, signal: AbortSignal): Promise<Instance[]> {
    const { target } = deployment;
    const instances = await this.c.runtime.start(
      {
        service: deployment.service,
        environment: deployment.environment,
        releaseId: deployment.releaseId,
        directory: await this.c.releases.directory(deployment.releaseId),
        command: target.command,
        instances: target.instances,
        portEnv: target.portEnv,
        env: target.env,
      },
      signal,
    );
    await this.c.router.putTargetGroup({
      name: target.group,
      targets: targetsOf(instances),
      healthCheck: target.healthCheck,
    });
    return instances;
  }

  /**
   * Brings a serving release back to its instance count after a control plane restart:
   * instances that died while nobody watched start again (on new ports) and the group is
   * registered with them. Answers the ids of the instances started anew.
   */
  async restore(deployment: Deployment, signal: AbortSignal): Promise<string[]> {
    const live = new Set(
      this.c.runtime
        .list({
          service: deployment.service,
          environment: deployment.environment,
          releaseId: deployment.releaseId,
        })
        .filter((instance) => instance.status !== 'stopped' && instance.status !== 'failed')
        .map((instance) => instance.id),
    );
    const instances = await this.ensureStarted(deployment, signal);
    return instances.filter((instance) => !live.has(instance.id)).map((instance) => instance.id);
  }

  private async awaitHealthy(deployment: Deployment, signal: AbortSignal): Promise<StepOutcome> {
    const instances = await this.ensureStarted(deployment, signal);
    const { healthCheck, group } = deployment.target;
    const ids = new Set(instances.map((instance) => instance.id));
    const result = await waitUntilHealthy({
      router: this.c.router,
      group,
      targetIds: [...ids],
      timeoutMs: healthWaitTimeoutMs(healthCheck),
      pollMs: Math.min(healthCheck.intervalMs, MAX_HEALTH_POLL_MS),
      clock: this.c.clock,
      signal,
      problem: () => {
        const failed = this.c.runtime
          .list({
            service: deployment.service,
            environment: deployment.environment,
            releaseId: deployment.releaseId,
          })
          .find((instance) => ids.has(instance.id) && instance.status === 'failed');
        return failed === undefined
          ? undefined
          : `instance ${failed.id} failed and is not restarted`;
      },
    });
    if (!result.healthy)
      return { ok: false, reason: `the new release never became healthy: ${result.reason}` };
    this.c.note(deployment.id, {
      type: 'instances.healthy',
      data: { group, targets: result.targets.length },
    });
    return OK;
  }

  private async routeTest(deployment: Deployment): Promise<StepOutcome> {
    const { test } = this.c.listenersFor(deployment.service, deployment.environment);
    if (test === undefined) {
      throw new PlatformError(
        `${deployment.service} ${deployment.environment} has no test listener to route to the new release`,
      );
    }
    await this.c.router.putListener(test);
    await this.c.router.applyWeights(test.name, [{ group: deployment.target.group, weight: 100 }]);
    this.c.note(deployment.id, {
      type: 'weights.applied',
      data: { listener: test.name, split: [{ group: deployment.target.group, weight: 100 }] },
    });
    return OK;
  }

  /** One atomic change of production's split, verified; at 100% the test listener follows. */
  private async shift(deployment: Deployment, weight: number): Promise<StepOutcome> {
    const { production, test } = this.c.listenersFor(deployment.service, deployment.environment);
    const { group, previousGroup } = deployment.target;
    const split = productionSplit(group, previousGroup, weight);
    // A first deployment creates the listener now, when its only group is healthy.
    await this.c.router.putListener(production);
    await this.c.router.applyWeights(production.name, split);
    this.c.note(deployment.id, {
      type: 'weights.applied',
      data: { listener: production.name, split },
    });
    const actual = await this.c.router.verifyWeights(production.name);
    if (!sameRouting(actual, split)) {
      return {
        ok: false,
        reason: `production routes ${formatSplit(actual)} after the shift, not ${formatSplit(split)}`,
      };
    }
    if (weight === 100 && test !== undefined) {
      await this.c.router.putListener(test);
      await this.c.router.applyWeights(test.name, [{ group, weight: 100 }]);
    }
    return OK;
  }

  /**
   * Waits out the bake time (what is left of it after a restart) with the previous release
   * up. A new release none of whose targets stays healthy is rolled back without waiting.
   */
  private async bake(
    deployment: Deployment,
    ms: number,
    signal: AbortSignal,
  ): Promise<StepOutcome> {
    const started = Date.parse(
      deployment.stepStartedAt ?? new Date(this.c.clock.now()).toISOString(),
    );
    const { group, healthCheck } = deployment.target;
    const pollMs = Math.min(healthCheck.intervalMs, MAX_HEALTH_POLL_MS);
    for (;;) {
      const left = started + ms - this.c.clock.now();
      if (left <= 0) return OK;
      await waitFor(this.c.clock, Math.min(left, pollMs), signal);
      const targets = await this.c.router.health(group);
      if (!targets.some((target) => target.state === 'healthy')) {
        const reasons = targets.map(
          (t) => `${t.id} ${t.state}${t.reason === undefined ? '' : ` (${t.reason})`}`,
        );
        return {
          ok: false,
          reason: `no target of the new release is healthy during the bake: ${reasons.join('; ')}`,
        };
      }
    }
  }

  private async drainPrevious(deployment: Deployment): Promise<StepOutcome> {
    const previousGroup = deployment.target.previousGroup;
    if (previousGroup === undefined) return OK;
    try {
      const result = await this.c.router.drain(previousGroup, 'all', this.c.drainTimeoutMs);
      this.c.note(deployment.id, { type: 'drained', data: { group: previousGroup, ...result } });
    } catch (error) {
      // Drained and removed before a restart: nothing left to drain.
      if (!(error instanceof NotFoundError)) throw error;
    }
    return OK;
  }

  private async stopPrevious(deployment: Deployment): Promise<StepOutcome> {
    const { previousGroup } = deployment.target;
    if (previousGroup !== undefined) await this.c.router.removeTargetGroup(previousGroup);
    if (deployment.previousReleaseId === undefined) return OK;
    const ids = this.c.runtime
      .list({
        service: deployment.service,
        environment: deployment.environment,
        releaseId: deployment.previousReleaseId,
      })
      .filter((instance) => instance.status !== 'stopped')
      .map((instance) => instance.id);
    await this.c.runtime.stop(
      ids,
      this.c.stopGraceMs === undefined ? {} : { graceMs: this.c.stopGraceMs },
    );
    this.c.note(deployment.id, {
      type: 'instances.stopped',
      data: { releaseId: deployment.previousReleaseId, instances: ids },
    });
    return OK;
  }
}
