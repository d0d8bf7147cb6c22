import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { PlatformError } from '../shared/errors.js';
import { MIGRATIONS, type Migration } from './migrations.js';

export type { Database } from 'better-sqlite3';

/** How long a writer waits for another connection's write lock before failing with SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;

/** The database was written by a newer Phoenix; opening it with this one could corrupt it. */
export class SchemaVersionError extends PlatformError {
  constructor(
    readonly path: string,
    readonly found: number,
    readonly known: number,
  ) {
    super(
      `${path}: schema version ${found} is newer than this Phoenix supports (${known}); ` +
        'upgrade Phoenix, or restore a backup made by this version',
    );
  }
}

export interface OpenDatabaseOptions {
  /** Defaults to the real schema; tests pass their own lists. */
  migrations?: readonly Migration[];
  /** Stamps `schema_migrations.applied_at`. */
  now?: () => number;
}

/**
 * Opens (creating if needed) the SQLite database at `path` and brings its schema up to date.
 *
 * Durability: WAL with `synchronous = NORMAL`. Every committed transaction is in the WAL
 * file before the commit returns, so a crash of the process (kill -9, OOM, panic) loses
 * nothing committed — the promise Phoenix makes. The WAL is only fsynced at checkpoints,
 * so a power loss or kernel crash may roll back the last few transactions (never corrupt
 * the file). `FULL` would fsync every commit and cost a disk flush per state change.
 */
export function openDatabase(path: string, options: OpenDatabaseOptions = {}): Database {
  const inMemory = path === ':memory:' || path === '';
  if (!inMemory) mkdirSync(dirname(path), { recursive: true });
  const db = new BetterSqlite3(path, { timeout: BUSY_TIMEOUT_MS });
  try {
    configure(db, path, inMemory);
    migrate(db, path, options.migrations ?? MIGRATIONS, options.now ?? Date.now);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function configure(db: Database, path: string, inMemory: boolean): void {
  const mode: unknown = db.pragma('journal_mode = WAL', { simple: true });
  if (!inMemory && mode !== 'wal') {
    throw new PlatformError(`${path}: cannot use WAL journal mode (got ${String(mode)})`);
  }
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
}

/** The highest applied migration, or 0 for a new database. */
export function schemaVersion(db: Database): number {
  const row = db
    .prepare<[], { version: number | null }>(
      'SELECT MAX(version) AS version FROM schema_migrations',
    )
    .get();
  return row?.version ?? 0;
}

function migrate(
  db: Database,
  path: string,
  migrations: readonly Migration[],
  now: () => number,
): void {
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  const known = ordered.at(-1)?.version ?? 0;
  const apply = db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at INTEGER NOT NULL
    ) STRICT`);
    const current = schemaVersion(db);
    if (current > known) throw new SchemaVersionError(path, current, known);
    const record = db.prepare<[number, string, number]>(
      'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
    );
    for (const migration of ordered) {
      if (migration.version <= current) continue;
      db.exec(migration.sql);
      record.run(migration.version, migration.name, now());
    }
  });
  // IMMEDIATE: two processes opening a new database at once must not both migrate it.
  apply.immediate();
}
