import { checkAppspec } from '../config/appspec-check.js';
import type { PlannedHook } from '../config/appspec-hooks.js';
import type { FunctionCommand } from '../config/appspec.js';
import type { PhoenixConfig } from '../config/phoenix-config.js';
import { ConflictError, NotFoundError, UnsupportedError } from '../shared/errors.js';
import { environmentOf, type DeployContext } from './deploy-context.js';
import type { DeploymentStrategy, DeploymentTrigger } from './deployment.js';
import { hookPoints, plannedHooks } from './deployment-hooks.js';
import type { DeployableRelease, DeploymentStore, NewDeployment } from './ports.js';
import { loadReleaseAppspec, machineContext, previousAppspec } from './release-appspec.js';
import { releaseMonitor } from './release-monitor.js';
import { planDeployment } from './strategies/plan.js';
import { healthCheckSpec, targetGroupName } from './target-group.js';

const STRATEGY_NAMES = {
  'all-at-once': 'all-at-once',
  'blue-green': 'blue/green',
  canary: 'canary',
  linear: 'linear',
} as const;

export interface DeployInput {
  service: string;
  environment: string;
  releaseId: string;
  /** The service's phoenix.yml: names the environment, and starts releases that carry no settings. */
  config: PhoenixConfig;
  trigger: DeploymentTrigger;
  /** All at once unless given (phoenix.yml's `strategy` of the environment). */
  strategy?: DeploymentStrategy;
  /** The environment's variables, for instances and hooks. */
  env?: Record<string, string>;
  /** Variables whose values are Phoenix secrets (variable → secret name). */
  secretEnv?: Record<string, string>;
  /** Instances to run; the release's `instances` unless given (phoenix.yml's environment `instances`). */
  instances?: number;
  /** Commands for the Lambda function names of ECS-style hooks (phoenix.yml's mapping). */
  functionCommands?: Record<string, FunctionCommand>;
  /** How the new release is judged on live traffic; Phoenix's defaults unless given. */
  monitor?: Parameters<typeof releaseMonitor>[0];
}

/**
 * Turns a request into a deployment to record, refusing before anything runs what cannot
 * work: an unknown environment or release, a release of another service or the one already
 * serving, test traffic for an environment without a test listener, an appspec Phoenix
 * cannot honour (every issue at once, with file, line and key).
 */
export async function prepareDeployment(
  context: DeployContext,
  store: DeploymentStore,
  input: DeployInput,
): Promise<NewDeployment> {
  const { service, environment } = input;
  if (!input.config.environments.some((e) => e.name === environment)) {
    throw new NotFoundError(`${service} has no environment ${environment} in ${input.config.file}`);
  }
  const release = await context.releases.get(input.releaseId);
  if (release.service !== service) {
    throw new ConflictError(`release ${release.id} belongs to ${release.service}, not ${service}`);
  }
  const settings = release.config ?? input.config.release;
  if (settings === undefined) {
    throw new ConflictError(`${service} has no release settings (phoenix.yml release.start)`);
  }
  const previousReleaseId = store.servingRelease(service, environment);
  if (previousReleaseId === release.id) {
    throw new ConflictError(`release ${release.id} already serves ${service} in ${environment}`);
  }
  const previous =
    previousReleaseId === undefined ? undefined : await context.releases.get(previousReleaseId);
  const strategy = input.strategy ?? { kind: 'all-at-once', bakeMs: 0, testListener: false };
  if (strategy.testListener) {
    if (context.listenersFor(service, environment).test === undefined) {
      throw new ConflictError(
        `${service} ${environment} has no test listener for ${STRATEGY_NAMES[strategy.kind]}'s test traffic (listeners.test)`,
      );
    }
  }
  // Refused now, not at the start of an instance: every secret the environment names is set.
  environmentOf(context, {
    service,
    environment,
    target: { env: {}, ...(input.secretEnv === undefined ? {} : { secretEnv: input.secretEnv }) },
  });
  const functionCommands = input.functionCommands ?? {};
  const hooks = await hooksOf(context, { release, previous, strategy, functionCommands });
  return {
    service,
    environment,
    releaseId: release.id,
    ...(previous === undefined ? {} : { previousReleaseId: previous.id }),
    strategy,
    plan: planDeployment(strategy, {
      previous: previous !== undefined,
      hookPoints: hookPoints(hooks),
    }),
    target: {
      releaseNumber: release.number,
      ...(release.commit === undefined ? {} : { commit: release.commit }),
      group: targetGroupName(service, environment, release.number),
      ...(previous === undefined
        ? {}
        : { previousGroup: targetGroupName(service, environment, previous.number) }),
      command: settings.start,
      portEnv: settings.portEnv,
      instances: input.instances ?? settings.instances,
      healthCheck: healthCheckSpec(settings.healthCheck),
      env: input.env ?? {},
      ...(input.secretEnv === undefined || Object.keys(input.secretEnv).length === 0
        ? {}
        : { secretEnv: input.secretEnv }),
      functionCommands,
      monitor: releaseMonitor(input.monitor ?? {}),
    },
    trigger: input.trigger,
  };
}

async function hooksOf(
  context: DeployContext,
  input: {
    release: DeployableRelease;
    previous: DeployableRelease | undefined;
    strategy: DeploymentStrategy;
    functionCommands: Record<string, FunctionCommand>;
  },
): Promise<PlannedHook[]> {
  const directory = await context.releases.directory(input.release.id);
  const spec = await loadReleaseAppspec(directory);
  if (spec === undefined) return [];
  const issues = await checkAppspec(
    spec,
    machineContext(directory, context.accounts, input.functionCommands),
  );
  if (issues.length > 0) throw new UnsupportedError(issues);
  const previous =
    input.previous === undefined
      ? undefined
      : await previousAppspec(context.releases, input.previous.id);
  return plannedHooks(spec, previous);
}
