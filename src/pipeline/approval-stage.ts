import type { ApprovalGates } from '../approval/approval-gates.js';
import type { Approval } from '../approval/approval.js';
import type { ApprovalRepository } from '../store/approval-repository.js';
import type { Run, Stage } from './run.js';
import type { StageContext, StageResult, StageRunner } from './stage-runner.js';

const APPROVAL_STAGE_PREFIX = 'approve:';

/** `approve:prod`: the gate before an environment's deploy stage. */
export function approvalStageName(environment: string): string {
  return `${APPROVAL_STAGE_PREFIX}${environment}`;
}

export function environmentOfApprovalStage(stage: Pick<Stage, 'name'>): string | undefined {
  return stage.name.startsWith(APPROVAL_STAGE_PREFIX)
    ? stage.name.slice(APPROVAL_STAGE_PREFIX.length)
    : undefined;
}

/**
 * An approval gate as a stage (CodePipeline's manual approval action): it opens the gate
 * (the same one again after a restart), says who may approve and until when, and waits until
 * approvers decide or the time passes. Granted: the run goes on to deploy. Rejected or
 * expired: the stage fails with who decided and why. A cancelled run cancels its gate.
 */
export class ApprovalStageRunner implements StageRunner {
  constructor(
    private readonly o: {
      approvals: ApprovalRepository;
      gates: ApprovalGates;
      /** Told when a gate opens and when it is decided (notifications). */
      onGate?: (approval: Approval, run: Run) => void;
    },
  ) {}

  async run(context: StageContext): Promise<StageResult> {
    const environment = environmentOfApprovalStage(context.stage);
    const config = context.config.environments.find((e) => e.name === environment)?.approval;
    if (environment === undefined || config === undefined) {
      return {
        status: 'failed',
        reason: `phoenix.yml has no approval for ${environment ?? context.stage.name}`,
        platformFailure: true,
      };
    }
    const { run } = context;
    const gate = this.o.approvals.open({
      runId: run.id,
      stageIndex: context.stage.index,
      service: run.service,
      environment,
      config,
      requester: run.trigger.actor,
      // After a restart the gate (and any decision on it) carries on; a retry asks again.
      fresh: context.interrupted === undefined,
    });
    await context.started({ externalId: gate.id });
    this.log(context, describeGate(gate));
    if (gate.votes.length === 0 && gate.status === 'waiting') this.o.onGate?.(gate, run);
    let decided: Approval;
    try {
      decided = await this.o.gates.decided(gate.id, context.signal);
    } catch {
      const cancelled = this.o.approvals.close(gate.id, 'cancelled', 'the run was cancelled');
      return {
        status: 'cancelled',
        reason: cancelled.reason ?? 'cancelled',
        output: outputOf(cancelled),
      };
    }
    this.o.onGate?.(decided, run);
    for (const vote of decided.votes) {
      const comment = vote.comment === undefined ? '' : `: ${vote.comment}`;
      this.log(
        context,
        `${vote.actor} ${vote.decision === 'approve' ? 'approved' : 'rejected'}${comment}`,
        Date.parse(vote.at),
      );
    }
    const reason = decided.reason ?? decided.status;
    return decided.status === 'granted'
      ? { status: 'succeeded', reason, output: outputOf(decided) }
      : { status: 'failed', reason, output: outputOf(decided) };
  }

  private log(context: StageContext, text: string, time = Date.now()): void {
    context.log({ time, stream: 'system', text });
  }
}

function describeGate(gate: Approval): string {
  const who = gate.approvers.join(', ');
  const review = gate.reviewUrl === undefined ? '' : `; review: ${gate.reviewUrl}`;
  const message = gate.message === undefined ? '' : ` — ${gate.message}`;
  return `Waiting for ${gate.required} approval${gate.required === 1 ? '' : 's'} to deploy to ${gate.environment} (${who}) until ${gate.expiresAt}${review}${message}: phoenix approve ${gate.service} --env ${gate.environment}`;
}

function outputOf(approval: Approval): Record<string, unknown> {
  return {
    approvalId: approval.id,
    status: approval.status,
    votes: approval.votes,
    ...(approval.decidedAt === undefined ? {} : { decidedAt: approval.decidedAt }),
  };
}
