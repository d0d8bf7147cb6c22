import {
  FINISHED_APPROVAL_STATUSES,
  type Approval,
  type ApprovalStatus,
  type ApprovalVote,
  type NewApproval,
} from '../approval/approval.js';
import { ConflictError, NotFoundError } from '../shared/errors.js';
import { isoTime, optional } from './columns.js';
import type { Database } from './database.js';
import { newSortableId } from './sortable-id.js';

interface ApprovalRow {
  id: string;
  run_id: string;
  stage_index: number;
  service: string;
  environment: string;
  status: ApprovalStatus;
  approvers_json: string;
  required: number;
  allow_self: number;
  requester: string;
  review_url: string | null;
  message: string | null;
  requested_at: number;
  expires_at: number;
  decided_at: number | null;
  reason: string | null;
}

interface VoteRow {
  actor: string;
  decision: 'approve' | 'reject';
  comment: string | null;
  at: number;
}

const COLUMNS =
  'id, run_id, stage_index, service, environment, status, approvers_json, required, ' +
  'allow_self, requester, review_url, message, requested_at, expires_at, decided_at, reason';

/**
 * Approval gates and their votes. A vote and the decision it makes are written in one
 * IMMEDIATE transaction that re-reads the gate, so two approvers deciding at once are
 * serialised; votes are append-only (the schema refuses UPDATE), one per person.
 */
export class ApprovalRepository {
  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The gate of a run's stage: its newest one when it waits, or when `fresh` is false (the
   * stage's attempt was interrupted by a restart and goes on); otherwise a new waiting gate
   * (the first attempt, or a retry after a rejection or an expiry).
   */
  open(input: NewApproval & { fresh: boolean }): Approval {
    const open = this.db.transaction(() => {
      const existing = this.row(
        'run_id = ? AND stage_index = ? ORDER BY seq DESC LIMIT 1',
        input.runId,
        input.stageIndex,
      );
      if (existing !== undefined && (existing.status === 'waiting' || !input.fresh)) {
        return existing.id;
      }
      const requestedAt = this.now();
      const id = newSortableId('apv_', requestedAt);
      const { config } = input;
      this.db
        .prepare(
          `INSERT INTO approvals (${COLUMNS})
           VALUES (?, ?, ?, ?, ?, 'waiting', ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)`,
        )
        .run(
          id,
          input.runId,
          input.stageIndex,
          input.service,
          input.environment,
          JSON.stringify(config.approvers),
          config.count,
          config.allowSelfApproval ? 1 : 0,
          input.requester,
          config.reviewUrl ?? null,
          config.message ?? null,
          requestedAt,
          requestedAt + config.timeoutMs,
        );
      return id;
    });
    return this.get(open.immediate());
  }

  /** Throws NotFoundError. */
  get(id: string): Approval {
    const row = this.row('id = ?', id);
    if (row === undefined) throw new NotFoundError(`approval ${id} not found`);
    return this.toApproval(row);
  }

  /** Gates waiting for a decision, oldest first (of one service, or of all). */
  waiting(service?: string): Approval[] {
    const rows = this.db
      .prepare<{ service: string | null }, ApprovalRow>(
        `SELECT ${COLUMNS} FROM approvals
         WHERE status = 'waiting' AND (@service IS NULL OR service = @service) ORDER BY seq`,
      )
      .all({ service: service ?? null });
    return rows.map((row) => this.toApproval(row));
  }

  /** The gate waiting before an environment, if any (the oldest when several runs wait). */
  waitingFor(service: string, environment: string): Approval | undefined {
    const row = this.row(
      `status = 'waiting' AND service = ? AND environment = ? ORDER BY seq LIMIT 1`,
      service,
      environment,
    );
    return row === undefined ? undefined : this.toApproval(row);
  }

