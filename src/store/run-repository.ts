import {
  FINISHED_RUN_STATUSES,
  FINISHED_STAGE_STATUSES,
  RUN_TRANSITIONS,
  STAGE_TRANSITIONS,
  UNFINISHED_RUN_STATUSES,
  type Run,
  type RunStatus,
  type StageKind,
  type StageStatus,
  type Trigger,
} from '../pipeline/run.js';
import { assertTransition } from '../pipeline/state-machine.js';
import { NotFoundError } from '../shared/errors.js';
import { epochMs } from './columns.js';
import type { Database } from './database.js';
import { newRunId } from './run-id.js';
import { RUN_COLUMNS, STAGE_COLUMNS, toRun, type RunRow, type StageRow } from './run-rows.js';

export interface NewRun {
  service: string;
  commit: string;
  ref: string;
  trigger: Trigger;
  stages: readonly { name: string; kind: StageKind }[];
}

export interface RunListQuery {
  service?: string;
  status?: RunStatus | readonly RunStatus[];
  limit: number;
  /** A run id: list only runs created before it (the next page of a newest-first list). */
  before?: string;
}

/** Times are ISO 8601, as on Run; absent ones are chosen by the repository (see transition). */
export interface RunTransitionFields {
  reason?: string;
  startedAt?: string;
  finishedAt?: string;
}

/** What a stage records while it runs, without a change of status. */
export interface StageRecordFields {
  logPath?: string;
  externalId?: string;
  output?: Record<string, unknown>;
}

export interface StageTransitionFields extends RunTransitionFields, StageRecordFields {
  platformFailure?: boolean;
}

/** Finished runs of one status: enough for a Prometheus summary's `_sum` and `_count`. */
export interface RunDurationStats {
  status: RunStatus;
  count: number;
  sumMs: number;
}

/**
 * Pipeline runs and their stages. Every state change happens in an IMMEDIATE transaction
 * that re-reads the stored status, so concurrent writers (another connection, another
 * process) are serialised and never overwrite each other's transitions. Called inside a
 * caller's `db.transaction(...)`, the methods join it (as savepoints).
 */
export class RunRepository {
  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Records a queued run with pending stages, numbered 1, 2, 3... per service (numbers are
   * never reused). Throws NotFoundError for an unknown service.
   */
  create(input: NewRun): Run {
    const create = this.db.transaction(() => {
      const counter = this.db
        .prepare<[string], { last_run_number: number }>(
          `UPDATE services SET last_run_number = last_run_number + 1 WHERE name = ?
           RETURNING last_run_number`,
        )
        .get(input.service);
      if (counter === undefined) throw new NotFoundError(`service ${input.service} not found`);
      const createdAt = this.now();
      const id = newRunId(createdAt);
      this.db
        .prepare(
          `INSERT INTO runs (id, service, number, status, commit_sha, ref, trigger_json, created_at)
           VALUES (?, ?, ?, 'queued', ?, ?, ?, ?)`,
        )
        .run(
          id,
          input.service,
          counter.last_run_number,
          input.commit,
          input.ref,
          JSON.stringify(input.trigger),
          createdAt,
        );
      const stage = this.db.prepare(
        `INSERT INTO stages (run_id, idx, name, kind, status) VALUES (?, ?, ?, ?, 'pending')`,
      );
      for (const [index, { name, kind }] of input.stages.entries()) {
        stage.run(id, index, name, kind);
      }
      return this.get(id);
    });
    return create.immediate();
  }

  /** Throws NotFoundError. */
  get(id: string): Run {
    const row = this.db
      .prepare<[string], RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = ?`)
      .get(id);
    if (row === undefined) throw new NotFoundError(`run ${id} not found`);
    return this.withStage(row);
  }

  /** Throws NotFoundError. */
  getByNumber(service: string, number: number): Run {
    const row = this.db
      .prepare<[string, number], RunRow>(
        `SELECT ${RUN_COLUMNS} FROM runs WHERE service = ? AND number = ?`,
      )
      .get(service, number);
    if (row === undefined) throw new NotFoundError(`run ${service}#${number} not found`);
    return this.withStage(row);
  }

