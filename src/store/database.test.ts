import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, schemaVersion, SchemaVersionError, type Database } from './database.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, type Migration } from './migrations.js';

let scratch: string;
let path: string;
const open: Database[] = [];

beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'phoenix-db-'));
  path = join(scratch, 'phoenix.db');
});

afterEach(async () => {
  for (const db of open.splice(0)) if (db.open) db.close();
  await rm(scratch, { recursive: true, force: true });
});

function track(db: Database): Database {
  open.push(db);
  return db;
}

const first: Migration = { version: 1, name: 'things', sql: 'CREATE TABLE things (x INTEGER)' };
const second: Migration = { version: 2, name: 'more', sql: 'ALTER TABLE things ADD COLUMN y TEXT' };

function appliedVersions(db: Database): number[] {
  return db
    .prepare<[], { version: number }>('SELECT version FROM schema_migrations ORDER BY version')
    .all()
    .map((row) => row.version);
}

describe('openDatabase', () => {
  it('uses WAL, NORMAL sync, foreign keys and a busy timeout', () => {
    const db = track(openDatabase(path));

    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
  });

  it('creates the full schema and records every migration', () => {
    const db = track(openDatabase(path));

    const tables = db
      .prepare<[], { name: string }>(`SELECT name FROM sqlite_schema WHERE type = 'table'`)
      .all()
      .map((row) => row.name);
    expect(tables).toEqual(
      expect.arrayContaining(['services', 'runs', 'stages', 'run_events', 'api_tokens']),
    );
    expect(appliedVersions(db)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(schemaVersion(db)).toBe(LATEST_SCHEMA_VERSION);
  });

  it('applies each migration once however often it is opened', () => {
    const db = track(openDatabase(path, { migrations: [first] }));
    db.prepare('INSERT INTO things (x) VALUES (42)').run();
    db.close();

    const again = track(openDatabase(path, { migrations: [first] }));
    const third = track(openDatabase(path, { migrations: [first] }));

    expect(appliedVersions(again)).toEqual([1]);
    expect(third.prepare('SELECT x FROM things').pluck().all()).toEqual([42]);
  });

  it('applies only the migrations added since the last open', () => {
    track(openDatabase(path, { migrations: [first] })).close();

    const db = track(openDatabase(path, { migrations: [second, first] }));

    expect(appliedVersions(db)).toEqual([1, 2]);
    db.prepare(`INSERT INTO things (x, y) VALUES (1, 'y')`).run();
  });

  it('refuses a database written by a newer version', () => {
    track(openDatabase(path, { migrations: [first, second] })).close();

    const opening = () => track(openDatabase(path, { migrations: [first] }));

    expect(opening).toThrow(SchemaVersionError);
    expect(opening).toThrow(expect.objectContaining({ found: 2, known: 1, path }));
  });

  it('rolls a failed migration back entirely', () => {
    track(openDatabase(path, { migrations: [first] })).close();
    const broken: Migration = {
      version: 2,
      name: 'broken',
      sql: 'CREATE TABLE half (x INTEGER); SELECT * FROM no_such_table;',
    };

    expect(() => track(openDatabase(path, { migrations: [first, broken] }))).toThrow(
      /no_such_table/,
    );

    const db = track(openDatabase(path, { migrations: [first] }));
    expect(appliedVersions(db)).toEqual([1]);
    expect(db.prepare(`SELECT name FROM sqlite_schema WHERE name = 'half'`).get()).toBeUndefined();
  });

  it('creates missing parent folders', () => {
    const nested = join(scratch, 'a', 'b', 'phoenix.db');

    const db = track(openDatabase(nested));

    expect(schemaVersion(db)).toBe(LATEST_SCHEMA_VERSION);
  });
});
