import type { Clock } from '../shared/clock.js';
import { ConflictError, NotPermittedError } from '../shared/errors.js';
import type { ApprovalRepository } from '../store/approval-repository.js';
import { isDecided } from '../store/approval-repository.js';
import { refusalOf, type Approval, type Approver } from './approval.js';

export interface ApprovalDecision {
  service: string;
  environment: string;
  approver: Approver;
  comment?: string;
}

/**
 * People's decisions on approval gates, and the waiting for them: `approve` and `reject`
 * check who decides (approvers, self-approval) before recording anything, and wake the run
 * waiting at the gate; `decided` resolves when a gate is decided or its time passes.
 */
export class ApprovalGates {
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(private readonly o: { approvals: ApprovalRepository; clock: Clock }) {}

  waiting(service?: string): Approval[] {
    return this.o.approvals.waiting(service);
  }

  approve(decision: ApprovalDecision): Approval {
    return this.vote(decision, 'approve');
  }

  reject(decision: ApprovalDecision): Approval {
    return this.vote(decision, 'reject');
  }

  /**
   * Resolves with the gate once decided: by votes, or expired when its time passes (by the
   * clock). Rejects when `signal` aborts first (the run was cancelled or the server stops).
   */
  decided(id: string, signal: AbortSignal): Promise<Approval> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        let approval = this.o.approvals.get(id);
        if (!isDecided(approval) && this.o.clock.now() >= Date.parse(approval.expiresAt)) {
          approval = this.o.approvals.close(id, 'expired');
        }
        if (!isDecided(approval)) return false;
        cleanup();
        resolve(approval);
        return true;
      };
      const waiting = this.waiters.get(id) ?? new Set();
      this.waiters.set(id, waiting);
      const wake = (): void => {
        check();
      };
      const onAbort = (): void => {
        cleanup();
        reject(signal.reason ?? new Error('aborted'));
      };
      const expiresIn = Date.parse(this.o.approvals.get(id).expiresAt) - this.o.clock.now();
      const timer = this.o.clock.setTimeout(wake, Math.max(0, expiresIn));
      const cleanup = (): void => {
        waiting.delete(wake);
        this.o.clock.clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      if (signal.aborted) return onAbort();
      waiting.add(wake);
      signal.addEventListener('abort', onAbort, { once: true });
      check();
    });
  }

  private vote(decision: ApprovalDecision, kind: 'approve' | 'reject'): Approval {
    const { service, environment, approver } = decision;
    const gate = this.o.approvals.waitingFor(service, environment);
    if (gate === undefined) {
      throw new ConflictError(`no approval waits for ${service} ${environment}`);
    }
    const refusal = refusalOf(gate, approver);
    if (refusal !== undefined) throw new NotPermittedError(refusal);
    const approval = this.o.approvals.vote(gate.id, {
      actor: approver.name,
      decision: kind,
      ...(decision.comment === undefined ? {} : { comment: decision.comment }),
    });
    for (const wake of this.waiters.get(gate.id) ?? []) wake();
    return approval;
  }
}
