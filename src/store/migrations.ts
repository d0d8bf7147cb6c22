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

/**
 * Releases, and the `release` stage kind. SQLite cannot change a CHECK constraint in place,
 * so `stages` is rebuilt (same columns, same rows) with the new kind allowed.
 */
const RELEASES = `
ALTER TABLE services ADD COLUMN last_release_number INTEGER NOT NULL DEFAULT 0;

CREATE TABLE releases (
  -- Creation order and the list cursor; AUTOINCREMENT so a value is never reused.
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  service TEXT NOT NULL REFERENCES services (name) ON DELETE CASCADE,
  number INTEGER NOT NULL CHECK (number > 0),
  -- One release per run at most. No cascade: a run that produced a release stays as its
  -- provenance (the service's deletion removes both).
  run_id TEXT NOT NULL UNIQUE REFERENCES runs (id),
  commit_sha TEXT NOT NULL,
  artifact_name TEXT NOT NULL,
  artifact_digest TEXT NOT NULL CHECK (artifact_digest GLOB 'sha256:*'),
  -- phoenix.yml's release section as it was at the commit (ReleaseConfig).
  config_json TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (service, number)
) STRICT;
CREATE INDEX releases_by_service ON releases (service, seq);

CREATE TABLE stages_next (
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  idx INTEGER NOT NULL CHECK (idx >= 0),
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('source', 'build', 'release', 'deploy', 'approval')),
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
INSERT INTO stages_next (run_id, idx, name, kind, status, attempt, started_at, finished_at,
  reason, platform_failure, log_path, external_id, output_json)
SELECT run_id, idx, name, kind, status, attempt, started_at, finished_at,
  reason, platform_failure, log_path, external_id, output_json FROM stages;
DROP TABLE stages;
ALTER TABLE stages_next RENAME TO stages;
`;

/**
 * Deployments and their timelines. `step` is the step in flight, written before it starts
 * (write-ahead); a restarted control plane reads it to finish or roll back. The partial
 * unique index allows one unfinished deployment per environment of a service.
 */
const DEPLOYMENTS = `
CREATE TABLE deployments (
  -- Creation order; AUTOINCREMENT so a value is never reused.
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  service TEXT NOT NULL REFERENCES services (name) ON DELETE CASCADE,
  environment TEXT NOT NULL,
  release_id TEXT NOT NULL,
  previous_release_id TEXT,
  strategy_json TEXT NOT NULL,
  plan_json TEXT NOT NULL,
  -- What the deployment needs to finish without phoenix.yml: groups, start, health check.
  target_json TEXT NOT NULL,
  trigger_json TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'starting', 'testing', 'shifting',
    'baking', 'paused', 'draining', 'rolling-back', 'succeeded', 'failed', 'rolled-back',
    'aborted')),
  step INTEGER NOT NULL DEFAULT -1 CHECK (step >= -1),
  step_started_at INTEGER,
  reason TEXT,
  outcome TEXT CHECK (outcome IS NULL OR outcome IN ('failed', 'rolled-back', 'aborted')),
  serving_release_id TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  finished_at INTEGER
) STRICT;
CREATE INDEX deployments_by_environment ON deployments (service, environment, seq);
CREATE UNIQUE INDEX deployments_one_in_flight ON deployments (service, environment)
  WHERE status NOT IN ('succeeded', 'failed', 'rolled-back', 'aborted');

CREATE TABLE deployment_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  deployment_id TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  time INTEGER NOT NULL,
  type TEXT NOT NULL,
  reason TEXT,
  data_json TEXT NOT NULL
) STRICT;
CREATE INDEX deployment_events_by_deployment ON deployment_events (deployment_id, id);
CREATE TRIGGER deployment_events_append_only BEFORE UPDATE ON deployment_events
BEGIN
  SELECT RAISE(ABORT, 'deployment_events is append-only');
END;
`;

const APPROVALS = `
CREATE TABLE approvals (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  stage_index INTEGER NOT NULL,
  service TEXT NOT NULL,
  environment TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('waiting', 'granted', 'rejected', 'expired',
    'cancelled')),
  approvers_json TEXT NOT NULL,
  required INTEGER NOT NULL CHECK (required >= 1),
  allow_self INTEGER NOT NULL CHECK (allow_self IN (0, 1)),
  requester TEXT NOT NULL,
  review_url TEXT,
  message TEXT,
  requested_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  decided_at INTEGER,
  reason TEXT
) STRICT;
CREATE INDEX approvals_waiting ON approvals (status, service, environment);
-- A stage retried after a rejection opens a new gate; at most one waits per run stage.
CREATE INDEX approvals_by_stage ON approvals (run_id, stage_index, seq);
CREATE UNIQUE INDEX approvals_one_waiting ON approvals (run_id, stage_index)
  WHERE status = 'waiting';

CREATE TABLE approval_votes (
  approval_id TEXT NOT NULL REFERENCES approvals (id) ON DELETE CASCADE,
  actor TEXT NOT NULL,
  decision TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
  comment TEXT,
  at INTEGER NOT NULL,
  PRIMARY KEY (approval_id, actor)
) STRICT;
CREATE TRIGGER approval_votes_append_only BEFORE UPDATE ON approval_votes
BEGIN
  SELECT RAISE(ABORT, 'approval_votes is append-only');
END;
`;

