import { environmentOfApprovalStage } from '../pipeline/approval-stage.js';
import { environmentOfStage } from '../pipeline/deploy-stage.js';
import type { RunEvent } from '../pipeline/run-events.js';
import type { Run } from '../pipeline/run.js';
import type { Approval } from '../approval/approval.js';
import type { Deployment, DeploymentEvent } from '../deploy/deployment.js';
import type { AlarmDatapoint, AlarmInfo, NotificationEvent } from './notification-event.js';

/** Where events go: ServiceNotifications, by the commit they are about. */
export interface NotificationSink {
  publish(event: NotificationEvent, commit: string | undefined): void;
}

/** Links in messages point at the API's URLs under the server's public URL. */
export type PublicUrl = () => string;

/**
 * Turns the pipeline's run events into notifications: a run started (once per run, as it
 * first runs), succeeded, or failed (with its failed stage and reason).
 */
export function runNotifier(
  sink: NotificationSink,
  publicUrl: PublicUrl,
): (event: RunEvent) => void {
  const started = new Set<string>();
  return (event) => {
    if (event.type !== 'run.status') return;
    const { run, status } = event;
    const base = {
      service: run.service,
      run: { id: run.id, number: run.number, commit: run.commit, ref: run.ref },
      environments: environmentsOf(run),
      actor: run.trigger.actor,
      links: [
        { label: `run ${run.service} #${run.number}`, url: `${publicUrl()}/api/runs/${run.id}` },
      ],
    };
    if (status === 'running' && !started.has(run.id)) {
      started.add(run.id);
      sink.publish({ ...base, type: 'run.started' }, run.commit);
    } else if (status === 'succeeded') {
      sink.publish({ ...base, type: 'run.succeeded' }, run.commit);
    } else if (status === 'failed') {
      const stage = run.stages.find((s) => s.status === 'failed');
      sink.publish(
        {
          ...base,
          type: 'run.failed',
          ...(event.reason === undefined ? {} : { reason: event.reason }),
          ...(stage === undefined ? {} : { stage: stage.name }),
        },
        run.commit,
      );
    }
    if (status === 'succeeded' || status === 'failed' || status === 'cancelled') {
      started.delete(run.id);
    }
  };
}

/**
 * Turns deployment changes into notifications: started, promoted (a person let it go on),
 * succeeded, failed, rolled back (with the alarms and datapoints that tripped it; an abort
 * is a rollback a person asked for).
 */
export function deploymentNotifier(
  sink: NotificationSink,
  publicUrl: PublicUrl,
): (deployment: Deployment) => void {
  const seen = new Map<string, { status: string; events: number }>();
  return (deployment) => {
    const before = seen.get(deployment.id);
    seen.set(deployment.id, { status: deployment.status, events: deployment.timeline.length });
    const commit = deployment.target.commit;
    const base = {
      service: deployment.service,
      environment: deployment.environment,
      deploymentId: deployment.id,
      release: {
        id: deployment.releaseId,
        number: deployment.target.releaseNumber,
        ...(commit === undefined ? {} : { commit }),
      },
      actor: deployment.trigger.actor,
      links: [
        {
          label: `deployment ${deployment.id}`,
          url: `${publicUrl()}/api/deployments/${deployment.id}`,
        },
      ],
    };
    if (before === undefined && deployment.status === 'pending') {
      sink.publish(
        { ...base, type: 'deployment.started', strategy: deployment.strategy.kind },
        commit,
      );
    }
    for (const event of deployment.timeline.slice(before?.events ?? deployment.timeline.length)) {
      if (event.type === 'release.failing') {
        const [alarm] = trippedAlarms([event]);
        if (alarm === undefined) continue;
        const previous = event.data['previousState'];
        sink.publish(
          {
            service: deployment.service,
            environment: deployment.environment,
            type: 'alarm.state-changed',
            alarm,
            previousState:
              previous === 'OK' || previous === 'ALARM' ? previous : 'INSUFFICIENT_DATA',
            deploymentId: deployment.id,
            release: base.release,
            links: base.links,
          },
          commit,
        );
        continue;
      }
      if (event.type !== 'deployment.promoted') continue;
      const actor = typeof event.data['actor'] === 'string' ? event.data['actor'] : undefined;
      sink.publish(
        { ...base, type: 'deployment.promoted', ...(actor === undefined ? {} : { actor }) },
        commit,
      );
    }
    if (before?.status === deployment.status) return;
    const reason = deployment.reason ?? deployment.status;
    switch (deployment.status) {
      case 'succeeded':
        sink.publish({ ...base, type: 'deployment.succeeded' }, commit);
        break;
      case 'failed':
        sink.publish({ ...base, type: 'deployment.failed', reason }, commit);
        break;
      case 'rolled-back':
      case 'aborted': {
        const alarms = trippedAlarms(deployment.timeline);
        const previous = deployment.previousReleaseId;
        sink.publish(
          {
            ...base,
            type: 'deployment.rolled-back',
            reason,
            ...(previous === undefined ? {} : { rolledBackTo: { id: previous } }),
            ...(alarms.length === 0 ? {} : { alarms }),
          },
          commit,
        );
        break;
      }
      default:
        break;
    }
  };
}

