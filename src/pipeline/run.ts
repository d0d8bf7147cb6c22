import type { TransitionTable } from './state-machine.js';

/**
 * A pipeline run: one commit of one service going through its stages. Statuses follow
 * CodePipeline's execution statuses (InProgress, Stopped, Succeeded, Superseded, Failed),
 * with `queued` for runs waiting for their turn and `waiting` for a run paused between stages.
 */
export const RUN_STATUSES = [
  'queued',
  'running',
  'waiting',
  'succeeded',
  'failed',
  'cancelled',
  'superseded',
] as const;

export type RunStatus = (typeof RUN_STATUSES)[number];

export const RUN_TRANSITIONS: TransitionTable<RunStatus> = {
  queued: ['running', 'cancelled', 'superseded', 'failed'],
  running: ['waiting', 'succeeded', 'failed', 'cancelled'],
  waiting: ['running', 'superseded', 'cancelled', 'failed'],
  // A manual retry puts a finished run back in line to re-run its failed (or stopped) stage;
  // so does a restarted control plane for a run whose stage it lost (running → failed → queued).
  failed: ['queued'],
  cancelled: ['queued'],
  succeeded: [],
  superseded: [],
};

export const FINISHED_RUN_STATUSES: readonly RunStatus[] = [
  'succeeded',
  'failed',
  'cancelled',
  'superseded',
];

export const UNFINISHED_RUN_STATUSES: readonly RunStatus[] = ['queued', 'running', 'waiting'];

export const STAGE_STATUSES = [
  'pending',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'skipped',
] as const;

export type StageStatus = (typeof STAGE_STATUSES)[number];

export const STAGE_TRANSITIONS: TransitionTable<StageStatus> = {
  pending: ['running', 'skipped', 'cancelled'],
  running: ['succeeded', 'failed', 'cancelled'],
  // Retried by hand, or again after a control plane restart.
  failed: ['running'],
  cancelled: ['running', 'pending'],
  succeeded: [],
  skipped: [],
};

export const FINISHED_STAGE_STATUSES: readonly StageStatus[] = [
  'succeeded',
  'failed',
  'cancelled',
  'skipped',
];

/** For statuses read from outside (a command line, an event stream). */
export function isRunStatus(value: unknown): value is RunStatus {
  const statuses: readonly unknown[] = RUN_STATUSES;
  return statuses.includes(value);
}

export function isStageStatus(value: unknown): value is StageStatus {
  const statuses: readonly unknown[] = STAGE_STATUSES;
  return statuses.includes(value);
}

export type StageKind = 'source' | 'build' | 'release' | 'deploy' | 'approval';

export type TriggerType = 'push' | 'webhook' | 'poll' | 'manual' | 'retry';

export interface Trigger {
  type: TriggerType;
  /** Who caused it: a token's name, a GitHub login, `poller`. */
  actor: string;
  /** Webhook delivery id, poll URL, ... */
  detail?: string;
}

export interface Stage {
  runId: string;
  /** Position in the run, from 0. */
  index: number;
  name: string;
  kind: StageKind;
  status: StageStatus;
  /** How many times the stage has started (retries count). */
  attempt: number;
  startedAt?: string;
  finishedAt?: string;
  /** Why it failed, was cancelled or skipped. */
  reason?: string;
  /** Failure caused by Phoenix (killed, timed out, crashed), not by the user's code. */
  platformFailure?: boolean;
  logPath?: string;
  /** Build id, deployment id... what the stage produced or ran. */
  externalId?: string;
  /** Stage-specific result: the build summary's essentials, artifacts. */
  output?: Record<string, unknown>;
}

export interface Run {
  id: string;
  service: string;
  /** 1, 2, 3... per service. */
  number: number;
  status: RunStatus;
  commit: string;
  /** `refs/heads/main`, `refs/tags/v1.2.0`. */
  ref: string;
  trigger: Trigger;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  reason?: string;
  stages: Stage[];
}