/**
 * Secrets, encrypted at rest (src/secrets): AES-256-GCM with the key outside the database,
 * so a copied database file (or a backup) holds no readable value. `scope` is a service
 * name or '*' for every service; `environment` NULL means every environment of the scope.
 * NULLs are distinct in a UNIQUE constraint, hence the expression index. A service's
 * secrets go with it, as its runs do (a trigger: '*' is no service, so no foreign key).
 */
const SECRETS = `
CREATE TABLE secrets (
  name TEXT NOT NULL,
  scope TEXT NOT NULL CHECK (scope <> ''),
  environment TEXT CHECK (environment IS NULL OR environment <> ''),
  ciphertext BLOB NOT NULL,
  iv BLOB NOT NULL CHECK (length(iv) = 12),
  tag BLOB NOT NULL CHECK (length(tag) = 16),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  updated_by TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX secrets_by_address ON secrets (name, scope, ifnull(environment, ''));
CREATE INDEX secrets_by_scope ON secrets (scope, name);
CREATE TRIGGER services_delete_secrets AFTER DELETE ON services
BEGIN
  DELETE FROM secrets WHERE scope = OLD.name;
END;
`;

/** Every mutating action, append-only: neither UPDATE nor DELETE is accepted. */
const AUDIT_LOG = `
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  time INTEGER NOT NULL,
  actor TEXT NOT NULL,
  role TEXT,
  action TEXT NOT NULL,
  target_json TEXT NOT NULL,
  status INTEGER NOT NULL,
  ip TEXT,
  request_id TEXT
) STRICT;
CREATE INDEX audit_log_by_actor ON audit_log (actor, id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
`;

/**
 * Notification deliveries (src/notify), GET /api/notifications' list: bounded by the
 * repository, which drops the oldest finished ones. `event_json` and `config_commit` are
 * what a restarted server needs to send a pending delivery again; they are cleared once it
 * is final. No channel URL or secret is stored: those come from phoenix.yml at each attempt.
 * A service's deliveries go with it, as its runs do (a trigger rather than a foreign key, so
 * that saving a delivery never fails on one).
 */
const NOTIFICATION_DELIVERIES = `
CREATE TABLE notification_deliveries (
  -- Creation order, the list order and the bound; AUTOINCREMENT so a value is never reused.
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  event TEXT NOT NULL,
  service TEXT NOT NULL,
  environment TEXT,
  run_id TEXT,
  deployment_id TEXT,
  approval_id TEXT,
  channel TEXT NOT NULL,
  channel_type TEXT NOT NULL CHECK (channel_type IN ('webhook', 'slack', 'email')),
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts INTEGER NOT NULL CHECK (attempts >= 0),
  last_error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  last_attempt_at INTEGER,
  next_attempt_at INTEGER,
  event_json TEXT CHECK (event_json IS NULL OR status = 'pending'),
  config_commit TEXT CHECK (config_commit IS NULL OR status = 'pending')
) STRICT;
CREATE INDEX notification_deliveries_by_service ON notification_deliveries (service, seq);
CREATE INDEX notification_deliveries_by_status ON notification_deliveries (status, seq);
CREATE TRIGGER services_delete_notification_deliveries AFTER DELETE ON services
BEGIN
  DELETE FROM notification_deliveries WHERE service = OLD.name;
END;
`;

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'services, runs, stages, run events, api tokens', sql: INITIAL_SCHEMA },
  { version: 2, name: 'releases, release stages', sql: RELEASES },
  { version: 3, name: 'deployments, deployment events', sql: DEPLOYMENTS },
  { version: 4, name: 'approvals, approval votes', sql: APPROVALS },
  { version: 5, name: 'secrets', sql: SECRETS },
  { version: 6, name: 'audit log', sql: AUDIT_LOG },
  { version: 7, name: 'notification deliveries', sql: NOTIFICATION_DELIVERIES },
];

/** The newest schema version this code knows. */
export const LATEST_SCHEMA_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));