/** The environments a run may deploy to, from its stages. */
function environmentsOf(run: Run): string[] {
  const names = run.stages.map((s) => environmentOfStage(s) ?? environmentOfApprovalStage(s));
  return [...new Set(names.filter((name): name is string => name !== undefined))];
}

/** The alarm that failed the release, with its datapoints (release.failing, see release-judge.ts). */
function trippedAlarms(timeline: readonly DeploymentEvent[]): AlarmInfo[] {
  const failing = timeline.find((e) => e.type === 'release.failing');
  const name = failing?.data['alarm'];
  if (failing === undefined || typeof name !== 'string') return [];
  const points = Array.isArray(failing.data['datapoints']) ? failing.data['datapoints'] : [];
  const datapoints = points.flatMap((point: unknown): AlarmDatapoint[] => {
    if (typeof point !== 'object' || point === null) return [];
    const p = point as Record<string, unknown>;
    if (typeof p['start'] !== 'number' || typeof p['end'] !== 'number') return [];
    return [
      {
        start: p['start'],
        end: p['end'],
        ...(typeof p['value'] === 'number' ? { value: p['value'] } : {}),
        ...(typeof p['breaching'] === 'boolean' ? { breaching: p['breaching'] } : {}),
      },
    ];
  });
  return [
    {
      name,
      state: 'ALARM',
      ...(failing.reason === undefined ? {} : { reason: failing.reason }),
      datapoints,
    },
  ];
}

/** A gate opened or decided: approval.waiting, .granted, .rejected or .expired. */
export function approvalNotifier(
  sink: NotificationSink,
  publicUrl: PublicUrl,
): (approval: Approval, run: Run) => void {
  return (approval, run) => {
    const base = {
      service: approval.service,
      environment: approval.environment,
      approvalId: approval.id,
      run: { id: run.id, number: run.number, commit: run.commit, ref: run.ref },
      links: [
        { label: `run ${run.service} #${run.number}`, url: `${publicUrl()}/api/runs/${run.id}` },
        ...(approval.reviewUrl === undefined ? [] : [{ label: 'review', url: approval.reviewUrl }]),
      ],
    };
    const last = approval.votes.at(-1);
    const comment = last?.comment === undefined ? {} : { comment: last.comment };
    const actor = last === undefined ? {} : { actor: last.actor };
    switch (approval.status) {
      case 'waiting':
        sink.publish(
          {
            ...base,
            type: 'approval.waiting',
            expiresAt: approval.expiresAt,
            requiredApprovals: approval.required,
            ...(approval.message === undefined ? {} : { message: approval.message }),
          },
          run.commit,
        );
        return;
      case 'granted':
        sink.publish({ ...base, ...actor, ...comment, type: 'approval.granted' }, run.commit);
        return;
      case 'rejected':
        sink.publish({ ...base, ...actor, ...comment, type: 'approval.rejected' }, run.commit);
        return;
      case 'expired':
        sink.publish({ ...base, type: 'approval.expired' }, run.commit);
        return;
      case 'cancelled':
        return;
    }
  };
}
