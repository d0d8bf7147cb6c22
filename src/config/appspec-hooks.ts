import { createHash } from 'node:crypto';
import type { Appspec, HookStep } from './appspec.js';
import type { ComputePlatform, LifecycleEvent } from './appspec-schema.js';

/**
 * The moments of a Phoenix deployment at which hooks run, in the order they come:
 * - `before-install`: the new release is unpacked; nothing copied, nothing started.
 * - `after-install`: the appspec's `files` are copied and `permissions` set.
 * - `after-start`: the new release's instances are started, not yet known healthy.
 * - `healthy`: every new instance passes its health check; no traffic reaches them.
 * - `test-traffic`: the environment's test listener, when it has one, routes to the new release.
 * - `before-shift` / `after-shift`: around the one atomic move of production traffic.
 * - `after-drain`: the old release gets no traffic and its requests in flight have finished.
 * - `before-stop`: the old release is about to be stopped (after the bake time).
 */
export const HOOK_POINTS = [
  'before-install',
  'after-install',
  'after-start',
  'healthy',
  'test-traffic',
  'before-shift',
  'after-shift',
  'after-drain',
  'before-stop',
] as const;
export type HookPoint = (typeof HOOK_POINTS)[number];

export interface LifecycleSlot {
  event: LifecycleEvent;
  point: HookPoint;
  /**
   * Whose appspec the scripts come from. CodeDeploy's agent runs ApplicationStop and the
   * BlockTraffic events from the last revision that was installed, the one being replaced.
   */
  release: 'new' | 'previous';
}

type Slots = readonly LifecycleSlot[];

/**
 * EC2/On-Premises: the new release's events in CodeDeploy's in-place order; the replaced
 * release's events (BlockTraffic, ApplicationStop) once the new one has the traffic, as on the
 * original instances of CodeDeploy's EC2 blue/green deployments. Phoenix never installs over a
 * running release, so nothing is stopped before its successor serves. ValidateService runs
 * once the test listener (when there is one) reaches the new release.
 */
const EC2_ORDER: Slots = [
  { event: 'BeforeInstall', point: 'before-install', release: 'new' },
  { event: 'AfterInstall', point: 'after-install', release: 'new' },
  { event: 'ApplicationStart', point: 'after-start', release: 'new' },
  { event: 'ValidateService', point: 'test-traffic', release: 'new' },
  { event: 'BeforeAllowTraffic', point: 'before-shift', release: 'new' },
  { event: 'BeforeBlockTraffic', point: 'before-shift', release: 'previous' },
  { event: 'AfterAllowTraffic', point: 'after-shift', release: 'new' },
  { event: 'AfterBlockTraffic', point: 'after-drain', release: 'previous' },
  { event: 'ApplicationStop', point: 'before-stop', release: 'previous' },
];

/**
 * ECS: every CodeDeploy deployment to ECS is blue/green, whatever its traffic shifting (all at
 * once, canary, linear), and so is every Phoenix deployment: AfterAllowTestTraffic runs once
 * the test listener reaches the new release, or right after AfterInstall without one.
 */
const ECS_ORDER: Slots = [
  { event: 'BeforeInstall', point: 'before-install', release: 'new' },
  { event: 'AfterInstall', point: 'healthy', release: 'new' },
  { event: 'AfterAllowTestTraffic', point: 'test-traffic', release: 'new' },
  { event: 'BeforeAllowTraffic', point: 'before-shift', release: 'new' },
  { event: 'AfterAllowTraffic', point: 'after-shift', release: 'new' },
];

const LAMBDA_ORDER: Slots = [
  { event: 'BeforeAllowTraffic', point: 'before-shift', release: 'new' },
  { event: 'AfterAllowTraffic', point: 'after-shift', release: 'new' },
];

const ORDERS: Record<ComputePlatform, Slots> = {
  ec2: EC2_ORDER,
  ecs: ECS_ORDER,
  lambda: LAMBDA_ORDER,
};

/**
 * Every lifecycle event a deployment passes through, in order. The strategy changes how
 * production moves, not which events run: each starts the new release beside the old one.
 */
export function lifecycleOrder(platform: ComputePlatform): Slots {
  return ORDERS[platform];
}

export interface PlannedHook extends LifecycleSlot {
  steps: readonly HookStep[];
}

/**
 * The hooks to run, in order, when `spec`'s release is deployed; events without steps are left
 * out. `previous` is the appspec of the release being replaced (none on a first deployment,
 * when ApplicationStop and the BlockTraffic events do not run).
 */
export function hookPlan(spec: Appspec, options: { previous?: Appspec } = {}): PlannedHook[] {
  return lifecycleOrder(spec.platform).flatMap((slot) => {
    const owner = slot.release === 'new' ? spec : options.previous;
    const steps = owner?.hooks[slot.event] ?? [];
    return steps.length === 0 ? [] : [{ ...slot, steps }];
  });
}

export interface HookEnvironmentInput {
  event: LifecycleEvent;
  deploymentId: string;
  /** The service: CodeDeploy's application. */
  service: string;
  /** The environment: CodeDeploy's deployment group. */
  environment: string;
  release: { id: string; commit?: string };
  previousRelease?: string;
  /** The test listener's URL, once it routes to the new release. */
  testUrl?: string;
}

/**
 * Marks every process of a deployment's hooks (shared/marked-processes.ts), so that a
 * restarted control plane can stop the hooks the previous one left running.
 */
export const HOOK_MARK_VARIABLE = 'PHOENIX_DEPLOYMENT_ID';

/**
 * The variables a hook gets: the ones CodeDeploy's agent sets (LIFECYCLE_EVENT, DEPLOYMENT_ID,
 * APPLICATION_NAME, DEPLOYMENT_GROUP_NAME, DEPLOYMENT_GROUP_ID, and BUNDLE_COMMIT as for a
 * revision from GitHub), then Phoenix's own.
 */
export function hookEnvironment(input: HookEnvironmentInput): Record<string, string> {
  const env: Record<string, string> = {
    [HOOK_MARK_VARIABLE]: input.deploymentId,
    LIFECYCLE_EVENT: input.event,
    DEPLOYMENT_ID: input.deploymentId,
    APPLICATION_NAME: input.service,
    DEPLOYMENT_GROUP_NAME: input.environment,
    DEPLOYMENT_GROUP_ID: deploymentGroupId(input.service, input.environment),
    PHOENIX_SERVICE: input.service,
    PHOENIX_ENVIRONMENT: input.environment,
    PHOENIX_RELEASE: input.release.id,
  };
  if (input.release.commit !== undefined) env.BUNDLE_COMMIT = input.release.commit;
  if (input.previousRelease !== undefined) env.PHOENIX_PREVIOUS_RELEASE = input.previousRelease;
  if (input.testUrl !== undefined) env.PHOENIX_TEST_URL = input.testUrl;
  return env;
}

/**
 * A stable UUID per service and environment (name-based, version 5 layout), standing in for
 * CodeDeploy's deployment group id: scripts that key state by it keep working across deployments.
 */
export function deploymentGroupId(service: string, environment: string): string {
  const hash = createHash('sha1').update(`phoenix/${service}/${environment}`).digest('hex');
  const variant = ((parseInt(hash.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return [
    hash.slice(0, 8),
    hash.slice(8, 12),
    `5${hash.slice(13, 16)}`,
    `${variant}${hash.slice(17, 20)}`,
    hash.slice(20, 32),
  ].join('-');
}
