import { z } from 'zod';
import { NotFoundError, PlatformError } from '../shared/errors.js';
import { isoTime, isSqliteError, readJson } from './columns.js';
import type { Database } from './database.js';

/**
 * Something that happened to a run: a status change, a stage starting, a log chunk's
 * location. Ids grow with every append across all runs, so "events after id N" is a
 * resumable cursor for live following (SSE `Last-Event-ID`) and for timelines.
 */
export interface RunEvent {
  id: number;
  runId: string;
  time: string;
  /** `run.status`, `stage.status`, ... — named by whoever appends. */
  type: string;
  data: Record<string, unknown>;
}

interface EventRow {
  id: number;
  run_id: string;
  time: number;
  type: string;
  data_json: string;
}

const dataSchema = z.record(z.unknown());

/**
 * Append-only: there is no update or delete here, and the schema refuses UPDATE.
 * Events go only with their run (when its service is deleted).
 */
export class EventRepository {
  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws NotFoundError when the run does not exist. */
  append(runId: string, type: string, data: Record<string, unknown> = {}): RunEvent {
    const time = this.now();
    const dataJson = JSON.stringify(data);
    const row = this.insert(runId, time, type, dataJson);
    return toEvent({ id: row.id, run_id: runId, time, type, data_json: dataJson });
  }

  /** The run's events with an id above `afterId` (0 for all), oldest first, at most `limit`. */
  listSince(runId: string, afterId: number, limit: number): RunEvent[] {
    return this.db
      .prepare<[string, number, number], EventRow>(
        `SELECT id, run_id, time, type, data_json FROM run_events
         WHERE run_id = ? AND id > ? ORDER BY id LIMIT ?`,
      )
      .all(runId, afterId, Math.max(0, Math.floor(limit)))
      .map(toEvent);
  }

  private insert(runId: string, time: number, type: string, dataJson: string): { id: number } {
    try {
      const row = this.db
        .prepare<[string, number, string, string], { id: number }>(
          'INSERT INTO run_events (run_id, time, type, data_json) VALUES (?, ?, ?, ?) RETURNING id',
        )
        .get(runId, time, type, dataJson);
      if (row === undefined) throw new PlatformError('run event insert returned no id');
      return row;
    } catch (error) {
      if (isSqliteError(error, 'SQLITE_CONSTRAINT_FOREIGNKEY')) {
        throw new NotFoundError(`run ${runId} not found`, { cause: error });
      }
      throw error;
    }
  }
}

function toEvent(row: EventRow): RunEvent {
  return {
    id: row.id,
    runId: row.run_id,
    time: isoTime(row.time),
    type: row.type,
    data: readJson(dataSchema, row.data_json, `run event ${row.id} data`),
  };
}
