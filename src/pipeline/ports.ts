import type { Run, RunStatus, Stage, StageKind, StageStatus, Trigger } from './run.js';

/**
 * What the pipeline needs from durable storage. The SQLite repositories implement it (and a
 * PostgreSQL store can later); every change is written before it takes effect outside.
 */
export interface RunStore {
  create(input: {
    service: string;
    commit: string;
    ref: string;
    trigger: Trigger;
    stages: { name: string; kind: StageKind }[];
  }): Run;
  get(id: string): Run;
  transition(
    id: string,
    to: RunStatus,
    fields?: { reason?: string; startedAt?: string; finishedAt?: string },
  ): Run;
  transitionStage(
    runId: string,
    index: number,
    to: StageStatus,
    fields?: Partial<
      Pick<
        Stage,
        | 'reason'
        | 'platformFailure'
        | 'logPath'
        | 'externalId'
        | 'output'
        | 'startedAt'
        | 'finishedAt'
      >
    >,
  ): Run;
  /** Records what a running stage started (build id, log file) without changing its status. */
  updateStage(
    runId: string,
    index: number,
    fields: Partial<Pick<Stage, 'logPath' | 'externalId' | 'output'>>,
  ): Run;
  unfinished(): Run[];
}

export interface EventStore {
  append(runId: string, type: string, data: Record<string, unknown>): unknown;
}
