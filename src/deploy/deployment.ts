import type { FunctionCommand } from '../config/appspec.js';
import {
  assertTransition,
  canTransition,
  type TransitionTable,
} from '../pipeline/state-machine.js';
import type { StrategyConfig } from '../config/environment-config.js';
import type { AlarmSpec } from '../monitor/alarm-spec.js';
import type { HealthCheckSpec } from '../router/traffic-router.js';
import type { DeploymentStep } from './strategies/step.js';

/**
 * A deployment: one release of a service going to one environment behind the router.
 *
 * Statuses, in the order a deployment that goes well passes through them:
 * - `pending`: recorded (write-ahead); nothing has happened outside yet.
 * - `starting`: the new release's instances start and must pass their health checks.
 * - `testing`: the new release is validated (test listener, hooks); production traffic
 *   has not moved. A failure here leaves the serving release untouched.
 * - `shifting`: production traffic moves to the new release (one step or, for canary and
 *   linear, several), followed by the AfterAllowTraffic hooks.
 * - `baking`: the new release takes traffic while the previous one stays up for an instant
 *   rollback (blue/green bake time; canary and linear wait here between steps).
 * - `draining`: the previous release is drained, stopped and removed from the router.
 * - `succeeded`.
 *
 * Every failure before `draining` goes through `rolling-back`, which undoes whatever the
 * deployment did (idempotently, so a restarted control plane can redo it) and ends in the
 * `outcome` recorded when it began: `failed` (production traffic never reached the new
 * release), `rolled-back` (it did, and was moved back) or `aborted` (a person asked).
 * `paused` holds a deployment between steps: held for a promotion (`promote: manual`), or
 * paused by a person until resumed. Abort works from every status before `draining`.
 */
export const DEPLOYMENT_STATUSES = [
  'pending',
  'starting',
  'testing',
  'shifting',
  'baking',
  'paused',
  'draining',
  'rolling-back',
  'succeeded',
  'failed',
  'rolled-back',
  'aborted',
] as const;

export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

export const DEPLOYMENT_TRANSITIONS: TransitionTable<DeploymentStatus> = {
  // pending → aborted: aborted before anything ran, so there is nothing to undo.
  pending: ['starting', 'rolling-back', 'aborted'],
  // starting → paused: held for a promotion with no test step before it.
  starting: ['testing', 'shifting', 'paused', 'rolling-back'],
  testing: ['shifting', 'paused', 'rolling-back'],
  // shifting/baking → succeeded: a first deployment has no previous release to drain.
  // shifting ⇄ baking: canary and linear alternate between a step and its wait.
  shifting: ['baking', 'draining', 'succeeded', 'paused', 'rolling-back'],
  baking: ['shifting', 'draining', 'succeeded', 'paused', 'rolling-back'],
  // A resumed deployment goes back to the status it was paused in.
  paused: ['starting', 'testing', 'shifting', 'baking', 'draining', 'rolling-back'],
  // The new release serves all traffic: a failure to stop the old one is no reason to undo.
  draining: ['succeeded', 'failed'],
  'rolling-back': ['failed', 'rolled-back', 'aborted'],
  succeeded: [],
  failed: [],
  'rolled-back': [],
  aborted: [],
};

export const FINISHED_DEPLOYMENT_STATUSES: readonly DeploymentStatus[] = [
  'succeeded',
  'failed',
  'rolled-back',
  'aborted',
];

/** Where a rollback ends; chosen (and recorded) when it begins. */
export type RollbackOutcome = 'failed' | 'rolled-back' | 'aborted';

export function isFinished(status: DeploymentStatus): boolean {
  return FINISHED_DEPLOYMENT_STATUSES.includes(status);
}

export function canDeploymentTransition(from: DeploymentStatus, to: DeploymentStatus): boolean {
  return canTransition(DEPLOYMENT_TRANSITIONS, from, to);
}

/** Throws IllegalTransitionError unless DEPLOYMENT_TRANSITIONS allows `from` → `to`. */
export function assertDeploymentTransition(
  id: string,
  from: DeploymentStatus,
  to: DeploymentStatus,
): void {
  assertTransition(`deployment ${id}`, DEPLOYMENT_TRANSITIONS, from, to);
}

