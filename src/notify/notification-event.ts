/**
 * What Phoenix tells people about: a discriminated union on `type`, each event carrying
 * everything a message needs, so that channels render it without reading a store. Callers
 * (pipeline, deploy, approvals) fill in what they know; links are passed through as given.
 * Events must be plain JSON data: the webhook channel sends them as they are.
 */

export const NOTIFICATION_EVENT_TYPES = [
  'run.started',
  'run.succeeded',
  'run.failed',
  'approval.waiting',
  'approval.granted',
  'approval.rejected',
  'approval.expired',
  'deployment.started',
  'deployment.promoted',
  'deployment.succeeded',
  'deployment.failed',
  'deployment.rolled-back',
  'alarm.state-changed',
] as const;

export type NotificationEventType = (typeof NOTIFICATION_EVENT_TYPES)[number];

/** A link shown with the message (run page, deployment page, review URL, commit). */
export interface NotificationLink {
  label: string;
  url: string;
}

export interface RunInfo {
  id: string;
  /** 1, 2, 3... per service. */
  number: number;
  commit?: string;
  /** `refs/heads/main`. */
  ref?: string;
}

export interface ReleaseInfo {
  id: string;
  number?: number;
  commit?: string;
}

/** One alarm period as judged; times are epoch milliseconds, `end` exclusive. */
export interface AlarmDatapoint {
  start: number;
  end: number;
  /** Undefined when the period had no data. */
  value?: number;
  breaching?: boolean;
}

export type AlarmStateName = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface AlarmInfo {
  name: string;
  state: AlarmStateName;
  /** CloudWatch-style explanation: "3 of 3 datapoints > 5". */
  reason?: string;
  /** The datapoints judged, oldest first. */
  datapoints?: AlarmDatapoint[];
}

interface EventBase {
  service: string;
  /** Who caused it: a pusher, an approver, `phoenix` for automatic actions. */
  actor?: string;
  links?: NotificationLink[];
  /** ISO 8601; the notifier fills it in at publish time when absent. */
  occurredAt?: string;
}

interface RunEventBase extends EventBase {
  run: RunInfo;
  /**
   * The environments this run may deploy to (the branch's mapping). A run event passes a
   * channel's `environments` filter only when one of these matches it.
   */
  environments?: string[];
}

interface ApprovalEventBase extends EventBase {
  environment: string;
  approvalId: string;
  run?: RunInfo;
  release?: ReleaseInfo;
}

interface DeploymentEventBase extends EventBase {
  environment: string;
  deploymentId: string;
  release: ReleaseInfo;
  run?: RunInfo;
}

export type RunStartedEvent = RunEventBase & { type: 'run.started' };
export type RunSucceededEvent = RunEventBase & { type: 'run.succeeded' };
export type RunFailedEvent = RunEventBase & {
  type: 'run.failed';
  reason?: string;
  /** The stage that failed: `build`, `deploy-prod`. */
  stage?: string;
};

export type ApprovalWaitingEvent = ApprovalEventBase & {
  type: 'approval.waiting';
  /** For approvers, from the environment's approval settings. */
  message?: string;
  /** ISO 8601: when the gate fails unless approved. */
  expiresAt?: string;
  requiredApprovals?: number;
};
export type ApprovalGrantedEvent = ApprovalEventBase & {
  type: 'approval.granted';
  comment?: string;
};
export type ApprovalRejectedEvent = ApprovalEventBase & {
  type: 'approval.rejected';
  comment?: string;
};
export type ApprovalExpiredEvent = ApprovalEventBase & { type: 'approval.expired' };

export type DeploymentStartedEvent = DeploymentEventBase & {
  type: 'deployment.started';
  strategy?: string;
  previousRelease?: ReleaseInfo;
};
/** A release promoted: moved to full traffic by a person, or on from an earlier environment. */
export type DeploymentPromotedEvent = DeploymentEventBase & {
  type: 'deployment.promoted';
  fromEnvironment?: string;
};
export type DeploymentSucceededEvent = DeploymentEventBase & { type: 'deployment.succeeded' };
export type DeploymentFailedEvent = DeploymentEventBase & {
  type: 'deployment.failed';
  reason: string;
};
export type DeploymentRolledBackEvent = DeploymentEventBase & {
  type: 'deployment.rolled-back';
  reason: string;
  /** The release serving again, if any. */
  rolledBackTo?: ReleaseInfo;
  /** The alarms that tripped, with the datapoints that tripped them. */
  alarms?: AlarmInfo[];
};

export type AlarmStateChangedEvent = EventBase & {
  type: 'alarm.state-changed';
  environment: string;
  alarm: AlarmInfo;
  previousState: AlarmStateName;
  deploymentId?: string;
  release?: ReleaseInfo;
};

export type NotificationEvent =
  | RunStartedEvent
  | RunSucceededEvent
  | RunFailedEvent
  | ApprovalWaitingEvent
  | ApprovalGrantedEvent
  | ApprovalRejectedEvent
  | ApprovalExpiredEvent
  | DeploymentStartedEvent
  | DeploymentPromotedEvent
  | DeploymentSucceededEvent
  | DeploymentFailedEvent
  | DeploymentRolledBackEvent
  | AlarmStateChangedEvent;

/** The environments an event concerns: one for most, the run's targets for run events. */
export function environmentsOf(event: NotificationEvent): readonly string[] {
  if ('environment' in event) return [event.environment];
  return event.environments ?? [];
}
