import { createHash, randomBytes } from 'node:crypto';
import { NotFoundError, ValidationError } from '../shared/errors.js';
import { isoTime } from './columns.js';
import type { Database } from './database.js';

export type TokenRole = 'admin' | 'developer' | 'viewer' | 'approver';

/** A token as Phoenix knows it: never the token itself, which is only handed out once. */
export interface TokenRecord {
  id: string;
  name: string;
  role: TokenRole;
  createdAt: string;
  lastUsedAt?: string;
  revokedAt?: string;
}

export interface CreatedToken {
  /** The plaintext token: shown to its owner once, stored only as a hash. */
  token: string;
  record: TokenRecord;
}

export interface EnsuredAdmin extends CreatedToken {
  /** `env`: the operator chose it, so there is nothing to print; `generated`: print it once. */
  source: 'env' | 'generated';
}

/** `lastUsedAt` is only this precise, so that verifying is not a write per request. */
export const LAST_USED_RESOLUTION_MS = 60_000;
export const MIN_ADMIN_TOKEN_LENGTH = 20;
export const ADMIN_TOKEN_ENV = 'PHOENIX_ADMIN_TOKEN';
const TOKEN_PREFIX = 'phx_';
const TOKEN_BYTES = 32;

interface TokenRow {
  id: string;
  name: string;
  role: TokenRole;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

const COLUMNS = 'id, name, role, created_at, last_used_at, revoked_at';

/**
 * API tokens, stored as sha256 hashes. Lookup by hash is safe against timing attacks:
 * learning a prefix of a hash says nothing about a token. (A slow hash is unnecessary for
 * 256 random bits, and verifying happens on every request.)
 */
export class TokenRepository {
  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  create(input: { name: string; role: TokenRole }): CreatedToken {
    const token = TOKEN_PREFIX + randomBytes(TOKEN_BYTES).toString('base64url');
    return { token, record: this.insert(input.name, input.role, token) };
  }

  /** The token's record, or undefined when it is unknown or revoked. */
  verify(token: string): TokenRecord | undefined {
    const row = this.db
      .prepare<[string], TokenRow>(`SELECT ${COLUMNS} FROM api_tokens WHERE hash = ?`)
      .get(hashToken(token));
    if (row === undefined || row.revoked_at !== null) return undefined;
    const now = this.now();
    if (row.last_used_at === null || now - row.last_used_at >= LAST_USED_RESOLUTION_MS) {
      this.db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?').run(now, row.id);
      return toRecord({ ...row, last_used_at: now });
    }
    return toRecord(row);
  }

  /** Oldest first, revoked ones included. */
  list(): TokenRecord[] {
    return this.db
      .prepare<[], TokenRow>(`SELECT ${COLUMNS} FROM api_tokens ORDER BY rowid`)
      .all()
      .map(toRecord);
  }

  /** Idempotent: revoking a revoked token keeps its first revocation time. Throws NotFoundError. */
  revoke(id: string): TokenRecord {
    const row = this.db
      .prepare<[number, string], TokenRow>(
        `UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?
         RETURNING ${COLUMNS}`,
      )
      .get(this.now(), id);
    if (row === undefined) throw new NotFoundError(`token ${id} not found`);
    return toRecord(row);
  }

  /** Tokens that still work (not revoked). */
  count(): number {
    const row = this.db
      .prepare<[], { count: number }>(
        'SELECT COUNT(*) AS count FROM api_tokens WHERE revoked_at IS NULL',
      )
      .get();
    return row?.count ?? 0;
  }

  /**
   * At first start (no token was ever created, revoked ones included), creates the first
   * admin token: `fromEnv` (PHOENIX_ADMIN_TOKEN) when given, for automation, else a random
   * one. Returns it once; undefined when tokens already exist. Throws ValidationError for
   * an env token shorter than MIN_ADMIN_TOKEN_LENGTH or containing whitespace.
   */
  ensureAdmin(fromEnv?: string): EnsuredAdmin | undefined {
    if (fromEnv !== undefined) validateEnvToken(fromEnv);
    const ensure = this.db.transaction((): EnsuredAdmin | undefined => {
      const any = this.db
        .prepare<[], { found: number }>('SELECT 1 AS found FROM api_tokens LIMIT 1')
        .get();
      if (any !== undefined) return undefined;
      if (fromEnv === undefined)
        return { ...this.create({ name: 'admin', role: 'admin' }), source: 'generated' };
      return { token: fromEnv, record: this.insert('admin', 'admin', fromEnv), source: 'env' };
    });
    // IMMEDIATE: two servers starting on one database create one admin, not two.
    return ensure.immediate();
  }

  private insert(name: string, role: TokenRole, token: string): TokenRecord {
    const row: TokenRow = {
      id: `tok_${randomBytes(8).toString('hex')}`,
      name,
      role,
      created_at: this.now(),
      last_used_at: null,
      revoked_at: null,
    };
    this.db
      .prepare('INSERT INTO api_tokens (id, name, role, hash, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(row.id, name, role, hashToken(token), row.created_at);
    return toRecord(row);
  }
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function validateEnvToken(token: string): void {
  const problem =
    token.length < MIN_ADMIN_TOKEN_LENGTH
      ? `must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters long`
      : /\s/.test(token)
        ? 'must not contain whitespace'
        : undefined;
  if (problem === undefined) return;
  throw new ValidationError([
    {
      location: { file: 'environment', line: 1, column: 1 },
      key: ADMIN_TOKEN_ENV,
      message: problem,
    },
  ]);
}

function toRecord(row: TokenRow): TokenRecord {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    createdAt: isoTime(row.created_at),
    lastUsedAt: isoTime(row.last_used_at),
    revokedAt: isoTime(row.revoked_at),
  };
}
