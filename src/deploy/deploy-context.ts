import type { Runtime } from '../runtime/runtime.js';
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
  /** Appends to the deployment's timeline. */
  note(deploymentId: string, event: NewDeploymentEvent): void;
}

/** A step's result: failures that are the release's (a hook, health), not Phoenix's. */
export type StepOutcome =
  { ok: true } | { ok: false; reason: string; data?: Record<string, unknown> };

export const OK: StepOutcome = { ok: true };
