import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { DEPLOYMENT_STATUSES, isFinished } from '../../src/deploy/deployment.js';
import { wallClock } from './managed-process.js';
import type { PhoenixApi } from './phoenix-api.js';

/** How often the bench asks how a deployment goes. */
const DEPLOYMENT_POLL_MS = 100;

const timelineEventSchema = z.object({
  time: z.string(),
  type: z.string(),
  reason: z.string().optional(),
  data: z.record(z.unknown()),
});

/** The parts of the API's deployment view the bench reads; unknown keys pass. */
const deploymentSchema = z.object({
  id: z.string(),
  releaseId: z.string(),
  releaseNumber: z.number(),
  status: z.enum(DEPLOYMENT_STATUSES),
  reason: z.string().optional(),
  createdAt: z.string(),
  finishedAt: z.string().optional(),
  timeline: z.array(timelineEventSchema),
});
const deploymentResponseSchema = z.object({ deployment: deploymentSchema });
export type DeploymentRecord = z.infer<typeof deploymentSchema>;

const statusSchema = z.object({
  environments: z.array(
    z.object({
      environment: z.string(),
      servingRelease: z.object({ id: z.string(), number: z.number().optional() }).optional(),
    }),
  ),
});

export interface FinishedDeployment {
  deployment: DeploymentRecord;
  /** Bench clock (epoch ms) just before the request that started it. */
  requestedAt: number;
  /** Bench clock when a poll first saw it finished. */
  seenFinishedAt: number;
}

/**
 * `POST /api/services/:service/deployments`, then `GET /api/deployments/:id` every 100 ms
 * until it has finished (whatever the outcome) or `timeoutMs` passes (an error).
 */
export async function deployAndWait(
  api: PhoenixApi,
  options: {
    service: string;
    environment: string;
    /** `service#number` or a release id. */
    release: string;
    timeoutMs: number;
    signal: AbortSignal;
  },
): Promise<FinishedDeployment> {
  const requestedAt = wallClock();
  let { deployment } = await api.json(
    deploymentResponseSchema,
    `/api/services/${options.service}/deployments`,
    {
      method: 'POST',
      body: JSON.stringify({ environment: options.environment, release: options.release }),
    },
  );
  const deadline = requestedAt + options.timeoutMs;
  while (!isFinished(deployment.status)) {
    if (wallClock() > deadline) {
      throw new Error(
        `deployment ${deployment.id} of ${options.release} still ${deployment.status} after ${options.timeoutMs} ms`,
      );
    }
    await sleep(DEPLOYMENT_POLL_MS, undefined, { signal: options.signal });
    ({ deployment } = await api.json(
      deploymentResponseSchema,
      `/api/deployments/${deployment.id}`,
    ));
  }
  return { deployment, requestedAt, seenFinishedAt: wallClock() };
}

/** The release serving an environment's production listener now (`phoenix status`). */
export async function servingRelease(
  api: PhoenixApi,
  service: string,
  environment: string,
): Promise<{ id: string; number?: number } | undefined> {
  const status = await api.json(
    statusSchema,
    `/api/services/${service}/status?environment=${environment}`,
  );
  return status.environments.find((view) => view.environment === environment)?.servingRelease;
}

/** One stretch of a deployment: a step of its plan, or its rollback. */
export interface StepSpan {
  /** The step's kind (`start`, `await-healthy`, `bake`, `drain-previous`...) or `rollback`. */
  kind: string;
  from: number;
  to: number;
}

/**
 * The deployment's steps in time, from its timeline: each `step.started` (and a
 * `rollback.started`) lasts until the next one, the last until the deployment finished.
 * Times are the server's (whole milliseconds, same machine as the bench).
 */
export function stepSpans(deployment: DeploymentRecord): StepSpan[] {
  const starts: { kind: string; at: number }[] = [];
  for (const event of deployment.timeline) {
    const at = Date.parse(event.time);
    if (event.type === 'step.started' && typeof event.data['kind'] === 'string') {
      starts.push({ kind: event.data['kind'], at });
    } else if (event.type === 'rollback.started') {
      starts.push({ kind: 'rollback', at });
    }
  }
  const end = Date.parse(deployment.finishedAt ?? deployment.createdAt);
  return starts.map((start, index) => ({
    kind: start.kind,
    from: start.at,
    to: starts[index + 1]?.at ?? end,
  }));
}

/** createdAt → finishedAt on the server. */
export function deploymentDurationMs(deployment: DeploymentRecord): number {
  return (
    Date.parse(deployment.finishedAt ?? deployment.createdAt) - Date.parse(deployment.createdAt)
  );
}
