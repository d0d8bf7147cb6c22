import type {
  AlarmDatapoint,
  AlarmInfo,
  NotificationEvent,
  NotificationLink,
  ReleaseInfo,
  RunInfo,
} from './notification-event.js';

/**
 * What a person reads about an event, before any channel's markup: a one-line title, the
 * facts as label/value pairs, the reason, alarm detail and links. Slack and email render
 * this; the webhook sends the event itself.
 */
export interface EventMessage {
  title: string;
  tone: 'neutral' | 'good' | 'bad' | 'warning';
  fields: MessageField[];
  /** Why: a failure's reason, an approver's comment, the message for approvers. */
  note?: { label: string; text: string };
  /** Alarm detail, one block per alarm. */
  alarms: AlarmBlock[];
  links: NotificationLink[];
}

export interface MessageField {
  label: string;
  value: string;
}

export interface AlarmBlock {
  heading: string;
  datapoints: string[];
}

/** Datapoints shown per alarm: the most recent ones, which are those judged. */
export const MAX_DATAPOINTS_SHOWN = 10;

export function releaseLabel(release: ReleaseInfo): string {
  return release.number === undefined ? `release ${release.id}` : `release #${release.number}`;
}

function runLabel(run: RunInfo): string {
  return `run #${run.number}`;
}

function titleOf(event: NotificationEvent): string {
  const s = event.service;
  switch (event.type) {
    case 'run.started':
      return `${s} ${runLabel(event.run)} started`;
    case 'run.succeeded':
      return `${s} ${runLabel(event.run)} succeeded`;
    case 'run.failed':
      return `${s} ${runLabel(event.run)} failed${event.stage === undefined ? '' : ` at ${event.stage}`}`;
    case 'approval.waiting':
      return `${s} waits for approval to deploy to ${event.environment}`;
    case 'approval.granted':
      return `${s} deployment to ${event.environment} approved${by(event.actor)}`;
    case 'approval.rejected':
      return `${s} deployment to ${event.environment} rejected${by(event.actor)}`;
    case 'approval.expired':
      return `${s} approval for ${event.environment} expired`;
    case 'deployment.started':
      return `${s} ${releaseLabel(event.release)} deploying to ${event.environment}`;
    case 'deployment.promoted':
      return event.fromEnvironment === undefined
        ? `${s} ${releaseLabel(event.release)} promoted in ${event.environment}`
        : `${s} ${releaseLabel(event.release)} promoted from ${event.fromEnvironment} to ${event.environment}`;
    case 'deployment.succeeded':
      return `${s} ${releaseLabel(event.release)} deployed to ${event.environment}`;
    case 'deployment.failed':
      return `${s} ${releaseLabel(event.release)} failed to deploy to ${event.environment}`;
    case 'deployment.rolled-back':
      return event.rolledBackTo === undefined
        ? `${s} ${releaseLabel(event.release)} rolled back in ${event.environment}`
        : `${s} ${event.environment} rolled back to ${releaseLabel(event.rolledBackTo)}`;
    case 'alarm.state-changed':
      return `${s} alarm ${event.alarm.name} in ${event.environment}: ${event.previousState} to ${event.alarm.state}`;
  }
}

function by(actor: string | undefined): string {
  return actor === undefined ? '' : ` by ${actor}`;
}

const TONES: Record<NotificationEvent['type'], EventMessage['tone']> = {
  'run.started': 'neutral',
  'run.succeeded': 'good',
  'run.failed': 'bad',
  'approval.waiting': 'warning',
  'approval.granted': 'good',
  'approval.rejected': 'bad',
  'approval.expired': 'bad',
  'deployment.started': 'neutral',
  'deployment.promoted': 'neutral',
  'deployment.succeeded': 'good',
  'deployment.failed': 'bad',
  'deployment.rolled-back': 'bad',
  'alarm.state-changed': 'warning',
};