  /** Newest first. Throws NotFoundError when `before` names no run. */
  list(query: RunListQuery): Run[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.service !== undefined) {
      where.push('service = ?');
      params.push(query.service);
    }
    if (query.status !== undefined) {
      where.push('status IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(typeof query.status === 'string' ? [query.status] : query.status));
    }
    if (query.before !== undefined) {
      where.push('seq < ?');
      params.push(this.seqOf(query.before));
    }
    const clause = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
    const rows = this.db
      .prepare<(string | number)[], RunRow>(
        `SELECT ${RUN_COLUMNS} FROM runs ${clause} ORDER BY seq DESC LIMIT ?`,
      )
      .all(...params, Math.max(0, Math.floor(query.limit)));
    return this.withStages(rows);
  }

  /** Runs a restarted control plane must resume or fail: queued, running, waiting; oldest first. */
  unfinished(): Run[] {
    const rows = this.db
      .prepare<[string], RunRow>(
        `SELECT ${RUN_COLUMNS} FROM runs WHERE status IN (SELECT value FROM json_each(?))
         ORDER BY seq`,
      )
      .all(JSON.stringify(UNFINISHED_RUN_STATUSES));
    return this.withStages(rows);
  }

  /**
   * Moves a run to `to` if RUN_TRANSITIONS allows it from the stored status; throws
   * IllegalTransitionError otherwise, NotFoundError for an unknown run. `reason` describes
   * the new status and replaces the old one. Unless given: `startedAt` is set on the first
   * move to running; `finishedAt` is set on reaching a finished status and cleared on
   * leaving one (a retry).
   */
  transition(id: string, to: RunStatus, fields: RunTransitionFields = {}): Run {
    const move = this.db.transaction(() => {
      const row = this.db
        .prepare<[string], Pick<RunRow, 'status' | 'started_at'>>(
          'SELECT status, started_at FROM runs WHERE id = ?',
        )
        .get(id);
      if (row === undefined) throw new NotFoundError(`run ${id} not found`);
      assertTransition(`run ${id}`, RUN_TRANSITIONS, row.status, to);
      const now = this.now();
      const firstStart = to === 'running' && row.started_at === null ? now : row.started_at;
      this.db
        .prepare(
          'UPDATE runs SET status = ?, reason = ?, started_at = ?, finished_at = ? WHERE id = ?',
        )
        .run(
          to,
          fields.reason ?? null,
          epochMs(fields.startedAt) ?? firstStart,
          epochMs(fields.finishedAt) ?? (FINISHED_RUN_STATUSES.includes(to) ? now : null),
          id,
        );
      return this.get(id);
    });
    return move.immediate();
  }

  /**
   * Moves stage `index` of a run like `transition`, with STAGE_TRANSITIONS. Moving to
   * running starts a new attempt: `attempt` goes up by one, `startedAt` is now, and what
   * the previous attempt left (reason, platformFailure, logPath, externalId, output,
   * finishedAt) is cleared unless given again. Other moves keep what is not given, set
   * `finishedAt` on a finished status, and replace `reason`. Returns the whole run.
   */
  transitionStage(
    runId: string,
    index: number,
    to: StageStatus,
    fields: StageTransitionFields = {},
  ): Run {
    const move = this.db.transaction(() => {
      const row = this.stageRow(runId, index);
      assertTransition(`run ${runId} stage ${index}`, STAGE_TRANSITIONS, row.status, to);
      this.saveStage(nextStageRow(row, to, fields, this.now()));
      return this.get(runId);
    });
    return move.immediate();
  }

  /**
   * Records what a stage started (log file, build id) or produced, keeping its status and
   * whatever is not given. Returns the whole run; throws NotFoundError.
   */
  updateStage(runId: string, index: number, fields: StageRecordFields): Run {
    const update = this.db.transaction(() => {
      const row = this.stageRow(runId, index);
      this.saveStage({
        ...row,
        log_path: fields.logPath ?? row.log_path,
        external_id: fields.externalId ?? row.external_id,
        output_json: fields.output === undefined ? row.output_json : JSON.stringify(fields.output),
      });
      return this.get(runId);
    });
    return update.immediate();
  }

  /** Every status, zero when no run has it. */
  countByStatus(): Record<RunStatus, number> {
    const counts = {
      queued: 0,
      running: 0,
      waiting: 0,
      succeeded: 0,
      failed: 0,
      cancelled: 0,
      superseded: 0,
    } satisfies Record<RunStatus, number>;
    const rows = this.db
      .prepare<[], { status: RunStatus; count: number }>(
        'SELECT status, COUNT(*) AS count FROM runs GROUP BY status',
      )
      .all();
    for (const { status, count } of rows) counts[status] = count;
    return counts;
  }

