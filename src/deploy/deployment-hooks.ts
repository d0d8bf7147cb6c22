import { join } from 'node:path';
import { allowedHostVariables } from '../shared/host-env.js';
import {
  hookEnvironment,
  hookPlan,
  type HookPoint,
  type PlannedHook,
} from '../config/appspec-hooks.js';
import type { Appspec } from '../config/appspec.js';
import type { ListenerSpec } from '../router/traffic-router.js';
import {
  environmentOf,
  secretValuesOf,
  type DeployContext,
  type StepOutcome,
} from './deploy-context.js';
import type { Deployment } from './deployment.js';
import { runHook } from './hook-runner.js';
import { loadReleaseAppspec, previousAppspec } from './release-appspec.js';
import { testTouched } from './strategies/step.js';

export function deploymentLogFile(logDirectory: string, deploymentId: string): string {
  return join(logDirectory, `${deploymentId}.log`);
}

/** The hooks a deployment runs, with the appspecs of the new and the previous release. */
export function plannedHooks(
  spec: Appspec | undefined,
  previous: Appspec | undefined,
): PlannedHook[] {
  if (spec === undefined) return [];
  return hookPlan(spec, previous === undefined ? {} : { previous });
}

/** The moments at which a deployment has hooks to run, for its planner. */
export function hookPoints(hooks: readonly PlannedHook[]): HookPoint[] {
  return [...new Set(hooks.map((hook) => hook.point))];
}

/**
 * Runs a deployment's hooks planned at `point`, in order, with CodeDeploy's variables and the
 * environment's. The appspecs are read again from the releases, which never change.
 */
export async function runHooksAt(
  context: DeployContext,
  deployment: Deployment,
  point: HookPoint,
  signal: AbortSignal,
): Promise<StepOutcome> {
  const { previousReleaseId } = deployment;
  const directories = {
    new: await context.releases.directory(deployment.releaseId),
    previous:
      previousReleaseId === undefined
        ? undefined
        : await context.releases.directory(previousReleaseId),
  };
  const spec = await loadReleaseAppspec(directories.new);
  const previous =
    previousReleaseId === undefined
      ? undefined
      : await previousAppspec(context.releases, previousReleaseId);
  const hooks = plannedHooks(spec, previous).filter((h) => h.point === point);
  for (const hook of hooks) {
    const directory = hook.release === 'new' ? directories.new : directories.previous;
    if (directory === undefined) continue;
    context.note(deployment.id, {
      type: 'hook.started',
      data: { event: hook.event, release: hook.release, steps: hook.steps.map((s) => s.key) },
    });
    const result = await runHook({
      hook,
      directory,
      env: hookEnv(context, deployment, hook),
      logFile: deploymentLogFile(context.logDirectory, deployment.id),
      functionCommands: deployment.target.functionCommands,
      secrets: secretValuesOf(context, deployment),
      clock: context.clock,
      signal,
      lookupUser: (name) => context.accounts.lookupUser(name),
    });
    context.note(deployment.id, {
      type: 'hook.finished',
      ...(result.ok ? {} : { reason: result.reason }),
      data: { event: hook.event, ok: result.ok, ...(result.ok ? {} : { key: result.key }) },
    });
    if (!result.ok) return { ok: false, reason: `hook failed: ${result.reason}` };
  }
  return { ok: true };
}

function hookEnv(
  context: DeployContext,
  deployment: Deployment,
  hook: PlannedHook,
): Record<string, string> {
  // The same host allowlist as builds and instances: Phoenix's settings and secrets stay out.
  const env = allowedHostVariables(context.hostEnv);
  const test = context.listenersFor(deployment.service, deployment.environment).test;
  const testUrl =
    test !== undefined && testTouched(deployment.plan, deployment.step)
      ? listenerUrl(test)
      : undefined;
  return {
    ...env,
    ...environmentOf(context, deployment),
    ...hookEnvironment({
      event: hook.event,
      deploymentId: deployment.id,
      service: deployment.service,
      environment: deployment.environment,
      release: {
        id: deployment.releaseId,
        ...(deployment.target.commit === undefined ? {} : { commit: deployment.target.commit }),
      },
      ...(deployment.previousReleaseId === undefined
        ? {}
        : { previousRelease: deployment.previousReleaseId }),
      ...(testUrl === undefined ? {} : { testUrl }),
    }),
  };
}

/** Where a client on this machine reaches a listener. */
export function listenerUrl(listener: ListenerSpec): string {
  const host = listener.host;
  const local = host === undefined || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${local.includes(':') ? `[${local}]` : local}:${listener.port}`;
}
