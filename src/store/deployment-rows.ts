import { z } from 'zod';
import { HOOK_POINTS } from '../config/appspec-hooks.js';
import { releaseMonitor } from '../deploy/release-monitor.js';
import {
  ALARM_METRICS,
  COMPARISONS,
  TREAT_MISSING_DATA,
  type AlarmSpec,
  type AlarmStatistic,
} from '../monitor/alarm-spec.js';
import type {
  Deployment,
  DeploymentEvent,
  DeploymentStatus,
  DeploymentStrategy,
  DeploymentTarget,
  DeploymentTrigger,
  RollbackOutcome,
} from '../deploy/deployment.js';
import type { DeploymentStep } from '../deploy/strategies/step.js';
import { isoTime, optional, readJson } from './columns.js';

/** How deployments and their events sit in SQLite, and how rows become domain objects. */

export interface DeploymentRow {
  seq: number;
  id: string;
  service: string;
  environment: string;
  release_id: string;
  previous_release_id: string | null;
  strategy_json: string;
  plan_json: string;
  target_json: string;
  trigger_json: string;
  status: DeploymentStatus;
  step: number;
  step_started_at: number | null;
  reason: string | null;
  outcome: RollbackOutcome | null;
  serving_release_id: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

export interface DeploymentEventRow {
  id: number;
  deployment_id: string;
  time: number;
  type: string;
  reason: string | null;
  data_json: string;
}

export const DEPLOYMENT_COLUMNS =
  'seq, id, service, environment, release_id, previous_release_id, strategy_json, plan_json, ' +
  'target_json, trigger_json, status, step, step_started_at, reason, outcome, ' +
  'serving_release_id, created_at, updated_at, finished_at';

export const DEPLOYMENT_EVENT_COLUMNS = 'id, deployment_id, time, type, reason, data_json';

// Rows written before issue 5 lack the fields added since: they read as their defaults.
const strategySchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('all-at-once'),
    bakeMs: z.number().nonnegative().default(0),
    testListener: z.boolean().default(false),
  }),
  z.object({
    kind: z.literal('blue-green'),
    bakeMs: z.number().nonnegative(),
    testListener: z.boolean(),
    manualPromote: z.boolean().default(false),
  }),
  z.object({
    kind: z.literal('canary'),
    percent: z.number().int().min(1).max(99),
    intervalMs: z.number().nonnegative(),
    bakeMs: z.number().nonnegative(),
    testListener: z.boolean(),
    manualPromote: z.boolean(),
  }),
  z.object({
    kind: z.literal('linear'),
    percent: z.number().int().min(1).max(99),
    intervalMs: z.number().nonnegative(),
    bakeMs: z.number().nonnegative(),
    testListener: z.boolean(),
  }),
]) satisfies z.ZodType<DeploymentStrategy, z.ZodTypeDef, unknown>;

const stepSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('run-hooks'),
    status: z.enum(['starting', 'testing', 'shifting', 'draining']),
    point: z.enum(HOOK_POINTS),
  }),
  z.object({ kind: z.literal('start'), status: z.literal('starting') }),
  z.object({ kind: z.literal('await-healthy'), status: z.literal('starting') }),
  z.object({ kind: z.literal('route-test'), status: z.literal('testing') }),
  z.object({
    kind: z.literal('shift'),
    status: z.literal('shifting'),
    weight: z.number().int().min(0).max(100),
  }),
  z.object({ kind: z.literal('bake'), status: z.literal('baking'), ms: z.number().nonnegative() }),
  z.object({ kind: z.literal('await-promotion'), status: z.literal('paused') }),
  z.object({ kind: z.literal('drain-previous'), status: z.literal('draining') }),
  z.object({ kind: z.literal('stop-previous'), status: z.literal('draining') }),
]) satisfies z.ZodType<DeploymentStep>;

/** An alarm as the deployment stored it: normalised already (see monitor/alarm-spec.ts). */
const storedAlarmSchema = z.object({
  name: z.string(),
  metric: z.enum(ALARM_METRICS),
  statistic: z
    .string()
    .regex(/^(sum|average|p\d+(\.\d+)?)$/)
    .transform((value) => value as AlarmStatistic)
    .optional(),
  comparison: z.enum(COMPARISONS),
  threshold: z.number(),
  periodMs: z.number().positive(),
  evaluationPeriods: z.number().int().positive(),
  datapointsToAlarm: z.number().int().positive(),
  treatMissingData: z.enum(TREAT_MISSING_DATA),
  minRequests: z.number().int().nonnegative(),
}) satisfies z.ZodType<AlarmSpec, z.ZodTypeDef, unknown>;

const targetSchema = z.object({
  releaseNumber: z.number().int(),
  commit: z.string().optional(),
  group: z.string(),
  previousGroup: z.string().optional(),
  command: z.string(),
  portEnv: z.string(),
  instances: z.number().int().positive(),
  healthCheck: z.object({
    path: z.string(),
    intervalMs: z.number(),
    timeoutMs: z.number(),
    healthyThreshold: z.number(),
    unhealthyThreshold: z.number(),
    matcher: z.array(z.tuple([z.number(), z.number()])),
    gracePeriodMs: z.number(),
  }),
  env: z.record(z.string()),
  secretEnv: z.record(z.string()).optional(),
  functionCommands: z.record(z.object({ command: z.string(), timeoutMs: z.number().optional() })),
  monitor: z
    .object({
      alarms: z.array(storedAlarmSchema),
      crashLoop: z.object({ restarts: z.number().int(), windowMs: z.number() }),
      retryCanaryErrors: z.boolean(),
    })
    .default(() => releaseMonitor({})),
}) satisfies z.ZodType<DeploymentTarget, z.ZodTypeDef, unknown>;

const triggerSchema = z.object({
  type: z.enum(['pipeline', 'manual', 'rollback', 'retry']),
  actor: z.string(),
  runId: z.string().optional(),
  detail: z.string().optional(),
}) satisfies z.ZodType<DeploymentTrigger>;

const dataSchema = z.record(z.unknown());

export function toDeployment(
  row: DeploymentRow,
  events: readonly DeploymentEventRow[],
): Deployment {
  const where = `deployment ${row.id}`;
  return {
    id: row.id,
    service: row.service,
    environment: row.environment,
    releaseId: row.release_id,
    previousReleaseId: optional(row.previous_release_id),
    strategy: readJson(strategySchema, row.strategy_json, `${where} strategy`),
    status: row.status,
    reason: optional(row.reason),
    outcome: optional(row.outcome),
    plan: readJson(z.array(stepSchema), row.plan_json, `${where} plan`),
    step: row.step,
    stepStartedAt: isoTime(row.step_started_at),
    target: readJson(targetSchema, row.target_json, `${where} target`),
    trigger: readJson(triggerSchema, row.trigger_json, `${where} trigger`),
    servingReleaseId: optional(row.serving_release_id),
    createdAt: isoTime(row.created_at),
    updatedAt: isoTime(row.updated_at),
    finishedAt: isoTime(row.finished_at),
    timeline: events.map(toDeploymentEvent),
  };
}

export function toDeploymentEvent(row: DeploymentEventRow): DeploymentEvent {
  return {
    id: row.id,
    deploymentId: row.deployment_id,
    time: isoTime(row.time),
    type: row.type,
    reason: optional(row.reason),
    data: readJson(dataSchema, row.data_json, `deployment event ${row.id} data`),
  };
}
