import pc from 'picocolors';
import { describeMs } from '../config/schema-parts.js';
import type { DeploymentEvent, DeploymentStatus } from '../deploy/deployment.js';
import { describeDeploymentEvent } from '../deploy/deployment-timeline.js';
import type {
  DeploymentView,
  EnvironmentStatusView,
  UndeployedEnvironmentView,
} from '../deploy/deployment-view.js';
import type { Colors } from './api-command.js';
import { formatAge, type OutputContext } from './run-output.js';

type StatusColor = 'green' | 'red' | 'blue' | 'yellow' | 'dim';

const STATUS_COLORS: Record<DeploymentStatus, StatusColor> = {
  pending: 'dim',
  starting: 'blue',
  testing: 'blue',
  shifting: 'blue',
  baking: 'blue',
  paused: 'yellow',
  draining: 'blue',
  'rolling-back': 'yellow',
  succeeded: 'green',
  failed: 'red',
  'rolled-back': 'red',
  aborted: 'yellow',
};

export function colorDeploymentStatus(status: DeploymentStatus, colors: Colors = pc): string {
  return colors[STATUS_COLORS[status]](status);
}

/** `blue-green (bake 5m)`, `canary 10% for 1m (bake 5m)` in a few words. */
function strategyOf(deployment: DeploymentView): string {
  const { strategy } = deployment;
  const bake = strategy.bakeMs > 0 ? `bake ${describeMs(strategy.bakeMs)}` : '';
  const extras = [
    bake,
    strategy.testListener ? 'test traffic first' : '',
    'manualPromote' in strategy && strategy.manualPromote ? 'promoted by hand' : '',
  ].filter((part) => part !== '');
  const details = extras.length === 0 ? '' : ` (${extras.join(', ')})`;
  switch (strategy.kind) {
    case 'all-at-once':
      return `all-at-once${details}`;
    case 'blue-green':
      return `blue-green${details}`;
    case 'canary':
      return `canary ${strategy.percent}% for ${describeMs(strategy.intervalMs)}${details}`;
    case 'linear':
      return `linear +${strategy.percent}% every ${describeMs(strategy.intervalMs)}${details}`;
  }
}

/** `pipeline run shop #2`, `manual by alice`. */
function triggerOf(deployment: DeploymentView): string {
  const { trigger } = deployment;
  if (trigger.type === 'pipeline') return trigger.detail ?? `pipeline run ${trigger.runId ?? ''}`;
  return `${trigger.type} by ${trigger.actor}`;
}

/** `12:00:01.250  starting: start the new release` */
export function formatTimelineLine(event: DeploymentEvent, colors: Colors = pc): string {
  const time = colors.dim(event.time.slice(11, 23));
  const text = describeDeploymentEvent(event);
  const failed = event.type === 'rollback.started' || event.data['ok'] === false;
  return `${time}  ${failed ? colors.yellow(text) : text}`;
}

/** The line `phoenix deploy` prints once the deployment is recorded. */
export function formatDeploymentStarted(deployment: DeploymentView, colors: Colors = pc): string {
  return `Deploying ${colors.bold(`${deployment.service} release #${deployment.releaseNumber}`)} (${deployment.releaseId}) to ${colors.bold(deployment.environment)}, ${strategyOf(deployment)}: ${deployment.id}`;
}

/** The last line `phoenix deploy --follow` prints. */
export function formatDeploymentEnd(deployment: DeploymentView, colors: Colors = pc): string {
  const reason = deployment.reason === undefined ? '' : `: ${deployment.reason}`;
  const end = `Deployment ${deployment.id} ${colorDeploymentStatus(deployment.status, colors)}${reason}`;
  // A hook's own words are in the deployment's log, not on the timeline.
  return deployment.reason?.startsWith('hook failed') === true
    ? `${end}\n  the hook's output: phoenix deployment log ${deployment.id}`
    : end;
}

/** An environment phoenix.yml names that has no deployment yet, and the gate it waits at. */
export function formatUndeployedEnvironment(
  view: UndeployedEnvironmentView,
  service: string,
  context: OutputContext,
): string {
  const colors = context.colors ?? pc;
  const { listeners, waitingApproval: gate } = view;
  const ports =
    listeners === undefined
      ? '  (no listeners: it cannot be deployed)'
      : `  production :${listeners.production}${listeners.test === undefined ? '' : `, test :${listeners.test}`}`;
  const lines = [`${colors.bold(`${service} ${view.environment}`)}  not deployed yet${ports}`];
  if (gate !== undefined) {
    lines.push(
      `  ${colors.yellow('waits for approval')}  ${gate.approvals} of ${gate.required}, run ${service} #${gate.runNumber}, until ${gate.expiresAt}  (phoenix approve ${service} --env ${view.environment})`,
    );
  }
  return lines.join('\n');
}

/**
 * One environment for a person: what serves and where, then the latest deployment with its
 * timeline, each event with its time and, when it says, its reason.
 */
export function formatEnvironmentStatus(
  view: EnvironmentStatusView,
  service: string,
  context: OutputContext,
): string {
  const colors = context.colors ?? pc;
  const { latest, servingRelease, listeners } = view;
  const serving =
    servingRelease === undefined
      ? 'nothing serves yet'
      : `serving release #${servingRelease.number ?? '?'} (${servingRelease.id})`;
  const ports =
    listeners === undefined
      ? ''
      : `  production :${listeners.production}${listeners.test === undefined ? '' : `, test :${listeners.test}`}`;
  const lines = [
    `${colors.bold(`${service} ${view.environment}`)}  ${serving}${ports}`,
    `  latest  ${latest.id}  release #${latest.releaseNumber}, ${strategyOf(latest)}: ${colorDeploymentStatus(latest.status, colors)}  (${triggerOf(latest)}, ${formatAge(latest.createdAt, context.now)})`,
  ];
  if (latest.reason !== undefined) lines.push(`  reason  ${latest.reason}`);
  lines.push(...latest.timeline.map((event) => `    ${formatTimelineLine(event, colors)}`));
  return lines.join('\n');
}