  /** Runs waiting for their turn. */
  queueDepth(): number {
    const row = this.db
      .prepare<[], { count: number }>(`SELECT COUNT(*) AS count FROM runs WHERE status = 'queued'`)
      .get();
    return row?.count ?? 0;
  }

  /** Start-to-finish durations of finished runs that started, by status. */
  durationStats(): RunDurationStats[] {
    return this.db
      .prepare<[string], RunDurationStats>(
        `SELECT status, COUNT(*) AS count, COALESCE(SUM(finished_at - started_at), 0) AS sumMs
         FROM runs
         WHERE status IN (SELECT value FROM json_each(?))
           AND started_at IS NOT NULL AND finished_at IS NOT NULL
         GROUP BY status ORDER BY status`,
      )
      .all(JSON.stringify(FINISHED_RUN_STATUSES));
  }

  private seqOf(id: string): number {
    const row = this.db
      .prepare<[string], { seq: number }>('SELECT seq FROM runs WHERE id = ?')
      .get(id);
    if (row === undefined) throw new NotFoundError(`run ${id} not found`);
    return row.seq;
  }

  private stageRow(runId: string, index: number): StageRow {
    const row = this.db
      .prepare<[string, number], StageRow>(
        `SELECT ${STAGE_COLUMNS} FROM stages WHERE run_id = ? AND idx = ?`,
      )
      .get(runId, index);
    if (row !== undefined) return row;
    this.get(runId);
    throw new NotFoundError(`run ${runId} has no stage ${index}`);
  }

  private saveStage(row: StageRow): void {
    this.db
      .prepare<StageRow>(
        `UPDATE stages SET status = @status, attempt = @attempt, started_at = @started_at,
          finished_at = @finished_at, reason = @reason, platform_failure = @platform_failure,
          log_path = @log_path, external_id = @external_id, output_json = @output_json
         WHERE run_id = @run_id AND idx = @idx`,
      )
      .run(row);
  }

  private withStage(row: RunRow): Run {
    return toRun(row, this.stagesOf([row.id]).get(row.id) ?? []);
  }

  private withStages(rows: readonly RunRow[]): Run[] {
    if (rows.length === 0) return [];
    const stages = this.stagesOf(rows.map((row) => row.id));
    return rows.map((row) => toRun(row, stages.get(row.id) ?? []));
  }

  /** Stages of many runs in one query, whatever their number. */
  private stagesOf(runIds: readonly string[]): Map<string, StageRow[]> {
    const stageRows = this.db
      .prepare<[string], StageRow>(
        `SELECT ${STAGE_COLUMNS} FROM stages WHERE run_id IN (SELECT value FROM json_each(?))
         ORDER BY run_id, idx`,
      )
      .all(JSON.stringify(runIds));
    const byRun = new Map<string, StageRow[]>();
    for (const stage of stageRows) {
      const list = byRun.get(stage.run_id) ?? [];
      list.push(stage);
      byRun.set(stage.run_id, list);
    }
    return byRun;
  }
}

function nextStageRow(
  row: StageRow,
  to: StageStatus,
  fields: StageTransitionFields,
  now: number,
): StageRow {
  const output = fields.output === undefined ? undefined : JSON.stringify(fields.output);
  const platformFailure =
    fields.platformFailure === undefined ? undefined : fields.platformFailure ? 1 : 0;
  if (to === 'running') {
    return {
      ...row,
      status: to,
      attempt: row.attempt + 1,
      started_at: epochMs(fields.startedAt) ?? now,
      finished_at: epochMs(fields.finishedAt) ?? null,
      reason: fields.reason ?? null,
      platform_failure: platformFailure ?? null,
      log_path: fields.logPath ?? null,
      external_id: fields.externalId ?? null,
      output_json: output ?? null,
    };
  }
  return {
    ...row,
    status: to,
    started_at: epochMs(fields.startedAt) ?? row.started_at,
    finished_at: epochMs(fields.finishedAt) ?? (FINISHED_STAGE_STATUSES.includes(to) ? now : null),
    reason: fields.reason ?? null,
    platform_failure: platformFailure ?? row.platform_failure,
    log_path: fields.logPath ?? row.log_path,
    external_id: fields.externalId ?? row.external_id,
    output_json: output ?? row.output_json,
  };
}
