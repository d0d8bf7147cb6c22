import {
  ALL_SERVICES,
  describeSecret,
  type SealedValue,
  type SecretAddress,
  type SecretRecord,
  type SecretScope,
} from '../secrets/secret.js';
import { NotFoundError, PlatformError } from '../shared/errors.js';
import { isoTime } from './columns.js';
import type { Database } from './database.js';

interface SecretRow {
  name: string;
  scope: string;
  environment: string | null;
  created_at: number;
  updated_at: number;
  updated_by: string;
}

interface SealedRow extends SecretRow {
  ciphertext: Buffer;
  iv: Buffer;
  tag: Buffer;
}

export interface StoredSecret {
  record: SecretRecord;
  sealed: SealedValue;
}

const COLUMNS = 'name, scope, environment, created_at, updated_at, updated_by';
const SEALED_COLUMNS = `${COLUMNS}, ciphertext, iv, tag`;
/** `environment IS ?` matches NULL to NULL, as the unique index does. */
const AT_ADDRESS = 'name = ? AND scope = ? AND environment IS ?';

/**
 * Secrets as sealed blobs: this repository never sees a value, only what SecretStore
 * encrypted. Rows are addressed by (name, scope, environment), environment NULL meaning
 * every environment of the scope.
 */
export class SecretRepository {
  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Creates or replaces the secret at `address` (created_at kept on replace). Throws
   * NotFoundError for a scope naming no service. IMMEDIATE, so that two writers of one
   * address agree on which of them created it.
   */
  put(
    address: SecretAddress,
    sealed: SealedValue,
    actor: string,
  ): { record: SecretRecord; created: boolean } {
    const put = this.db.transaction(() => {
      if (address.scope !== ALL_SERVICES) this.requireService(address.scope);
      const now = this.now();
      const updated = this.db
        .prepare<[Buffer, Buffer, Buffer, number, string, ...Address], SecretRow>(
          `UPDATE secrets SET ciphertext = ?, iv = ?, tag = ?, updated_at = ?, updated_by = ?
           WHERE ${AT_ADDRESS} RETURNING ${COLUMNS}`,
        )
        .get(sealed.ciphertext, sealed.iv, sealed.tag, now, actor, ...key(address));
      if (updated !== undefined) return { record: toRecord(updated), created: false };
      const inserted = this.db
        .prepare<[...Address, number, number, string, Buffer, Buffer, Buffer], SecretRow>(
          `INSERT INTO secrets (${SEALED_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           RETURNING ${COLUMNS}`,
        )
        .get(...key(address), now, now, actor, sealed.ciphertext, sealed.iv, sealed.tag);
      if (inserted === undefined) throw new PlatformError('INSERT ... RETURNING returned no row');
      return { record: toRecord(inserted), created: true };
    });
    return put.immediate();
  }

  get(address: SecretAddress): StoredSecret | undefined {
    const row = this.db
      .prepare<Address, SealedRow>(`SELECT ${SEALED_COLUMNS} FROM secrets WHERE ${AT_ADDRESS}`)
      .get(...key(address));
    return row === undefined ? undefined : toStored(row);
  }

  /** Every secret of `name` in the given scopes, any environment: the candidates of a lookup. */
  candidates(name: string, scopes: readonly SecretScope[]): StoredSecret[] {
    if (scopes.length === 0) return [];
    const marks = scopes.map(() => '?').join(', ');
    return this.db
      .prepare<string[], SealedRow>(
        `SELECT ${SEALED_COLUMNS} FROM secrets WHERE name = ? AND scope IN (${marks})`,
      )
      .all(name, ...scopes)
      .map(toStored);
  }

  /** By name, then every service before one service, then every environment before one. */
  list(filter: { scopes?: readonly SecretScope[] } = {}): SecretRecord[] {
    const scopes = filter.scopes ?? [];
    const where =
      filter.scopes === undefined ? '' : `WHERE scope IN (${scopes.map(() => '?').join(', ')})`;
    return this.db
      .prepare<string[], SecretRow>(
        `SELECT ${COLUMNS} FROM secrets ${where}
         ORDER BY name, scope <> '${ALL_SERVICES}', scope, environment IS NOT NULL, environment`,
      )
      .all(...scopes)
      .map(toRecord);
  }

  /** The oldest secret, or undefined when there is none: enough to check that a key fits. */
  first(): StoredSecret | undefined {
    const row = this.db
      .prepare<[], SealedRow>(`SELECT ${SEALED_COLUMNS} FROM secrets ORDER BY rowid LIMIT 1`)
      .get();
    return row === undefined ? undefined : toStored(row);
  }

  /** The removed secret's record. Throws NotFoundError when there is none at `address`. */
  remove(address: SecretAddress): SecretRecord {
    const row = this.db
      .prepare<Address, SecretRow>(`DELETE FROM secrets WHERE ${AT_ADDRESS} RETURNING ${COLUMNS}`)
      .get(...key(address));
    if (row === undefined) throw new NotFoundError(`secret ${describeSecret(address)} not found`);
    return toRecord(row);
  }

  private requireService(name: string): void {
    const found = this.db
      .prepare<[string], { found: number }>('SELECT 1 AS found FROM services WHERE name = ?')
      .get(name);
    if (found === undefined) throw new NotFoundError(`service ${name} not found`);
  }
}

type Address = [name: string, scope: string, environment: string | null];

function key(address: SecretAddress): Address {
  return [address.name, address.scope, address.environment ?? null];
}

function toRecord(row: SecretRow): SecretRecord {
  return {
    name: row.name,
    scope: row.scope,
    ...(row.environment === null ? {} : { environment: row.environment }),
    createdAt: isoTime(row.created_at),
    updatedAt: isoTime(row.updated_at),
    updatedBy: row.updated_by,
  };
}

function toStored(row: SealedRow): StoredSecret {
  return {
    record: toRecord(row),
    sealed: { ciphertext: row.ciphertext, iv: row.iv, tag: row.tag },
  };
}
