import type { HookPoint } from '../../config/appspec-hooks.js';
import { formatDuration } from '../../shared/durations.js';

/**
 * The steps of a deployment, as data: a strategy's planner lists them once, the deployment
 * stores the list, and the controller runs them in order, recording each before it starts.
 * Every step but `run-hooks` is an idempotent desired-state operation, so a restarted control
 * plane may run the step it finds in flight again; a hook's outcome is unknown after a crash.
 */
export type DeploymentStep =
  /** The appspec hooks planned at this moment (see HOOK_POINTS), in the file's order. */
  | {
      kind: 'run-hooks';
      status: 'starting' | 'testing' | 'shifting' | 'draining';
      point: HookPoint;
    }
  /** Start the new release's instances and register them as its target group. */
  | { kind: 'start'; status: 'starting' }
  /** Wait until the router finds every new instance healthy. */
  | { kind: 'await-healthy'; status: 'starting' }
  /** The environment's test listener sends everything to the new release. */
  | { kind: 'route-test'; status: 'testing' }
  /**
   * Production sends `weight`% to the new release and the rest to the previous one, in one
   * atomic change. At 100 the test listener follows: at rest both listeners agree.
   */
  | { kind: 'shift'; status: 'shifting'; weight: number }
  /**
   * Wait with the previous release up, for an instant rollback, while the new release is
   * judged on its live traffic (alarms, health, crash loops): between canary and linear
   * shifts, and after the last one (the watch window).
   */
  | { kind: 'bake'; status: 'baking'; ms: number }
  /** Hold until a person promotes the deployment (`promote: manual`); production is split or untouched. */
  | { kind: 'await-promotion'; status: 'paused' }
  /** The previous release gets no new requests; those in flight finish (up to a timeout). */
  | { kind: 'drain-previous'; status: 'draining' }
  /** The previous release leaves the router and its instances stop. */
  | { kind: 'stop-previous'; status: 'draining' };

export type StepKind = DeploymentStep['kind'];

export interface PlanContext {
  /** Whether a release serves production now (false on an environment's first deployment). */
  previous: boolean;
  /** Moments at which the appspecs have hooks to run (from hookPlan). */
  hookPoints: readonly HookPoint[];
}

/** A `run-hooks` step when the appspecs have hooks at `point`, else nothing. */
export function hooksAt(
  point: HookPoint,
  status: Extract<DeploymentStep, { kind: 'run-hooks' }>['status'],
  context: PlanContext,
): DeploymentStep[] {
  return context.hookPoints.includes(point) ? [{ kind: 'run-hooks', status, point }] : [];
}

/** Every strategy starts the new release the same way: hooks, instances, health. */
export function startPhase(context: PlanContext): DeploymentStep[] {
  return [
    ...hooksAt('before-install', 'starting', context),
    ...hooksAt('after-install', 'starting', context),
    { kind: 'start', status: 'starting' },
    ...hooksAt('after-start', 'starting', context),
    { kind: 'await-healthy', status: 'starting' },
  ];
}

/** …and ends by retiring the previous release, when there is one. */
export function retirePhase(context: PlanContext): DeploymentStep[] {
  if (!context.previous) return [];
  return [
    { kind: 'drain-previous', status: 'draining' },
    ...hooksAt('after-drain', 'draining', context),
    ...hooksAt('before-stop', 'draining', context),
    { kind: 'stop-previous', status: 'draining' },
  ];
}

/** The new release's share of production before step `index` runs. */
export function productionWeightBefore(plan: readonly DeploymentStep[], index: number): number {
  let weight = 0;
  for (const step of plan.slice(0, Math.max(0, index))) {
    if (step.kind === 'shift') weight = step.weight;
  }
  return weight;
}

/** …and once it has run. */
export function productionWeightAfter(plan: readonly DeploymentStep[], index: number): number {
  const step = plan[index];
  return step?.kind === 'shift' ? step.weight : productionWeightBefore(plan, index);
}

/** Whether production may route to the new release: a shift step has started. */
export function productionTouched(plan: readonly DeploymentStep[], step: number): boolean {
  return plan.slice(0, step + 1).some((s) => s.kind === 'shift');
}

/** Whether the test listener may route to the new release. */
export function testTouched(plan: readonly DeploymentStep[], step: number): boolean {
  return plan
    .slice(0, step + 1)
    .some((s) => s.kind === 'route-test' || (s.kind === 'shift' && s.weight === 100));
}

/** For timelines and logs: what the step does, in a few words. */
export function describeStep(step: DeploymentStep): string {
  switch (step.kind) {
    case 'run-hooks':
      return `run the ${step.point} hooks`;
    case 'start':
      return 'start the new release';
    case 'await-healthy':
      return 'wait until the new release is healthy';
    case 'route-test':
      return 'route the test listener to the new release';
    case 'shift':
      return `shift ${step.weight}% of production to the new release`;
    case 'bake':
      return `bake for ${formatDuration(step.ms)} with the previous release up`;
    case 'await-promotion':
      return 'wait for a person to promote the new release';
    case 'drain-previous':
      return 'drain the previous release';
    case 'stop-previous':
      return 'stop the previous release';
  }
}
