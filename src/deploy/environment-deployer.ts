import type { EnvironmentConfig, PhoenixConfig } from '../config/phoenix-config.js';
import {
  ConflictError,
  NotFoundError,
  NotPermittedError,
  ValidationError,
} from '../shared/errors.js';
import type { DeploymentController, TeardownResult } from './deployment-controller.js';
import {
  isFinished,
  type Deployment,
  type DeploymentStrategy,
  type DeploymentTrigger,
} from './deployment.js';
import type { ListenerPorts, ListenerRegistry } from './listener-registry.js';

/** A service's phoenix.yml as committed: at a commit, and as its default branch has it now. */
export interface DeployConfigs {
  load(service: string, commit: string): Promise<PhoenixConfig>;
  /** At the head of the service's default branch; undefined when the branch does not exist. */
  current(service: string): Promise<PhoenixConfig | undefined>;
}

export interface EnvironmentDeployerOptions {
  controller: Pick<DeploymentController, 'deploy' | 'status' | 'abort' | 'history' | 'teardown'>;
  listeners: Pick<ListenerRegistry, 'record' | 'forget' | 'list'>;
  /** Resolves when the router can be driven; rejects saying why not (and what to do). */
  routerReady: () => Promise<void>;
  /** phoenix.yml as committed, for deployments asked for by hand. */
  configs: DeployConfigs;
  /** Throws NotFoundError. */
  releases: { get(id: string): { service: string; commit: string } };
}

export interface EnvironmentDeployInput {
  /** The phoenix.yml whose environment is deployed: the run's, or the service's current one. */
  config: PhoenixConfig;
  environment: string;
  releaseId: string;
  trigger: DeploymentTrigger;
  /** A person deploying by hand: a protected environment needs the approver or admin role. */
  person?: Person;
  /** Instead of the environment's strategy (a rollback goes all at once, unjudged). */
  strategy?: DeploymentStrategy;
}

export interface RollbackInput {
  service: string;
  environment: string;
  /** The release to go back to; the one that served before the current one when absent. */
  releaseId?: string;
  actor: string;
  /** The person asking, when a person asks: a protected environment needs approver or admin. */
  person?: Person;
}

/** Who acts by hand: a token's name and role. */
export interface Person {
  name: string;
  role: string;
}

/** Roles that may deploy to and roll back an environment by hand: any, or a protected one. */
const DEPLOYER_ROLES = ['developer', 'admin'];
const PROTECTED_ROLES = ['approver', 'admin'];

/**
 * Deploying or rolling back by hand needs the developer or admin role; on a protected
 * environment (as GitLab's), the approver or admin role instead.
 */
function assertMayAct(
  service: string,
  environment: Pick<EnvironmentConfig, 'name' | 'protected'>,
  person: Person,
  what: string,
): void {
  const roles = environment.protected ? PROTECTED_ROLES : DEPLOYER_ROLES;
  if (roles.includes(person.role)) return;
  const where = `${service} ${environment.name}`;
  throw new NotPermittedError(
    environment.protected
      ? `${where} is protected: ${what} by hand needs the approver or admin role (${person.name} is ${person.role})`
      : `${what} by hand needs the developer role (${person.name} is ${person.role})`,
  );
}

/** What `rollback` did: aborted the deployment in flight, or deployed an earlier release. */
export type RollbackResult =
  { kind: 'aborted'; deployment: Deployment } | { kind: 'deployed'; deployment: Deployment };

/** A rollback skips every analysis: all at once, no bake, nothing judged but health. */
const ROLLBACK_STRATEGY: DeploymentStrategy = {
  kind: 'all-at-once',
  bakeMs: 0,
  testListener: false,
};

/**
 * Deploys a release to an environment as phoenix.yml describes it: its listeners (recorded
 * in the registry, so that recovery finds them after a restart), strategy, instances and
 * variables. Refuses, before anything is recorded: an unknown environment, one without
 * listeners (naming the file, line and key), one with a deployment in flight, and a router
 * that cannot be driven — a deployment started then could not even be rolled back.
 */
