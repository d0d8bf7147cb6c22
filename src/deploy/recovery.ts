import type { WeightedGroup } from '../router/traffic-router.js';
import { isFinished, type Deployment } from './deployment.js';
import { describeStep, productionWeightAfter, productionWeightBefore } from './strategies/step.js';
import { productionSplit, sameRouting } from './target-group.js';

/**
 * What a restarted control plane does with a deployment it finds unfinished:
 * - `resume` the step recorded in flight (every step but a hook is idempotent);
 * - `roll-back` when the step's outcome cannot be known (a hook was running) or the router
 *   routes production neither as before the step nor as after it;
 * - `finish-rollback` when a rollback was under way (undoing is idempotent too);
 * - `fail` a deployment that was draining while production no longer routes to it: stopping
 *   the previous release then could stop what serves, so it is left for a person;
 * - `none` for paused deployments: they wait for a person.
 */
export type RecoveryDecision =
  | { action: 'none'; why: string }
  | { action: 'resume'; from: number; why: string }
  | { action: 'roll-back'; why: string }
  | { action: 'finish-rollback'; why: string }
  | { action: 'fail'; why: string };

/** Production's split as the router reports it; `unknown` when the router could not be asked. */
export type ObservedProduction = readonly WeightedGroup[] | 'unknown';

/** Whether deciding about `deployment` needs production's weights from the router. */
export function needsProductionWeights(deployment: Deployment): boolean {
  return ['shifting', 'baking', 'draining'].includes(deployment.status);
}

export function decideRecovery(
  deployment: Deployment,
  production: ObservedProduction,
): RecoveryDecision {
  const { status, step: index, plan } = deployment;
  if (isFinished(status)) return { action: 'none', why: `already ${status}` };
  if (status === 'paused' && plan[index]?.kind === 'await-promotion') {
    return { action: 'resume', from: index, why: 'held for a promotion: waits for it again' };
  }
  if (status === 'paused') return { action: 'none', why: 'paused: waits for resume or abort' };
  if (status === 'rolling-back') {
    return { action: 'finish-rollback', why: 'the rollback was under way; undoing is idempotent' };
  }
  const step = plan[index];
  if (step === undefined)
    return { action: 'resume', from: Math.max(0, index), why: 'no step had started' };
  if (step.kind === 'run-hooks') {
    return {
      action: 'roll-back',
      why: `the control plane stopped while the ${step.point} hooks ran: their outcome is unknown`,
    };
  }
  if (!needsProductionWeights(deployment)) {
    return {
      action: 'resume',
      from: index,
      why: `${describeStep(step)} is idempotent; production untouched`,
    };
  }
  if (production === 'unknown') {
    return status === 'draining'
      ? { action: 'resume', from: index, why: 'the router cannot be asked; draining retries' }
      : { action: 'roll-back', why: "production's weights cannot be verified" };
  }
  const before = expectedProduction(deployment, productionWeightBefore(plan, index));
  const after = expectedProduction(deployment, productionWeightAfter(plan, index));
  if (sameRouting(production, after) || sameRouting(production, before)) {
    return {
      action: 'resume',
      from: index,
      why: `production routes as planned; ${describeStep(step)} again`,
    };
  }
  const why = `production routes ${formatSplit(production)}, expected ${formatSplit(after)}`;
  return status === 'draining' ? { action: 'fail', why } : { action: 'roll-back', why };
}

/** Production's split when the new release has `weight`%; nothing before a first shift. */
export function expectedProduction(deployment: Deployment, weight: number): WeightedGroup[] {
  const { group, previousGroup } = deployment.target;
  if (weight === 0)
    return previousGroup === undefined ? [] : [{ group: previousGroup, weight: 100 }];
  return productionSplit(group, previousGroup, weight);
}

export function formatSplit(split: readonly WeightedGroup[]): string {
  const routed = split.filter((entry) => entry.weight > 0);
  return routed.length === 0
    ? 'nothing'
    : routed.map((entry) => `${entry.weight}% to ${entry.group}`).join(', ');
}
