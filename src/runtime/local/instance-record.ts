import { z } from 'zod';
import { IllegalTransitionError } from '../../shared/errors.js';
import type { Instance, InstanceFilter, InstanceStatus, StartRequest } from '../runtime.js';

/**
 * What the local runtime remembers about one instance, in memory and in its state file:
 * the public `Instance` plus what it needs to watch, restart and adopt it after a control
 * plane restart. `processStartTime` (field 22 of /proc/<pid>/stat) tells a recorded pid from
 * an unrelated process that got the same pid later.
 */
export interface InstanceRecord extends Instance {
  directory: string;
  command: string;
  portEnv: string;
  /** The request's variables, so that an adopted instance restarts with the same ones. */
  env: Record<string, string>;
  restart: boolean;
  processStartTime?: number;
  /** Epoch ms of recent restarts, newest last (the crash-loop breaker counts them). */
  restartTimes: number[];
}

export const InstanceRecordSchema = z.object({
  id: z.string().min(1),
  service: z.string(),
  environment: z.string(),
  releaseId: z.string(),
  index: z.number().int().nonnegative(),
  pid: z.number().int().positive().optional(),
  port: z.number().int().min(1).max(65_535),
  status: z.enum(['starting', 'running', 'restarting', 'stopping', 'stopped', 'failed']),
  startedAt: z.string(),
  restarts: z.number().int().nonnegative(),
  logFile: z.string(),
  directory: z.string(),
  command: z.string(),
  portEnv: z.string(),
  env: z.record(z.string()),
  restart: z.boolean(),
  processStartTime: z.number().int().nonnegative().optional(),
  restartTimes: z.array(z.number()),
}) satisfies z.ZodType<InstanceRecord>;

export const StateFileSchema = z.object({
  version: z.literal(1),
  instances: z.array(InstanceRecordSchema),
});

/** The record of an instance about to start: written before its process runs. */
export function newInstanceRecord(
  request: StartRequest,
  instance: { id: string; index: number; port: number; now: number; logFile: string },
): InstanceRecord {
  return {
    id: instance.id,
    service: request.service,
    environment: request.environment,
    releaseId: request.releaseId,
    index: instance.index,
    port: instance.port,
    status: 'starting',
    startedAt: new Date(instance.now).toISOString(),
    restarts: 0,
    logFile: instance.logFile,
    directory: request.directory,
    command: request.command,
    portEnv: request.portEnv,
    env: { ...request.env },
    restart: request.restart ?? true,
    restartTimes: [],
  };
}

export function matches(instance: Instance, filter: InstanceFilter): boolean {
  return (
    (filter.service === undefined || instance.service === filter.service) &&
    (filter.environment === undefined || instance.environment === filter.environment) &&
    (filter.releaseId === undefined || instance.releaseId === filter.releaseId)
  );
}

/** Start is idempotent per key: one live instance per service, environment, release and index. */
export function instanceKey(
  instance: Pick<Instance, 'service' | 'environment' | 'releaseId' | 'index'>,
): string {
  return JSON.stringify([
    instance.service,
    instance.environment,
    instance.releaseId,
    instance.index,
  ]);
}

/** Holds a process (or is about to): its port is taken and it counts for idempotent start. */
export function isActive(status: InstanceStatus): boolean {
  return status === 'starting' || status === 'running' || status === 'restarting';
}

const TRANSITIONS: Record<InstanceStatus, readonly InstanceStatus[]> = {
  starting: ['running', 'failed', 'stopping'],
  running: ['restarting', 'failed', 'stopping'],
  restarting: ['running', 'failed', 'stopping'],
  stopping: ['stopped'],
  // A failed instance may still have leftovers to reap: stop moves it through stopping.
  failed: ['stopping'],
  stopped: [],
};

export function canTransition(from: InstanceStatus, to: InstanceStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function transition(record: InstanceRecord, to: InstanceStatus): void {
  if (!canTransition(record.status, to)) {
    throw new IllegalTransitionError(`instance ${record.id}`, record.status, to);
  }
  record.status = to;
}

/** The public view: a copy, without the runtime's bookkeeping. */
export function toInstance(record: InstanceRecord): Instance {
  const instance: Instance = {
    id: record.id,
    service: record.service,
    environment: record.environment,
    releaseId: record.releaseId,
    index: record.index,
    port: record.port,
    status: record.status,
    startedAt: record.startedAt,
    restarts: record.restarts,
    logFile: record.logFile,
  };
  if (record.pid !== undefined) instance.pid = record.pid;
  return instance;
}
