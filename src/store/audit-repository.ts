import { isoTime } from './columns.js';
import type { Database } from './database.js';

/** One mutating action: who, what, when, from where, and how it ended. */
export interface AuditEntry {
  id: number;
  time: string;
  /** The token's name; `anonymous` for a refused request without one. */
  actor: string;
  role?: string;
  /** `POST /api/services/:name/deployments`: the route, not the URL with its values. */
  action: string;
  /** The route's parameters (`{ name: 'shop' }`) and, when the action names them, its targets. */
  target: Record<string, string>;
  /** The HTTP status the action ended with. */
  status: number;
  ip?: string;
  requestId?: string;
}

export type NewAuditEntry = Omit<AuditEntry, 'id' | 'time'>;

interface AuditRow {
  id: number;
  time: number;
  actor: string;
  role: string | null;
  action: string;
  target_json: string;
  status: number;
  ip: string | null;
  request_id: string | null;
}

/** The audit log: append-only (the schema refuses UPDATE and DELETE), newest first to read. */
export class AuditRepository {
  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  append(entry: NewAuditEntry): AuditEntry {
    const row = this.db
      .prepare<
        [number, string, string | null, string, string, number, string | null, string | null],
        AuditRow
      >(
        `INSERT INTO audit_log (time, actor, role, action, target_json, status, ip, request_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      )
      .get(
        this.now(),
        entry.actor,
        entry.role ?? null,
        entry.action,
        JSON.stringify(entry.target),
        entry.status,
        entry.ip ?? null,
        entry.requestId ?? null,
      );
    if (row === undefined) throw new Error('audit insert returned no row');
    return toEntry(row);
  }

  /** Newest first; `before` an id, at most `limit`; of one actor when given. */
  list(query: { limit: number; before?: number; actor?: string }): AuditEntry[] {
    return this.db
      .prepare<{ limit: number; before: number | null; actor: string | null }, AuditRow>(
        `SELECT * FROM audit_log
         WHERE (@before IS NULL OR id < @before) AND (@actor IS NULL OR actor = @actor)
         ORDER BY id DESC LIMIT @limit`,
      )
      .all({ limit: query.limit, before: query.before ?? null, actor: query.actor ?? null })
      .map(toEntry);
  }
}

function toEntry(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    time: isoTime(row.time),
    actor: row.actor,
    ...(row.role === null ? {} : { role: row.role }),
    action: row.action,
    target: JSON.parse(row.target_json) as Record<string, string>,
    status: row.status,
    ...(row.ip === null ? {} : { ip: row.ip }),
    ...(row.request_id === null ? {} : { requestId: row.request_id }),
  };
}
