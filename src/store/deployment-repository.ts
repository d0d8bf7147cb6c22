import {
  assertDeploymentTransition,
  FINISHED_DEPLOYMENT_STATUSES,
  isFinished,
  type Deployment,
  type DeploymentEvent,
} from '../deploy/deployment.js';
import type {
  DeploymentChange,
  DeploymentStore,
  NewDeployment,
  NewDeploymentEvent,
} from '../deploy/ports.js';
import { ConflictError, NotFoundError, PlatformError } from '../shared/errors.js';
import { isSqliteError } from './columns.js';
import type { Database } from './database.js';
import {
  DEPLOYMENT_COLUMNS,
  DEPLOYMENT_EVENT_COLUMNS,
  toDeployment,
  toDeploymentEvent,
  type DeploymentEventRow,
  type DeploymentRow,
} from './deployment-rows.js';
import { newSortableId } from './sortable-id.js';

const FINISHED = JSON.stringify(FINISHED_DEPLOYMENT_STATUSES);

/**
 * Deployments and their timelines. Every change is written with the event that explains it
 * in one IMMEDIATE transaction that re-reads the stored status, so concurrent writers are
 * serialised and never overwrite each other's transitions. At most one deployment per
 * environment of a service is unfinished: the schema enforces it, across processes too.
 * Events are append-only (the schema refuses UPDATE).
 */
export class DeploymentRepository implements DeploymentStore {
  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws NotFoundError for an unknown service, ConflictError when one is in flight. */
  create(input: NewDeployment): Deployment {
    const create = this.db.transaction(() => {
      const createdAt = this.now();
      const id = newDeploymentId(createdAt);
      try {
        this.db
          .prepare(
            `INSERT INTO deployments (id, service, environment, release_id, previous_release_id,
               strategy_json, plan_json, target_json, trigger_json, status, step, created_at,
               updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', -1, ?, ?)`,
          )
          .run(
            id,
            input.service,
            input.environment,
            input.releaseId,
            input.previousReleaseId ?? null,
            JSON.stringify(input.strategy),
            JSON.stringify(input.plan),
            JSON.stringify(input.target),
            JSON.stringify(input.trigger),
            createdAt,
            createdAt,
          );
      } catch (error) {
        throw this.insertError(error, input);
      }
      this.insertEvent(id, createdAt, {
        type: 'deployment.created',
        data: {
          releaseId: input.releaseId,
          previousReleaseId: input.previousReleaseId,
          strategy: input.strategy,
          trigger: input.trigger,
        },
      });
      return this.get(id);
    });
    return create.immediate();
  }

  /** Throws NotFoundError. */
  get(id: string): Deployment {
    const row = this.db
      .prepare<[string], DeploymentRow>(
        `SELECT ${DEPLOYMENT_COLUMNS} FROM deployments WHERE id = ?`,
      )
      .get(id);
    if (row === undefined) throw new NotFoundError(`deployment ${id} not found`);
    return toDeployment(row, this.eventRows(id));
  }

  /**
   * Applies a change and appends its event. A new status must be allowed by the table from
   * the stored one (IllegalTransitionError); reaching a finished status sets `finishedAt`.
   */
  record(id: string, change: DeploymentChange): Deployment {
    const write = this.db.transaction(() => {
      const row = this.db
        .prepare<[string], DeploymentRow>(
          `SELECT ${DEPLOYMENT_COLUMNS} FROM deployments WHERE id = ?`,
        )
        .get(id);
      if (row === undefined) throw new NotFoundError(`deployment ${id} not found`);
      const status = change.status ?? row.status;
      if (status !== row.status) assertDeploymentTransition(id, row.status, status);
      const now = this.now();
      this.db
        .prepare(
          `UPDATE deployments SET status = ?, step = ?, step_started_at = ?, reason = ?,
             outcome = ?, serving_release_id = ?, updated_at = ?, finished_at = ?
           WHERE id = ?`,
        )
        .run(
          status,
          change.step ?? row.step,
          change.step === undefined ? row.step_started_at : now,
          change.reason ?? row.reason,
          change.outcome ?? row.outcome,
          change.servingReleaseId ?? row.serving_release_id,
          now,
          isFinished(status) ? (row.finished_at ?? now) : null,
          id,
        );
      const from = row.status;
      const data =
        status === from ? { ...change.event.data } : { from, to: status, ...change.event.data };
      this.insertEvent(id, now, { ...change.event, data });
      return this.get(id);
    });
    return write.immediate();
  }

  /** Throws NotFoundError. */
  append(id: string, event: NewDeploymentEvent): DeploymentEvent {
    const append = this.db.transaction(() => {
      const time = this.now();
      const eventId = this.insertEvent(id, time, event);
      const row = this.db
        .prepare<[number], DeploymentEventRow>(
          `SELECT ${DEPLOYMENT_EVENT_COLUMNS} FROM deployment_events WHERE id = ?`,
        )
        .get(eventId);
      if (row === undefined) throw new PlatformError('deployment event vanished after insert');
      return toDeploymentEvent(row);
    });
    return append.immediate();
  }

  /** The deployment's events with an id above `afterId` (0 for all), oldest first. */
  timeline(id: string, afterId = 0): DeploymentEvent[] {
    return this.eventRows(id, afterId).map(toDeploymentEvent);
  }

