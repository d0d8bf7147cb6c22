import type { NewRelease, Release, ReleaseStore } from '../release/release.js';
import { ConflictError, NotFoundError } from '../shared/errors.js';
import { isSqliteError } from './columns.js';
import type { Database } from './database.js';
import { RELEASE_COLUMNS, toRelease, type ReleaseRow } from './release-rows.js';
import { newSortableId } from './sortable-id.js';

export interface ReleaseListQuery {
  service: string;
  limit: number;
  /** A release id: list only releases created before it (the next page of a newest-first list). */
  before?: string;
}

/** `rel_` + 17 base36 digits: sorts by creation time (see newSortableId). */
export function newReleaseId(now: number): string {
  return newSortableId('rel_', now);
}

/**
 * Releases: written once, never changed. Numbered 1, 2, 3... per service in the same
 * transaction that records them, so numbers are never reused, even across processes.
 */
export class ReleaseRepository implements ReleaseStore {
  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Records a release. Throws NotFoundError for an unknown service or run, ConflictError
   * when the run already has a release (see findByRun).
   */
  create(input: NewRelease): Release {
    const create = this.db.transaction(() => {
      const counter = this.db
        .prepare<[string], { last_release_number: number }>(
          `UPDATE services SET last_release_number = last_release_number + 1 WHERE name = ?
           RETURNING last_release_number`,
        )
        .get(input.service);
      if (counter === undefined) throw new NotFoundError(`service ${input.service} not found`);
      const run = this.db
        .prepare<[string], { service: string }>('SELECT service FROM runs WHERE id = ?')
        .get(input.runId);
      if (run?.service !== input.service) {
        throw new NotFoundError(`run ${input.runId} of service ${input.service} not found`);
      }
      const createdAt = this.now();
      const id = newReleaseId(createdAt);
      try {
        this.db
          .prepare(
            `INSERT INTO releases (id, service, number, run_id, commit_sha, artifact_name,
               artifact_digest, config_json, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            id,
            input.service,
            counter.last_release_number,
            input.runId,
            input.commit,
            input.artifact.name,
            input.artifact.digest,
            JSON.stringify(input.config),
            createdAt,
          );
      } catch (error) {
        if (isSqliteError(error, 'SQLITE_CONSTRAINT_UNIQUE')) {
          throw new ConflictError(`run ${input.runId} already has a release`, { cause: error });
        }
        throw error;
      }
      return this.get(id);
    });
    return create.immediate();
  }

  /** Throws NotFoundError. */
  get(id: string): Release {
    const row = this.db
      .prepare<[string], ReleaseRow>(`SELECT ${RELEASE_COLUMNS} FROM releases WHERE id = ?`)
      .get(id);
    if (row === undefined) throw new NotFoundError(`release ${id} not found`);
    return toRelease(row);
  }

  /** Throws NotFoundError. */
  getByNumber(service: string, number: number): Release {
    const row = this.db
      .prepare<[string, number], ReleaseRow>(
        `SELECT ${RELEASE_COLUMNS} FROM releases WHERE service = ? AND number = ?`,
      )
      .get(service, number);
    if (row === undefined) throw new NotFoundError(`release ${service}#${number} not found`);
    return toRelease(row);
  }

  findByRun(runId: string): Release | undefined {
    const row = this.db
      .prepare<[string], ReleaseRow>(`SELECT ${RELEASE_COLUMNS} FROM releases WHERE run_id = ?`)
      .get(runId);
    return row === undefined ? undefined : toRelease(row);
  }

  /** Newest first. Throws NotFoundError when `before` names no release of the service. */
  list(query: ReleaseListQuery): Release[] {
    const params: (string | number)[] = [query.service];
    let before = '';
    if (query.before !== undefined) {
      before = 'AND seq < ?';
      params.push(this.seqOf(query.service, query.before));
    }
    return this.db
      .prepare<(string | number)[], ReleaseRow>(
        `SELECT ${RELEASE_COLUMNS} FROM releases WHERE service = ? ${before}
         ORDER BY seq DESC LIMIT ?`,
      )
      .all(...params, Math.max(0, Math.floor(query.limit)))
      .map(toRelease);
  }

  /** The service's newest release, if it has any. */
  latest(service: string): Release | undefined {
    return this.list({ service, limit: 1 })[0];
  }

  private seqOf(service: string, id: string): number {
    const row = this.db
      .prepare<[string, string], { seq: number }>(
        'SELECT seq FROM releases WHERE id = ? AND service = ?',
      )
      .get(id, service);
    if (row === undefined) throw new NotFoundError(`release ${id} of service ${service} not found`);
    return row.seq;
  }
}
