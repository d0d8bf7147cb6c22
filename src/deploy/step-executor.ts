import type { Instance } from '../runtime/runtime.js';
import type { AlarmState } from '../monitor/alarm.js';
import { formatDuration } from '../shared/durations.js';
import { NotFoundError, PlatformError } from '../shared/errors.js';
import { waitFor } from './clock-wait.js';
import { environmentOf, OK, type DeployContext, type StepOutcome } from './deploy-context.js';
import type { Deployment } from './deployment.js';
import { runHooksAt } from './deployment-hooks.js';
import { MAX_HEALTH_POLL_MS, waitUntilHealthy } from './health-wait.js';
import { formatSplit } from './recovery.js';
import {
  judgeIntervalMs,
  judgeLookbackMs,
  judgeRelease,
  type ReleaseObservation,
} from './release-judge.js';
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
      case 'await-promotion':
        return this.awaitPromotion(deployment, signal);
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
        env: environmentOf(this.c, deployment),
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
        if (failed !== undefined) return `instance ${failed.id} failed and is not restarted`;
        // A release that exits at start trips the breaker in a few seconds, not at the timeout.
        const { restarts, windowMs } = deployment.target.monitor.crashLoop;
        const looping = this.restarts(deployment).find((i) => i.count >= restarts);
        return looping === undefined
          ? undefined
          : `crash loop: ${looping.instanceId} restarted ${looping.count}× within ${formatDuration(windowMs)} (the breaker trips at ${restarts})`;
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
    // While production is split, the new release's 5xx to GET/HEAD may go to the previous one.
    const retry =
      deployment.target.monitor.retryCanaryErrors && previousGroup !== undefined && weight < 100
        ? { serverErrorRetry: { from: group, to: previousGroup } }
        : {};
    // A first deployment creates the listener now, when its only group is healthy.
    await this.c.router.putListener(production);
    await this.c.router.applyWeights(production.name, split, retry);
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
   * Waits out the bake (what is left of it after a restart) with the previous release up,
   * judging the new release on its live traffic every judgeIntervalMs (release-judge.ts):
   * a crash loop, no healthy target or an alarm ends the bake at once with the evidence,
   * and the deployment rolls back.
   */
  private async bake(
    deployment: Deployment,
    ms: number,
    signal: AbortSignal,
  ): Promise<StepOutcome> {
    const started = Date.parse(
      deployment.stepStartedAt ?? new Date(this.c.clock.now()).toISOString(),
    );
    const { monitor } = deployment.target;
    const every = judgeIntervalMs(monitor);
    let alarms: Record<string, AlarmState> = {};
    let heldNoted = false;
    for (;;) {
      const left = started + ms - this.c.clock.now();
      // A paused deployment stays at this share past the bake's time, still judged.
      const held = this.c.holds.isHeld(deployment.id);
      if (left <= 0 && !held) return OK;
      if (left <= 0 && !heldNoted) {
        heldNoted = true;
        this.c.note(deployment.id, { type: 'bake.held', reason: 'paused: judged until resumed' });
      }
      await waitFor(this.c.clock, left > 0 ? Math.min(left, every) : every, signal);
      if (this.c.promotions.take(deployment.id)) return OK; // a person cut the bake short
      const verdict = judgeRelease(monitor, await this.observe(deployment), alarms);
      if (!verdict.ok) {
        this.c.note(deployment.id, {
          type: 'release.failing',
          reason: verdict.reason,
          data: {
            cause: verdict.cause,
            // The tripped alarm's state before (for alarm.state-changed notifications).
            previousState: alarms[verdict.cause] ?? 'INSUFFICIENT_DATA',
            ...verdict.data,
          },
        });
        return { ok: false, reason: verdict.reason, data: { cause: verdict.cause } };
      }
      alarms = verdict.alarms;
    }
  }

  /**
   * Holds until a person promotes the deployment (`phoenix promote`). A promotion recorded
   * after this step began (before a restart) counts.
   */
  private async awaitPromotion(deployment: Deployment, signal: AbortSignal): Promise<StepOutcome> {
    const since = Date.parse(deployment.stepStartedAt ?? new Date(0).toISOString());
    const recorded = deployment.timeline.some(
      (event) => event.type === 'deployment.promoted' && Date.parse(event.time) >= since,
    );
    if (recorded) return OK;
    await this.c.promotions.next(deployment.id, signal);
    return OK;
  }

  /** What the judge needs about the new release now, from the router and the runtime. */
  private async observe(deployment: Deployment): Promise<ReleaseObservation> {
    const { group, monitor } = deployment.target;
    const nowMs = this.c.clock.now();
    const [buckets, health] = await Promise.all([
      this.c.router.window(group, nowMs - judgeLookbackMs(monitor)),
      this.c.router.health(group),
    ]);
    return { buckets, health, restarts: this.restarts(deployment), nowMs };
  }

  private restarts(deployment: Deployment): { instanceId: string; count: number }[] {
    const { windowMs } = deployment.target.monitor.crashLoop;
    return this.c.runtime
      .list({
        service: deployment.service,
        environment: deployment.environment,
        releaseId: deployment.releaseId,
      })
      .filter((instance) => instance.status !== 'stopped')
      .map((instance) => ({
        instanceId: instance.id,
        count: this.c.runtime.restartsWithin(instance.id, windowMs),
      }));
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
