import { z } from 'zod';
import type { Run, RunStatus, Stage, StageKind, StageStatus, Trigger } from '../pipeline/run.js';
import { isoTime, optional, readJson } from './columns.js';

/** How runs and stages sit in SQLite, and how rows become domain objects. */

export interface RunRow {
  seq: number;
  id: string;
  service: string;
  number: number;
  status: RunStatus;
  commit_sha: string;
  ref: string;
  trigger_json: string;
  reason: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

export interface StageRow {
  run_id: string;
  idx: number;
  name: string;
  kind: StageKind;
  status: StageStatus;
  attempt: number;
  started_at: number | null;
  finished_at: number | null;
  reason: string | null;
  platform_failure: 0 | 1 | null;
  log_path: string | null;
  external_id: string | null;
  output_json: string | null;
}

export const RUN_COLUMNS =
  'seq, id, service, number, status, commit_sha, ref, trigger_json, reason, created_at, started_at, finished_at';

export const STAGE_COLUMNS =
  'run_id, idx, name, kind, status, attempt, started_at, finished_at, reason, platform_failure, log_path, external_id, output_json';

const triggerSchema = z.object({
  type: z.enum(['push', 'webhook', 'poll', 'manual', 'retry']),
  actor: z.string(),
  detail: z.string().optional(),
}) satisfies z.ZodType<Trigger>;

const outputSchema = z.record(z.unknown());

export function toRun(row: RunRow, stageRows: readonly StageRow[]): Run {
  return {
    id: row.id,
    service: row.service,
    number: row.number,
    status: row.status,
    commit: row.commit_sha,
    ref: row.ref,
    trigger: readJson(triggerSchema, row.trigger_json, `run ${row.id} trigger`),
    createdAt: isoTime(row.created_at),
    startedAt: isoTime(row.started_at),
    finishedAt: isoTime(row.finished_at),
    reason: optional(row.reason),
    stages: stageRows.map(toStage),
  };
}

export function toStage(row: StageRow): Stage {
  const where = `run ${row.run_id} stage ${row.idx} output`;
  return {
    runId: row.run_id,
    index: row.idx,
    name: row.name,
    kind: row.kind,
    status: row.status,
    attempt: row.attempt,
    startedAt: isoTime(row.started_at),
    finishedAt: isoTime(row.finished_at),
    reason: optional(row.reason),
    platformFailure: row.platform_failure === null ? undefined : row.platform_failure === 1,
    logPath: optional(row.log_path),
    externalId: optional(row.external_id),
    output: row.output_json === null ? undefined : readJson(outputSchema, row.output_json, where),
  };
}