export class EnvironmentDeployer {
  /** Services being deleted: their deployments are refused until they are gone. */
  private readonly goingAway = new Set<string>();

  constructor(private readonly o: EnvironmentDeployerOptions) {}

  async deploy(input: EnvironmentDeployInput): Promise<Deployment> {
    const { config, releaseId, trigger } = input;
    const { service } = config;
    if (this.goingAway.has(service)) {
      throw new ConflictError(`${service} is being deleted: nothing more is deployed`);
    }
    const environment = config.environments.find((e) => e.name === input.environment);
    if (environment === undefined) {
      throw new NotFoundError(
        `${service} has no environment ${input.environment} in ${config.file}`,
      );
    }
    if (input.person !== undefined) {
      const what = input.trigger.type === 'rollback' ? 'rolling it back' : 'deploying to it';
      assertMayAct(service, environment, input.person, what);
    }
    if (environment.listeners === undefined) {
      throw new ValidationError([
        {
          location: environment.location,
          key: `${environment.key}.listeners`,
          message: `${environment.name} has no listeners, so it cannot be deployed: add listeners: { production: PORT } (and test: PORT for test traffic)`,
        },
      ]);
    }
    const latest = this.o.controller.status(service, environment.name)[0]?.latest;
    if (latest !== undefined && !isFinished(latest.status)) {
      throw new ConflictError(
        `${service} ${environment.name} has deployment ${latest.id} in flight (${latest.status})`,
      );
    }
    await this.o.routerReady();
    this.o.listeners.record(service, environment.name, environment.listeners);
    return this.o.controller.deploy({
      service,
      environment: environment.name,
      releaseId,
      config,
      trigger,
      strategy: input.strategy ?? environment.strategy,
      env: environment.variables,
      secretEnv: environment.secretVariables,
      functionCommands: environment.hookCommands,
      instances: environment.instances,
      monitor: {
        alarms: environment.alarms,
        crashLoop: environment.crashLoop,
        retryCanaryErrors: environment.retryCanaryErrors,
      },
    });
  }

  /**
   * A deployment asked for by hand (`phoenix deploy`, `phoenix rollback`): the environment as
   * the service's phoenix.yml describes it now, at the head of its default branch — its
   * listeners, protection, strategy and alarms are the environment's, not the release's, so
   * an older release goes where the environment is today, to an environment added since it
   * was built, and never around a protection added since. The release brings its own start
   * and health-check settings. Without a default branch, the release's commit's phoenix.yml.
   */
  async deployRelease(input: Omit<EnvironmentDeployInput, 'config'>): Promise<Deployment> {
    const config = await this.environmentConfig(input.releaseId, {
      // A broken phoenix.yml on the default branch must not take the way back away.
      fallBackWhenInvalid: input.trigger.type === 'rollback',
    });
    return this.deploy({ ...input, config });
  }

  private async environmentConfig(
    releaseId: string,
    options: { fallBackWhenInvalid: boolean },
  ): Promise<PhoenixConfig> {
    const release = this.o.releases.get(releaseId);
    let current: PhoenixConfig | undefined;
    try {
      current = await this.o.configs.current(release.service);
    } catch (error) {
      if (!(options.fallBackWhenInvalid && error instanceof ValidationError)) throw error;
    }
    return current ?? (await this.o.configs.load(release.service, release.commit));
  }

  /**
   * The environments the service's phoenix.yml names now (default branch), in its order, with
   * their listener ports; none when there is no such branch or its phoenix.yml is invalid
   * (the run that brings it says why).
   */
  async environmentsOf(service: string): Promise<{ name: string; listeners?: ListenerPorts }[]> {
    let config: PhoenixConfig | undefined;
    try {
      config = await this.o.configs.current(service);
    } catch (error) {
      if (error instanceof ValidationError || error instanceof NotFoundError) return [];
      throw error;
    }
    return (config?.environments ?? []).map((environment) => ({
      name: environment.name,
      ...(environment.listeners === undefined ? {} : { listeners: environment.listeners }),
    }));
  }