function fieldsOf(event: NotificationEvent): MessageField[] {
  const fields: (MessageField | undefined)[] = [
    { label: 'Service', value: event.service },
    'environment' in event
      ? { label: 'Environment', value: event.environment }
      : optional('Environments', event.environments?.join(', ')),
    'release' in event && event.release !== undefined
      ? { label: 'Release', value: releaseLabel(event.release) }
      : undefined,
    'previousRelease' in event && event.previousRelease !== undefined
      ? { label: 'Previous release', value: releaseLabel(event.previousRelease) }
      : undefined,
    'run' in event && event.run !== undefined
      ? { label: 'Run', value: runLabel(event.run) }
      : undefined,
    optional('Commit', commitOf(event)?.slice(0, 12)),
    optional('Branch', branchOf(event)),
    optional('Deployment', 'deploymentId' in event ? event.deploymentId : undefined),
    optional('Strategy', 'strategy' in event ? event.strategy : undefined),
    optional('Approvals needed', approvalsNeeded(event)),
    optional('Expires', 'expiresAt' in event ? event.expiresAt : undefined),
    optional('By', event.actor),
  ];
  return fields.filter((field) => field !== undefined);
}

function optional(label: string, value: string | undefined): MessageField | undefined {
  return value === undefined || value === '' ? undefined : { label, value };
}

function commitOf(event: NotificationEvent): string | undefined {
  if ('run' in event && event.run?.commit !== undefined) return event.run.commit;
  return 'release' in event ? event.release?.commit : undefined;
}

function branchOf(event: NotificationEvent): string | undefined {
  const ref = 'run' in event ? event.run?.ref : undefined;
  return ref?.replace(/^refs\/(heads|tags)\//, '');
}

function approvalsNeeded(event: NotificationEvent): string | undefined {
  if (event.type !== 'approval.waiting' || event.requiredApprovals === undefined) return undefined;
  return String(event.requiredApprovals);
}

function noteOf(event: NotificationEvent): EventMessage['note'] {
  switch (event.type) {
    case 'run.failed':
    case 'deployment.failed':
    case 'deployment.rolled-back':
      return event.reason === undefined ? undefined : { label: 'Reason', text: event.reason };
    case 'approval.granted':
    case 'approval.rejected':
      return event.comment === undefined ? undefined : { label: 'Comment', text: event.comment };
    case 'approval.waiting':
      return event.message === undefined ? undefined : { label: 'Message', text: event.message };
    case 'alarm.state-changed':
      return event.alarm.reason === undefined
        ? undefined
        : { label: 'Reason', text: event.alarm.reason };
    default:
      return undefined;
  }
}

function alarmsOf(event: NotificationEvent): AlarmInfo[] {
  if (event.type === 'deployment.rolled-back') return event.alarms ?? [];
  if (event.type === 'alarm.state-changed') return [event.alarm];
  return [];
}

export function formatDatapoint(point: AlarmDatapoint): string {
  const time = (ms: number) => new Date(ms).toISOString().slice(11, 19);
  const value =
    point.value === undefined ? 'missing' : String(Math.round(point.value * 1000) / 1000);
  const judged = point.breaching === undefined ? '' : point.breaching ? ' breaching' : ' ok';
  return `${time(point.start)}-${time(point.end)} UTC ${value}${judged}`;
}

function alarmBlock(alarm: AlarmInfo, withReason: boolean): AlarmBlock {
  const reason = withReason && alarm.reason !== undefined ? `: ${alarm.reason}` : '';
  const points = (alarm.datapoints ?? []).slice(-MAX_DATAPOINTS_SHOWN);
  return {
    heading: `${alarm.name} (${alarm.state})${reason}`,
    datapoints: points.map(formatDatapoint),
  };
}

export function describeEvent(event: NotificationEvent): EventMessage {
  const note = noteOf(event);
  // alarm.state-changed shows the alarm's reason as the note already.
  const withReason = event.type !== 'alarm.state-changed';
  return {
    title: titleOf(event),
    tone: TONES[event.type],
    fields: fieldsOf(event),
    ...(note === undefined ? {} : { note }),
    alarms: alarmsOf(event).map((alarm) => alarmBlock(alarm, withReason)),
    links: (event.links ?? []).filter((link) => isWebLink(link.url)),
  };
}

/** Links are given by callers; only http(s) ones are rendered, never `javascript:` and kin. */
function isWebLink(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}
