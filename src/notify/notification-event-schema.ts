import { z } from 'zod';
import type { NotificationEvent } from './notification-event.js';

/**
 * A NotificationEvent read back from outside the process (the store keeps the events of
 * unfinished deliveries, to send them after a restart). Unknown keys are kept: a newer
 * Phoenix may have added some.
 */

const link = z.object({ label: z.string(), url: z.string() });
const run = z.object({
  id: z.string(),
  number: z.number(),
  commit: z.string().optional(),
  ref: z.string().optional(),
});
const release = z.object({
  id: z.string(),
  number: z.number().optional(),
  commit: z.string().optional(),
});
const alarmState = z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']);
const alarm = z.object({
  name: z.string(),
  state: alarmState,
  reason: z.string().optional(),
  datapoints: z
    .array(
      z.object({
        start: z.number(),
        end: z.number(),
        value: z.number().optional(),
        breaching: z.boolean().optional(),
      }),
    )
    .optional(),
});

const base = {
  service: z.string(),
  actor: z.string().optional(),
  links: z.array(link).optional(),
  occurredAt: z.string().optional(),
};
const runBase = { ...base, run, environments: z.array(z.string()).optional() };
const approvalBase = {
  ...base,
  environment: z.string(),
  approvalId: z.string(),
  run: run.optional(),
  release: release.optional(),
};
const deploymentBase = {
  ...base,
  environment: z.string(),
  deploymentId: z.string(),
  release,
  run: run.optional(),
};

export const notificationEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('run.started'), ...runBase }).passthrough(),
  z.object({ type: z.literal('run.succeeded'), ...runBase }).passthrough(),
  z
    .object({
      type: z.literal('run.failed'),
      ...runBase,
      reason: z.string().optional(),
      stage: z.string().optional(),
    })
    .passthrough(),
  z
    .object({
      type: z.literal('approval.waiting'),
      ...approvalBase,
      message: z.string().optional(),
      expiresAt: z.string().optional(),
      requiredApprovals: z.number().optional(),
    })
    .passthrough(),
  z
    .object({
      type: z.literal('approval.granted'),
      ...approvalBase,
      comment: z.string().optional(),
    })
    .passthrough(),
  z
    .object({
      type: z.literal('approval.rejected'),
      ...approvalBase,
      comment: z.string().optional(),
    })
    .passthrough(),
  z.object({ type: z.literal('approval.expired'), ...approvalBase }).passthrough(),
  z
    .object({
      type: z.literal('deployment.started'),
      ...deploymentBase,
      strategy: z.string().optional(),
      previousRelease: release.optional(),
    })
    .passthrough(),
  z
    .object({
      type: z.literal('deployment.promoted'),
      ...deploymentBase,
      fromEnvironment: z.string().optional(),
    })
    .passthrough(),
  z.object({ type: z.literal('deployment.succeeded'), ...deploymentBase }).passthrough(),
  z
    .object({ type: z.literal('deployment.failed'), ...deploymentBase, reason: z.string() })
    .passthrough(),
  z
    .object({
      type: z.literal('deployment.rolled-back'),
      ...deploymentBase,
      reason: z.string(),
      rolledBackTo: release.optional(),
      alarms: z.array(alarm).optional(),
    })
    .passthrough(),
  z
    .object({
      type: z.literal('alarm.state-changed'),
      ...base,
      environment: z.string(),
      alarm,
      previousState: alarmState,
      deploymentId: z.string().optional(),
      release: release.optional(),
    })
    .passthrough(),
]) satisfies z.ZodType<NotificationEvent, z.ZodTypeDef, unknown>;