  /**
   * Takes the service off this machine as it is deleted: deployments in flight aborted,
   * listeners closed, target groups removed, instances stopped, its ports freed for others.
   * Refused first (saying to start `phoenix router`), with nothing changed, when something is
   * deployed and the router cannot be driven. From the start until `steps.remove` has run,
   * every new deployment of the service is refused, so that nothing starts behind the
   * teardown: `steps.before` (cancelling runs) runs first, `steps.remove` (forgetting the
   * service) last.
   */
  async takeDown(
    service: string,
    actor: string,
    steps: { before: () => Promise<void>; remove: () => void },
  ): Promise<TeardownResult> {
    const deployed = this.hasDeployed(service);
    if (deployed) await this.o.routerReady();
    this.goingAway.add(service);
    try {
      await steps.before();
      let result: TeardownResult = {
        environments: [],
        listeners: 0,
        targetGroups: 0,
        instances: 0,
      };
      if (deployed || this.hasDeployed(service)) {
        const recorded = this.o.listeners
          .list()
          .filter((entry) => entry.service === service)
          .map((entry) => entry.environment);
        result = await this.o.controller.teardown(service, actor, recorded);
        this.o.listeners.forget(service);
      }
      steps.remove();
      return result;
    } finally {
      this.goingAway.delete(service);
    }
  }

  private hasDeployed(service: string): boolean {
    return (
      this.o.controller.status(service).length > 0 ||
      this.o.listeners.list().some((entry) => entry.service === service)
    );
  }

  /**
   * `phoenix rollback`: production back to an earlier release now, skipping analysis. With a
   * deployment in flight, that is aborting it (production returns to what served before it,
   * in one router change). Otherwise the earlier release (the one that served before the
   * current one, or `releaseId`) is deployed all at once, without bake or alarms; its
   * instances start afresh if they are gone. ConflictError when there is nothing earlier.
   */
  async rollback(input: RollbackInput): Promise<RollbackResult> {
    const { service, environment, actor } = input;
    const latest = this.o.controller.status(service, environment)[0]?.latest;
    if (latest !== undefined && !isFinished(latest.status)) {
      if (input.person !== undefined)
        await this.assertMayAct(latest.releaseId, environment, input.person);
      if (input.releaseId !== undefined && input.releaseId !== latest.previousReleaseId) {
        throw new ConflictError(
          `${service} ${environment} has deployment ${latest.id} in flight (${latest.status}): abort it first (phoenix abort), then roll back to ${input.releaseId}`,
        );
      }
      return { kind: 'aborted', deployment: await this.o.controller.abort(latest.id, actor) };
    }
    const serving = latest?.servingReleaseId;
    const target = input.releaseId ?? this.releaseBefore(service, environment, serving);
    if (target === undefined) {
      throw new ConflictError(
        `${service} ${environment} has no earlier release to roll back to: name one with --to`,
      );
    }
    const deployment = await this.deployRelease({
      environment,
      releaseId: target,
      trigger: {
        type: 'rollback',
        actor,
        ...(serving === undefined ? {} : { detail: `from ${serving}` }),
      },
      strategy: ROLLBACK_STRATEGY,
      ...(input.person === undefined ? {} : { person: input.person }),
    });
    return { kind: 'deployed', deployment };
  }

  /** Refuses a person who may not roll back the environment (see assertMayAct). */
  private async assertMayAct(
    releaseId: string,
    environment: string,
    person: Person,
  ): Promise<void> {
    const config = await this.environmentConfig(releaseId, { fallBackWhenInvalid: true });
    const found = config.environments.find((e) => e.name === environment);
    if (found !== undefined) assertMayAct(config.service, found, person, 'rolling it back');
  }

  /** The newest release that served the environment successfully before `current`. */
  private releaseBefore(
    service: string,
    environment: string,
    current: string | undefined,
  ): string | undefined {
    return this.o.controller
      .history(service, environment)
      .find((d) => d.status === 'succeeded' && d.releaseId !== current)?.releaseId;
  }
}
