import type { ApprovalConfig } from '../config/approval-schema.js';

/**
 * An approval gate of one run before one environment (CodePipeline's manual approval):
 * `waiting` until enough approvers approve (`granted`), one rejects (`rejected`), its time
 * passes (`expired`) or the run stops waiting (`cancelled`). Decided ones never change.
 */
export type ApprovalStatus = 'waiting' | 'granted' | 'rejected' | 'expired' | 'cancelled';

export const FINISHED_APPROVAL_STATUSES: readonly ApprovalStatus[] = [
  'granted',
  'rejected',
  'expired',
  'cancelled',
];

export interface ApprovalVote {
  actor: string;
  decision: 'approve' | 'reject';
  comment?: string;
  at: string;
}

export interface Approval {
  id: string;
  runId: string;
  stageIndex: number;
  service: string;
  environment: string;
  status: ApprovalStatus;
  /** Who may approve: token names, `role:approver`, `role:admin`, `role:developer`. */
  approvers: string[];
  /** Approvals needed. */
  required: number;
  allowSelfApproval: boolean;
  /** Whose push (or trigger) started the run. */
  requester: string;
  reviewUrl?: string;
  message?: string;
  requestedAt: string;
  expiresAt: string;
  decidedAt?: string;
  /** Why it was decided as it was, in words. */
  reason?: string;
  votes: ApprovalVote[];
}

export interface NewApproval {
  runId: string;
  stageIndex: number;
  service: string;
  environment: string;
  config: ApprovalConfig;
  requester: string;
}

/** Who asks to decide: a token's name and role. */
export interface Approver {
  name: string;
  role: string;
}

/**
 * Why `approver` may not decide `approval`, or undefined when they may: named among the
 * approvers (by name or by role), and not the requester unless self-approval is allowed.
 */
export function refusalOf(approval: Approval, approver: Approver): string | undefined {
  const listed = approval.approvers.some(
    (entry) => entry === approver.name || entry === `role:${approver.role}`,
  );
  if (!listed) {
    return `${approver.name} (${approver.role}) is not among the approvers of ${approval.service} ${approval.environment}: ${approval.approvers.join(', ')}`;
  }
  if (!approval.allowSelfApproval && approver.name === approval.requester) {
    return `${approver.name} started this run and may not approve their own change (approval.self-approval: false)`;
  }
  return undefined;
}
