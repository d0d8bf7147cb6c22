import type { SourceLocation, ValidationIssue } from '../shared/errors.js';
import {
  DEFAULT_BAKE_MS,
  DEFAULT_STRATEGY,
  type RawEnvironment,
  type RawStrategy,
} from './environment-schema.js';
import { keyName, type YamlSource } from './yaml-source.js';

/**
 * How production moves to a new release. The same shape as the deployment's own strategy
 * (deploy/deployment.ts): canary and linear join both unions together (issue 5).
 */
export type StrategyConfig =
  | { kind: 'all-at-once' }
  | {
      kind: 'blue-green';
      /** How long the previous release stays up, idle, after production moved. */
      bakeMs: number;
      /** Route the test listener to the new release (and run its hooks) before production. */
      testListener: boolean;
    };

/** The router's listeners for an environment: where its traffic comes in. */
export interface ListenersConfig {
  production: number;
  /** Validation traffic to the new release before production moves; none when absent. */
  test?: number;
}

export interface EnvironmentConfig {
  name: string;
  /** Branches that deploy here; undefined: every branch that triggered a run. */
  branches?: string[];
  /** Instances of the release here; release.instances unless set. */
  instances: number;
  /** Required to deploy; an environment without them is reported (a warning, then the deploy stage fails). */
  listeners?: ListenersConfig;
  strategy: StrategyConfig;
  /** Given to the instances (and hooks) as environment variables. */
  variables: Record<string, string>;
  key: string;
  location: SourceLocation;
}

/** The model of environment `index`, every default filled in; warnings are appended. */
export function environmentModel(
  source: YamlSource,
  raw: RawEnvironment,
  context: { index: number; releaseInstances: number; warnings: ValidationIssue[] },
): EnvironmentConfig {
  const path = ['environments', context.index];
  const listeners =
    raw.listeners?.production === undefined
      ? undefined
      : {
          production: raw.listeners.production,
          ...(raw.listeners.test === undefined ? {} : { test: raw.listeners.test }),
        };
  if (listeners === undefined) {
    context.warnings.push(
      source.issue(
        path,
        `${raw.name} has no listeners, so it cannot be deployed: add listeners: { production: PORT }`,
      ),
    );
  }
  return {
    name: raw.name,
    branches: raw.branches ?? undefined,
    instances: raw.instances ?? context.releaseInstances,
    ...(listeners === undefined ? {} : { listeners }),
    strategy: strategyModel(raw.strategy, listeners),
    variables: { ...raw.variables },
    key: keyName(path),
    location: source.locate(path),
  };
}

/** Blue/green routes test traffic first when the environment has a test listener, unless told not to. */
function strategyModel(
  raw: RawStrategy | undefined,
  listeners: ListenersConfig | undefined,
): StrategyConfig {
  const type = raw?.type ?? DEFAULT_STRATEGY;
  if (type === 'all-at-once') return { kind: 'all-at-once' };
  return {
    kind: 'blue-green',
    bakeMs: raw?.bake ?? DEFAULT_BAKE_MS,
    testListener: raw?.['test-traffic'] ?? listeners?.test !== undefined,
  };
}