/** For statuses read from outside (a command line, a query string). */
export function isDeploymentStatus(value: unknown): value is DeploymentStatus {
  const statuses: readonly unknown[] = DEPLOYMENT_STATUSES;
  return statuses.includes(value);
}

/**
 * How traffic moves to the new release: phoenix.yml's strategy, as the environment says it
 * (config/environment-config.ts). `bakeMs` is the watch window after production reached
 * 100%: the previous release stays up and the new one is still judged (alarms, health,
 * crash loops), so a rollback is still instant. `manualPromote` holds the deployment
 * before production goes to 100% until a person promotes it.
 */
export type DeploymentStrategy = StrategyConfig;

export type StrategyKind = DeploymentStrategy['kind'];

export interface DeploymentTrigger {
  /** `pipeline`: a run's deploy stage; `manual`: `phoenix deploy`; `rollback`: issue 5. */
  type: 'pipeline' | 'manual' | 'rollback' | 'retry';
  /** Who caused it: a token's name, `pipeline`. */
  actor: string;
  runId?: string;
  detail?: string;
}

/**
 * Everything a deployment needs to run to its end, fixed when it is created, so that a
 * restarted control plane can finish it without the phoenix.yml it came from.
 */
export interface DeploymentTarget {
  releaseNumber: number;
  commit?: string;
  /** Target groups: `<service>-<environment>-<release number>`. */
  group: string;
  previousGroup?: string;
  command: string;
  portEnv: string;
  instances: number;
  healthCheck: HealthCheckSpec;
  /** The environment's variables, for the instances and the hooks. */
  env: Record<string, string>;
  /** Variables whose values are Phoenix secrets (variable → secret name): resolved at each start, never stored. */
  secretEnv?: Record<string, string>;
  /** Commands for the Lambda function names of ECS-style hooks. */
  functionCommands: Record<string, FunctionCommand>;
  /** How the new release is judged while it takes traffic (see release-judge.ts). */
  monitor: ReleaseMonitor;
}

/** What judges a new release on live traffic; fixed when the deployment is created. */
export interface ReleaseMonitor {
  /** The environment's alarms, or Phoenix's defaults when it declares none. */
  alarms: AlarmSpec[];
  /** This many restarts of one instance within `windowMs` fail the deployment. */
  crashLoop: { restarts: number; windowMs: number };
  /** While production is split, a GET/HEAD the new release answered 5xx goes once to the previous one. */
  retryCanaryErrors: boolean;
}

/**
 * One entry of a deployment's timeline: what happened, when, why. Append-only. An event that
 * came with a change of status carries `from` and `to` in its data. Types:
 * `deployment.created`, `step.started` (write-ahead, with the step), `instances.started`,
 * `instances.healthy`, `hook.started`, `hook.finished`, `weights.applied` (listener, split),
 * `drained`, `instances.stopped`, `step.retry` (the router was unreachable: the step runs again),
 * `rollback.started`, `rollback.retry`, `deployment.recovered` (the decision after a restart,
 * and why), `deployment.finished`, and `instances.restored` (on a serving deployment:
 * instances that died while the control plane was down, started again).
 */
export interface DeploymentEvent {
  id: number;
  deploymentId: string;
  time: string;
  type: string;
  reason?: string;
  data: Record<string, unknown>;
}

export interface Deployment {
  /** `dep_` + creation time + random: sorts by creation. */
  id: string;
  service: string;
  environment: string;
  releaseId: string;
  /** The release production routed to when the deployment was created; none for a first one. */
  previousReleaseId?: string;
  strategy: DeploymentStrategy;
  status: DeploymentStatus;
  /** Why the deployment is where it is (the failure, the rollback's cause). */
  reason?: string;
  /** Set when rolling back begins: the status the rollback ends in. */
  outcome?: RollbackOutcome;
  /** The steps, as planned when the deployment was created. */
  plan: DeploymentStep[];
  /** The step under way (write-ahead: recorded before it starts); -1 before the first. */
  step: number;
  stepStartedAt?: string;
  target: DeploymentTarget;
  trigger: DeploymentTrigger;
  /** Set when finished: the release production routes to now (none: nothing serves). */
  servingReleaseId?: string;
  /** Hook output. */
  logPath?: string;
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
  timeline: DeploymentEvent[];
}
