/**
 * The store's schema, as an ordered list of migrations. Each is applied once, in order,
 * inside the transaction that opens the database, and recorded in `schema_migrations`.
 * Never edit a released migration: add a new one with the next version.
 *
 * Times are INTEGER milliseconds since the epoch (UTC); JSON columns are TEXT and are
 * validated when read.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const INITIAL_SCHEMA = `
CREATE TABLE services (
  name TEXT PRIMARY KEY,
  repo_kind TEXT NOT NULL CHECK (repo_kind IN ('hosted', 'external')),
  repo_location TEXT NOT NULL,
  webhook_secret TEXT,
  poll_interval_ms INTEGER CHECK (poll_interval_ms IS NULL OR poll_interval_ms > 0),
  default_branch TEXT NOT NULL,
  -- The highest run number handed out; never goes down, so numbers are never reused.
  last_run_number INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE runs (
  -- Creation order and the list cursor; AUTOINCREMENT so a value is never reused.
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  service TEXT NOT NULL REFERENCES services (name) ON DELETE CASCADE,
  number INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN
    ('queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled', 'superseded')),
  commit_sha TEXT NOT NULL,
  ref TEXT NOT NULL,
  trigger_json TEXT NOT NULL,
  reason TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  UNIQUE (service, number)
) STRICT;
CREATE INDEX runs_by_service ON runs (service, seq);
CREATE INDEX runs_by_status ON runs (status, seq);

CREATE TABLE stages (
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  idx INTEGER NOT NULL CHECK (idx >= 0),
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('source', 'build', 'deploy', 'approval')),
  status TEXT NOT NULL CHECK (status IN
    ('pending', 'running', 'succeeded', 'failed', 'cancelled', 'skipped')),
  attempt INTEGER NOT NULL DEFAULT 0,
  started_at INTEGER,
  finished_at INTEGER,
  reason TEXT,
  platform_failure INTEGER CHECK (platform_failure IN (0, 1)),
  log_path TEXT,
  external_id TEXT,
  output_json TEXT,
  PRIMARY KEY (run_id, idx)
) STRICT, WITHOUT ROWID;

CREATE TABLE run_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  time INTEGER NOT NULL,
  type TEXT NOT NULL,
  data_json TEXT NOT NULL
) STRICT;
CREATE INDEX run_events_by_run ON run_events (run_id, id);
-- Events are history: append-only. (Rows still go when their run is deleted.)
CREATE TRIGGER run_events_append_only BEFORE UPDATE ON run_events
BEGIN
  SELECT RAISE(ABORT, 'run_events is append-only');
END;

CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin', 'developer', 'viewer', 'approver')),
  -- sha256 hex of the token; the token itself is never stored.
  hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER
) STRICT;
`;

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'services, runs, stages, run events, api tokens', sql: INITIAL_SCHEMA },
];

/** The newest schema version this code knows. */
export const LATEST_SCHEMA_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));