  unfinished(): Deployment[] {
    const rows = this.db
      .prepare<[string], DeploymentRow>(
        `SELECT ${DEPLOYMENT_COLUMNS} FROM deployments
         WHERE status NOT IN (SELECT value FROM json_each(?)) ORDER BY seq`,
      )
      .all(FINISHED);
    return rows.map((row) => toDeployment(row, this.eventRows(row.id)));
  }

  latest(service: string, environment?: string): Deployment[] {
    const rows = this.db
      .prepare<{ service: string; environment: string | null }, DeploymentRow>(
        `SELECT ${DEPLOYMENT_COLUMNS} FROM deployments AS d
         WHERE service = @service AND (@environment IS NULL OR environment = @environment)
           AND seq = (SELECT MAX(seq) FROM deployments
                      WHERE service = d.service AND environment = d.environment)
         ORDER BY environment`,
      )
      .all({ service, environment: environment ?? null });
    return rows.map((row) => toDeployment(row, this.eventRows(row.id)));
  }

  /** Newest first, at most `limit`. */
  list(query: { service: string; environment?: string; limit: number }): Deployment[] {
    const rows = this.db
      .prepare<{ service: string; environment: string | null; limit: number }, DeploymentRow>(
        `SELECT ${DEPLOYMENT_COLUMNS} FROM deployments
         WHERE service = @service AND (@environment IS NULL OR environment = @environment)
         ORDER BY seq DESC LIMIT @limit`,
      )
      .all({
        service: query.service,
        environment: query.environment ?? null,
        limit: Math.max(0, Math.floor(query.limit)),
      });
    return rows.map((row) => toDeployment(row, this.eventRows(row.id)));
  }

  /**
   * Per environment with no deployment in flight: the newest successful deployment of the
   * release that serves it, which knows how that release runs (command, instances, group).
   */
  serving(): Deployment[] {
    const rows = this.db
      .prepare<{ finished: string }, DeploymentRow>(
        `WITH last AS (
           SELECT service, environment, serving_release_id FROM deployments AS d
           WHERE seq = (SELECT MAX(seq) FROM deployments
                        WHERE service = d.service AND environment = d.environment)
             AND status IN (SELECT value FROM json_each(@finished))
             AND serving_release_id IS NOT NULL
         )
         SELECT ${DEPLOYMENT_COLUMNS} FROM deployments AS s
         WHERE s.status = 'succeeded'
           AND s.seq = (SELECT MAX(seq) FROM deployments AS o
                        JOIN last ON o.service = last.service AND o.environment = last.environment
                        WHERE o.service = s.service AND o.environment = s.environment
                          AND o.status = 'succeeded' AND o.release_id = last.serving_release_id)
         ORDER BY s.service, s.environment`,
      )
      .all({ finished: FINISHED });
    return rows.map((row) => toDeployment(row, this.eventRows(row.id)));
  }

  servingRelease(service: string, environment: string): string | undefined {
    const row = this.db
      .prepare<[string, string, string], { serving_release_id: string | null }>(
        `SELECT serving_release_id FROM deployments
         WHERE service = ? AND environment = ? AND status IN (SELECT value FROM json_each(?))
         ORDER BY seq DESC LIMIT 1`,
      )
      .get(service, environment, FINISHED);
    return row?.serving_release_id ?? undefined;
  }

  private insertEvent(id: string, time: number, event: NewDeploymentEvent): number {
    try {
      const row = this.db
        .prepare<[string, number, string, string | null, string], { id: number }>(
          `INSERT INTO deployment_events (deployment_id, time, type, reason, data_json)
           VALUES (?, ?, ?, ?, ?) RETURNING id`,
        )
        .get(id, time, event.type, event.reason ?? null, JSON.stringify(event.data ?? {}));
      if (row === undefined) throw new PlatformError('deployment event insert returned no id');
      return row.id;
    } catch (error) {
      if (isSqliteError(error, 'SQLITE_CONSTRAINT_FOREIGNKEY')) {
        throw new NotFoundError(`deployment ${id} not found`, { cause: error });
      }
      throw error;
    }
  }

  private eventRows(id: string, afterId = 0): DeploymentEventRow[] {
    return this.db
      .prepare<[string, number], DeploymentEventRow>(
        `SELECT ${DEPLOYMENT_EVENT_COLUMNS} FROM deployment_events
         WHERE deployment_id = ? AND id > ? ORDER BY id`,
      )
      .all(id, afterId);
  }

  private insertError(error: unknown, input: NewDeployment): unknown {
    if (isSqliteError(error, 'SQLITE_CONSTRAINT_FOREIGNKEY')) {
      return new NotFoundError(`service ${input.service} not found`, { cause: error });
    }
    if (isSqliteError(error, 'SQLITE_CONSTRAINT_UNIQUE')) {
      const running = this.db
        .prepare<[string, string, string], { id: string; status: string }>(
          `SELECT id, status FROM deployments WHERE service = ? AND environment = ?
             AND status NOT IN (SELECT value FROM json_each(?))`,
        )
        .get(input.service, input.environment, FINISHED);
      const which =
        running === undefined ? 'another deployment' : `${running.id} (${running.status})`;
      return new ConflictError(
        `${input.service} is already being deployed to ${input.environment}: ${which}`,
        { cause: error },
      );
    }
    return error;
  }
}

/** `dep_` + 17 base36 digits: sorts by creation time (see newSortableId). */
function newDeploymentId(now: number): string {
  return newSortableId('dep_', now);
}
