import { ConflictError, NotFoundError } from '../shared/errors.js';
import { isoTime, isSqliteError, optional } from './columns.js';
import type { Database } from './database.js';

/** Where a service's code lives: a bare repository Phoenix hosts, or one it polls. */
export type ServiceRepositoryLocation =
  { kind: 'hosted'; path: string } | { kind: 'external'; url: string };

export interface Service {
  name: string;
  repository: ServiceRepositoryLocation;
  /**
   * Verifies forge webhook signatures (HMAC), so it is kept as given, not hashed.
   * Stored in plain text for now; issue 6 encrypts secrets at rest.
   */
  webhookSecret?: string;
  /** Set for external repositories that are polled rather than pushed to. */
  pollIntervalMs?: number;
  defaultBranch: string;
  createdAt: string;
}

export const DEFAULT_BRANCH = 'main';

export interface NewService {
  name: string;
  repository: ServiceRepositoryLocation;
  webhookSecret?: string;
  pollIntervalMs?: number;
  /** Defaults to DEFAULT_BRANCH. */
  defaultBranch?: string;
}

/** Fields to change; `null` clears an optional field, absent leaves it alone. */
export interface ServicePatch {
  repository?: ServiceRepositoryLocation;
  webhookSecret?: string | null;
  pollIntervalMs?: number | null;
  defaultBranch?: string;
}

interface ServiceRow {
  name: string;
  repo_kind: 'hosted' | 'external';
  repo_location: string;
  webhook_secret: string | null;
  poll_interval_ms: number | null;
  default_branch: string;
  created_at: number;
}

const COLUMNS =
  'name, repo_kind, repo_location, webhook_secret, poll_interval_ms, default_branch, created_at';

/** Services: the things Phoenix builds and deploys, keyed by name. */
export class ServiceRepository {
  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws ConflictError when a service of that name exists. */
  create(input: NewService): Service {
    const row: ServiceRow = {
      name: input.name,
      ...repositoryColumns(input.repository),
      webhook_secret: input.webhookSecret ?? null,
      poll_interval_ms: input.pollIntervalMs ?? null,
      default_branch: input.defaultBranch ?? DEFAULT_BRANCH,
      created_at: this.now(),
    };
    try {
      this.db
        .prepare<ServiceRow>(
          `INSERT INTO services (${COLUMNS}) VALUES (@name, @repo_kind, @repo_location,
            @webhook_secret, @poll_interval_ms, @default_branch, @created_at)`,
        )
        .run(row);
    } catch (error) {
      if (isSqliteError(error, 'SQLITE_CONSTRAINT_PRIMARYKEY')) {
        throw new ConflictError(`service ${input.name} already exists`, { cause: error });
      }
      throw error;
    }
    return toService(row);
  }

  /** Throws NotFoundError. */
  get(name: string): Service {
    const row = this.db
      .prepare<[string], ServiceRow>(`SELECT ${COLUMNS} FROM services WHERE name = ?`)
      .get(name);
    if (row === undefined) throw new NotFoundError(`service ${name} not found`);
    return toService(row);
  }

  /** By name. */
  list(): Service[] {
    return this.db
      .prepare<[], ServiceRow>(`SELECT ${COLUMNS} FROM services ORDER BY name`)
      .all()
      .map(toService);
  }

  /** Throws NotFoundError. Returns the service as stored after the change. */
  update(name: string, patch: ServicePatch): Service {
    const change = this.db.transaction(() => {
      const current = this.get(name);
      const next: Service = {
        ...current,
        repository: patch.repository ?? current.repository,
        defaultBranch: patch.defaultBranch ?? current.defaultBranch,
        webhookSecret:
          patch.webhookSecret === undefined ? current.webhookSecret : optional(patch.webhookSecret),
        pollIntervalMs:
          patch.pollIntervalMs === undefined
            ? current.pollIntervalMs
            : optional(patch.pollIntervalMs),
      };
      this.db
        .prepare(
          `UPDATE services SET repo_kind = @repo_kind, repo_location = @repo_location,
            webhook_secret = @webhook_secret, poll_interval_ms = @poll_interval_ms,
            default_branch = @default_branch WHERE name = @name`,
        )
        .run({
          name,
          ...repositoryColumns(next.repository),
          webhook_secret: next.webhookSecret ?? null,
          poll_interval_ms: next.pollIntervalMs ?? null,
          default_branch: next.defaultBranch,
        });
      return this.get(name);
    });
    return change.immediate();
  }

  /**
   * Throws NotFoundError. Deletes the service's runs, stages and events with it
   * (ON DELETE CASCADE): a service's history goes with the service.
   */
  delete(name: string): void {
    const result = this.db.prepare<[string]>('DELETE FROM services WHERE name = ?').run(name);
    if (result.changes === 0) throw new NotFoundError(`service ${name} not found`);
  }
}

function repositoryColumns(
  repository: ServiceRepositoryLocation,
): Pick<ServiceRow, 'repo_kind' | 'repo_location'> {
  return repository.kind === 'hosted'
    ? { repo_kind: 'hosted', repo_location: repository.path }
    : { repo_kind: 'external', repo_location: repository.url };
}

function toService(row: ServiceRow): Service {
  const repository: ServiceRepositoryLocation =
    row.repo_kind === 'hosted'
      ? { kind: 'hosted', path: row.repo_location }
      : { kind: 'external', url: row.repo_location };
  return {
    name: row.name,
    repository,
    webhookSecret: optional(row.webhook_secret),
    pollIntervalMs: optional(row.poll_interval_ms),
    defaultBranch: row.default_branch,
    createdAt: isoTime(row.created_at),
  };
}
