import { formatDuration } from '../shared/durations.js';
import type { DeploymentEvent } from './deployment.js';

/**
 * One timeline event in words, for a run's log and `phoenix status`: what happened and, when
 * it says, why (`— reason`). Events recorded with a change of status lead with the new one.
 * Reads the event's data defensively: it is JSON from the store, typed by the event's type.
 */
export function describeDeploymentEvent(event: DeploymentEvent): string {
  const to = text(event.data['to']);
  const what = describeWhat(event);
  const head = to === undefined || what === to ? what : `${to}: ${what}`;
  return event.reason === undefined ? head : `${head} — ${event.reason}`;
}

function describeWhat(event: DeploymentEvent): string {
  const data = event.data;
  switch (event.type) {
    case 'deployment.created': {
      const strategy = record(data['strategy']);
      const previous = text(data['previousReleaseId']);
      return `release ${text(data['releaseId']) ?? '?'}${previous === undefined ? '' : ` to replace ${previous}`}, ${text(strategy['kind']) ?? 'all-at-once'}`;
    }
    case 'step.started':
      return text(data['step']) ?? text(data['kind']) ?? 'step';
    case 'instances.started': {
      const instances = list(data['instances']).map(record);
      const ports = instances.map((instance) => number(instance['port'])).join(', ');
      return `${plural(instances.length, 'instance')} of ${text(data['group']) ?? '?'} started (ports ${ports})`;
    }
    case 'instances.healthy':
      return `${text(data['group']) ?? '?'} healthy (${plural(number(data['targets']), 'target')})`;
    case 'hook.started':
      return `hook ${text(data['event']) ?? '?'} started`;
    case 'hook.finished':
      return `hook ${text(data['event']) ?? '?'} ${data['ok'] === true ? 'passed' : 'failed'}`;
    case 'weights.applied':
      return `${text(data['listener']) ?? '?'} → ${formatRouting(data['split'])}`;
    case 'drained': {
      const abandoned = number(data['abandoned']);
      return `${text(data['group']) ?? '?'} drained${abandoned > 0 ? `, ${plural(abandoned, 'request')} cut off` : ''}`;
    }
    case 'instances.stopped':
      return `${plural(list(data['instances']).length, 'instance')} of ${text(data['releaseId']) ?? '?'} stopped`;
    case 'rollback.started':
      return 'rollback started';
    case 'bake.held':
      return "the bake's time is up; paused, so the new release is judged until resumed";
    case 'deployment.paused':
      return `paused by ${text(data['actor']) ?? '?'}`;
    case 'deployment.resumed':
      return `resumed by ${text(data['actor']) ?? '?'}`;
    case 'deployment.held':
      return 'paused: the next step waits for phoenix resume';
    case 'deployment.promoted':
      return `promoted by ${text(data['actor']) ?? '?'}`;
    case 'release.failing':
      return `the new release fails (${text(data['cause']) ?? '?'})`;
    case 'hooks.reaped':
      return `${plural(number(data['processes']), 'hook process')} left by a crash stopped`;
    case 'instances.restored':
      return `${plural(list(data['instances']).length, 'instance')} of ${text(data['group']) ?? '?'} started again after a restart`;
    case 'step.retry':
      return `${text(data['kind']) ?? 'step'} waits for the router, again in ${formatDuration(number(data['retryInMs']))}`;
    case 'rollback.retry':
      return `rollback waits for the router, again in ${formatDuration(number(data['retryInMs']))}`;
    case 'listener.removed':
      return `listener ${text(data['listener']) ?? '?'} removed`;
    case 'deployment.recovered':
      return `recovered after a restart: ${text(data['action']) ?? '?'}`;
    case 'deployment.finished':
      return text(data['to']) ?? 'finished';
    default:
      return event.type;
  }
}

/** `shop-dev-2 100%`, `shop-dev-2 10%, shop-dev-1 90%`; groups at 0% are left out. */
function formatRouting(value: unknown): string {
  const routed = list(value)
    .map(record)
    .filter((entry) => number(entry['weight']) > 0)
    .map((entry) => `${text(entry['group']) ?? '?'} ${number(entry['weight'])}%`);
  return routed.length === 0 ? 'nothing' : routed.join(', ');
}

function plural(count: number, noun: string): string {
  const many = noun.endsWith('s') ? `${noun}es` : `${noun}s`;
  return `${count} ${count === 1 ? noun : many}`;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function number(value: unknown): number {
  return typeof value === 'number' ? value : 0;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? Object.fromEntries(Object.entries(value))
    : {};
}
