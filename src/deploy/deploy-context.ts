import type { Runtime } from '../runtime/runtime.js';
import { ConflictError } from '../shared/errors.js';
import type { ListenerSpec, TrafficRouter } from '../router/traffic-router.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { LocalAccounts } from './local-accounts.js';
import type { NewDeploymentEvent, ReleaseSource } from './ports.js';
import type { Holds } from './holds.js';
import type { Promotions } from './promotions.js';

/** An environment's listeners: production traffic, and (optionally) the test port for validation. */
export interface EnvironmentListeners {
  production: ListenerSpec;
  /** Without it, nothing routes to a new release before production does (no `route-test`). */
  test?: ListenerSpec;
}

/** What the steps of a deployment work with; assembled once by the controller. */
export interface DeployContext {
  runtime: Runtime;
  router: TrafficRouter;
  releases: ReleaseSource;
  clock: Clock;
  logger: Logger;
  listenersFor(service: string, environment: string): EnvironmentListeners;
  /** Hook output goes to `<logDirectory>/<deployment id>.log`. */
  logDirectory: string;
  drainTimeoutMs: number;
  /** Time between SIGTERM and SIGKILL when old instances stop; the runtime's default if unset. */
  stopGraceMs?: number;
  accounts: LocalAccounts;
  /** Where hooks' allowlisted host variables (PATH, HOME, locale) come from. */
  hostEnv: NodeJS.ProcessEnv;
  /** Grants of `phoenix promote`, for the steps that wait on them. */
  promotions: Promotions;
  /** Deployments paused by a person: no next step, and a held bake goes on judging. */
  holds: Holds;
  /** Phoenix's secrets, for `{ secret: NAME }` variables; undefined when absent (or no store). */
  secret?(name: string, scope: { service: string; environment: string }): string | undefined;
  /** Appends to the deployment's timeline. */
  note(deploymentId: string, event: NewDeploymentEvent): void;
}

/** A step's result: failures that are the release's (a hook, health), not Phoenix's. */
export type StepOutcome =
  { ok: true } | { ok: false; reason: string; data?: Record<string, unknown> };

export const OK: StepOutcome = { ok: true };

/**
 * The environment's variables with its secret ones resolved, for instances and hooks. A
 * secret that is not set fails the step, saying how to set it.
 */
export function environmentOf(
  context: Pick<DeployContext, 'secret'>,
  deployment: {
    service: string;
    environment: string;
    target: { env: Record<string, string>; secretEnv?: Record<string, string> };
  },
): Record<string, string> {
  const env = { ...deployment.target.env };
  for (const [variable, name] of Object.entries(deployment.target.secretEnv ?? {})) {
    const value = context.secret?.(name, deployment);
    if (value === undefined) throw new MissingSecretError(deployment, variable, name);
    env[variable] = value;
  }
  return env;
}

/** The values of the environment's secret variables, for masking what hooks print. */
export function secretValuesOf(
  context: Pick<DeployContext, 'secret'>,
  deployment: {
    service: string;
    environment: string;
    target: { secretEnv?: Record<string, string> };
  },
): string[] {
  return Object.values(deployment.target.secretEnv ?? {}).flatMap(
    (name) => context.secret?.(name, deployment) ?? [],
  );
}

export class MissingSecretError extends ConflictError {
  constructor(where: { service: string; environment: string }, variable: string, name: string) {
    super(
      `${where.service} ${where.environment}: variable ${variable} names secret ${name}, which is not set: phoenix secret set ${name} --service ${where.service} --env ${where.environment}`,
    );
  }
}