  /**
   * Records a person's decision and what it decides: one rejection rejects; `required`
   * approvals grant. ConflictError when the gate is decided or the person voted already.
   * An expired gate is marked expired first, and the vote refused.
   */
  vote(id: string, vote: Omit<ApprovalVote, 'at'>): Approval {
    const cast = this.db.transaction(() => {
      const approval = this.get(id);
      const at = this.now();
      if (approval.status === 'waiting' && at >= Date.parse(approval.expiresAt)) {
        // Recorded, then refused below: a throw here would roll the expiry back too.
        this.decide(id, 'expired', at, expiryReason(approval));
        return 'expired';
      }
      if (approval.status !== 'waiting') {
        throw new ConflictError(`approval ${id} is ${approval.status}: it takes no more votes`);
      }
      if (approval.votes.some((v) => v.actor === vote.actor)) {
        throw new ConflictError(`${vote.actor} has decided on approval ${id} already`);
      }
      this.db
        .prepare(
          'INSERT INTO approval_votes (approval_id, actor, decision, comment, at) VALUES (?, ?, ?, ?, ?)',
        )
        .run(id, vote.actor, vote.decision, vote.comment ?? null, at);
      const comment = vote.comment === undefined ? '' : `: ${vote.comment}`;
      if (vote.decision === 'reject') {
        this.decide(id, 'rejected', at, `rejected by ${vote.actor}${comment}`);
        return;
      }
      const approvals = approval.votes.filter((v) => v.decision === 'approve').length + 1;
      if (approvals >= approval.required) {
        const who = [...approval.votes.map((v) => v.actor), vote.actor].join(', ');
        this.decide(id, 'granted', at, `approved by ${who}${comment}`);
      }
      return 'counted';
    });
    if (cast.immediate() === 'expired') {
      throw new ConflictError(`approval ${id} expired at ${this.get(id).expiresAt}`);
    }
    return this.get(id);
  }

  /** Marks a waiting gate expired (its time passed) or cancelled; no-op once decided. */
  close(id: string, status: 'expired' | 'cancelled', reason?: string): Approval {
    const close = this.db.transaction(() => {
      const approval = this.get(id);
      if (approval.status !== 'waiting') return;
      const why = reason ?? (status === 'expired' ? expiryReason(approval) : 'the run stopped');
      this.decide(id, status, this.now(), why);
    });
    close.immediate();
    return this.get(id);
  }

  private decide(id: string, status: ApprovalStatus, at: number, reason: string): void {
    this.db
      .prepare(`UPDATE approvals SET status = ?, decided_at = ?, reason = ? WHERE id = ?`)
      .run(status, at, reason, id);
  }

  private row(where: string, ...params: (string | number)[]): ApprovalRow | undefined {
    return this.db
      .prepare<(string | number)[], ApprovalRow>(`SELECT ${COLUMNS} FROM approvals WHERE ${where}`)
      .get(...params);
  }

  private toApproval(row: ApprovalRow): Approval {
    const votes = this.db
      .prepare<[string], VoteRow>(
        'SELECT actor, decision, comment, at FROM approval_votes WHERE approval_id = ? ORDER BY at, actor',
      )
      .all(row.id)
      .map((v): ApprovalVote => ({
        actor: v.actor,
        decision: v.decision,
        ...(v.comment === null ? {} : { comment: v.comment }),
        at: isoTime(v.at),
      }));
    const decidedAt = isoTime(row.decided_at);
    return {
      id: row.id,
      runId: row.run_id,
      stageIndex: row.stage_index,
      service: row.service,
      environment: row.environment,
      status: row.status,
      approvers: JSON.parse(row.approvers_json) as string[],
      required: row.required,
      allowSelfApproval: row.allow_self === 1,
      requester: row.requester,
      ...(row.review_url === null ? {} : { reviewUrl: row.review_url }),
      ...(row.message === null ? {} : { message: row.message }),
      requestedAt: isoTime(row.requested_at),
      expiresAt: isoTime(row.expires_at),
      ...(decidedAt === undefined ? {} : { decidedAt }),
      ...(optional(row.reason) === undefined ? {} : { reason: row.reason ?? '' }),
      votes,
    };
  }
}

export function isDecided(approval: Approval): boolean {
  return FINISHED_APPROVAL_STATUSES.includes(approval.status);
}

function expiryReason(approval: Approval): string {
  const approvals = approval.votes.filter((v) => v.decision === 'approve').length;
  return `not approved in time: ${approvals} of ${approval.required} approvals by ${approval.expiresAt}`;
}
